/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up for integration tests: a context on the private PostgreSQL (and MariaDB)
 * that scripts/services started, with the schema migrated, and unique tenant slugs so that
 * tests never collide. Missing services make the test FAIL, never skip.
 */
#ifndef PBX_TESTENV_H
#define PBX_TESTENV_H

#include <stddef.h>

#include <stdbool.h>

#include "pbx/config.h"
#include "pbx/pbx.h"
#include "peerproc.h"

/* A new context over a config read from the PBXCTL_TEST_* environment, with the PostgreSQL
 * schema migrated. Aborts the test (cr_fatal) when the services are missing. Free both
 * with testenv_free. */
pbx_ctx *testenv_ctx(struct pbx_config *cfg);
void testenv_free(pbx_ctx *ctx, struct pbx_config *cfg);

/* "<prefix>-<pid>-<counter>" cut to a valid slug of at most 24 characters. */
const char *testenv_slug(const char *prefix);

/* Write a pbxctl.conf for the test services into a new temp dir; returns its path (static
 * buffer). Includes a key_file path in the same dir (not created). */
const char *testenv_config_file(void);

/*
 * Run the built pbxctl ($PBXCTL_BIN) with -c testenv_config_file() and the given
 * arguments (NULL-terminated); captures stdout and stderr (malloc'd, caller frees) and
 * returns the exit status.
 */
int testenv_run(char **ret_out, char **ret_err, const char *arg, ...);

/* The same config file with the database URL's user set to @login (a path in a static
 * buffer), and testenv_run as that login: how the role tests connect as an operator. */
const char *testenv_config_file_as(const char *login);
int testenv_run_as(const char *login, char **ret_out, char **ret_err, const char *arg, ...);
/*
 * The same with the config file @conf, no PBXCTL_* variable of the test's environment
 * (only the file speaks), and @env ("NAME=value", or NULL) added.
 */
int testenv_run_conf(const char *conf, const char *env, char **ret_out, char **ret_err,
		     const char *arg, ...);

/* A /32 that no other test process uses (trunk ranges of different owners may not overlap). */
const char *testenv_unique_match(void);
/* Give tenant @slug a trunk "em" of its own as its emergency trunk: apply refuses a tenant
 * whose phones could not call an emergency number. */
void testenv_emergency_route(pbx_ctx *ctx, const char *slug);

/*
 * A test's site: a private directory "/tmp/pbxctl-<tag>-XXXXXX" and, when asked for, the AMI
 * peer with its files in it (peerproc.h: dialplan/, log, control, contacts, registrations;
 * login pbxctl / secret). The one set-up of the suites that apply or ask Asterisk.
 */
struct testenv_site {
	char dir[64];
	struct peerproc peer;   /* .pid -1 without a peer */
};

/* Make the directory and, with @peer, start the peer (@peer_extra: more amipeer arguments,
 * NULL-terminated, may be NULL). */
void testenv_site_open(struct testenv_site *s, const char *tag, bool peer,
		       const char *const *peer_extra);
/* Stop the peer and remove the directory. */
void testenv_site_close(struct testenv_site *s);
/* "<dir>/<name>" (one of eight rotating static buffers). */
const char *testenv_site_path(const struct testenv_site *s, const char *name);
/* Point @cfg at the site: asterisk.config_dir (the peer's dialplan directory), voicemail_dir,
 * backup_dir, diag.cache_dir, and the peer's AMI port and secret (timeout 2 s). */
void testenv_site_config(const struct testenv_site *s, struct pbx_config *cfg);
/* testenv_ctx on @cfg, pointed at the site, with a new key file "<dir>/key". */
pbx_ctx *testenv_site_ctx(const struct testenv_site *s, struct pbx_config *cfg);

/* A whole file (malloc'd), or NULL when it cannot be read. */
char *testenv_read_file(const char *path);

#endif
