/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the apply integration tests (apply-itest.c): testenv's site (a private
 * directory with the AMI peer), a context whose config points at it, and one tenant @slug
 * (range 100-199).
 */
#ifndef APPLY_ITEST_H
#define APPLY_ITEST_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/apply.h"
#include "pbx/pbx.h"

extern struct pbx_config cfg;
extern pbx_ctx *ctx;
extern char dir[64], slug[32];
extern int peer_port;

/* @name inside the private directory (one of four rotating static buffers). */
char *path_in(const char *name);
/* The directory, the peer and a context pointed at them (no database touched yet). */
void setup_peer_ctx(void);
/* Replace the peer's control file atomically; it re-reads it before every action. */
void control(const char *text);
void setup(void);
void teardown(void);
/* A user of @slug with voicemail and @devices devices ("phone 0", ...). */
void add_user(const char *username, int devices);
/* Apply @slug (a dry run when @dry). */
int run(bool dry, struct pbx_apply_result *res, pbx_error *err);
int count_in(const char *text, const char *needle);
/* Rows pbxctl owns for @slug in MariaDB. */
size_t realtime_rows(void);
/* A pbxctl.conf for the CLI with the context's settings; its path (static buffer). */
const char *conf_file(void);
/* The marker Asterisk (the peer) holds for @slug. */
void peer_marker(char *buf, size_t n);

/* Wait up to 10 s until the peer's action log holds @needle @times times. */
bool wait_for_peer_log(const char *needle, int times);

#endif
