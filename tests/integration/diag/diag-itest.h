/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the diag integration tests: a tenant on the private PostgreSQL and
 * MariaDB, an AMI peer, private config, voicemail, backup and cache directories, and the
 * built pbxctl pointed at all of them.
 */
#ifndef TEST_DIAG_ITEST_H
#define TEST_DIAG_ITEST_H

#include "pbx/config.h"
#include "pbx/pbx.h"
#include "testenv.h"

struct diag_env {
	struct pbx_config cfg;
	pbx_ctx *ctx;
	struct testenv_site site;   /* the private directory and the AMI peer */
	char slug[32];
};

void diag_env_setup(struct diag_env *e);
void diag_env_teardown(struct diag_env *e);

/* A user of the env's tenant with @devices devices labelled "phone 0", "phone 1", ... */
void diag_add_user(struct diag_env *e, const char *username, int devices);
/* The SIP username of a device (a static buffer, one of four in rotation). */
const char *diag_sip_username(struct diag_env *e, const char *user, const char *label);
/* testenv_run with the env's AMI peer, directories and cache in the environment. */
int diag_run(struct diag_env *e, char **ret_out, char **ret_err, const char *arg, ...);
/* "@dir/@name" (a static buffer, one of four in rotation). */
const char *diag_path(struct diag_env *e, const char *name);

#endif
