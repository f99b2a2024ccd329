/* SPDX-License-Identifier: MIT */
/*
 * The shared harness of the apply integration tests (apply-itest.c): set-up and tear-down
 * for a Criterion suite, the AMI peer's control file, and readers of files, rows and markers.
 */
#ifndef PBX_APPLY_ITEST_H
#define PBX_APPLY_ITEST_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/apply.h"
#include "pbx/config.h"
#include "pbx/pbx.h"
#include "testenv.h"

/* The test's configuration and context; its private directory; its tenant; the peer port. */
extern struct pbx_config cfg;
extern pbx_ctx *ctx;
extern char dir[64], slug[32];
extern int peer_port;

/* Criterion .init / .fini: directories dp (dialplan), vm, backup under dir, the peer, a
 * key file, a tenant. */
void apply_itest_setup(void);
void apply_itest_teardown(void);

/* @name inside the test's directory (one of four rotating static buffers). */
char *path_in(const char *name);
/* Replace the peer's control file atomically with @text. */
void control(const char *text);
/* A user with voicemail and @devices devices labelled "phone N". */
void add_user(const char *username, int devices);
/* pbx_apply of the test tenant. */
int run(bool dry, struct pbx_apply_result *res, pbx_error *err);
/* The whole file (malloc'd), or NULL. */
char *read_all(const char *path);
int count_in(const char *text, const char *needle);
/* Rows pbxctl owns for the test tenant in MariaDB. */
size_t realtime_rows(void);
/* The marker Asterisk (the peer) holds for the test tenant. */
void peer_marker(char *buf, size_t n);
/* A pbxctl.conf for the built binary with the test's settings; returns its path. */
const char *write_config(void);
/* Wait up to 10 s until the peer's action log holds @needle @times times. */
bool wait_for_peer_log(const char *needle, int times);

#endif
