/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the user and device integration tests: a context with a key file of its own,
 * a fresh tenant per test, users and devices made through the library, and direct SQL for
 * the checks (and the tampering) that the API does not offer.
 */
#ifndef PBX_USER_TEST_H
#define PBX_USER_TEST_H

#include <stdbool.h>

#include "pbx/config.h"
#include "pbx/pbx.h"
#include "pbx/schema.h"

extern struct pbx_config ut_cfg;
extern pbx_ctx *ut_ctx;
/* The key file of ut_cfg, created by ut_setup in a directory of its own. */
extern char ut_key_path[256];

/* Criterion .init / .fini: context on the test database, migrated, with a fresh key. */
void ut_setup(void);
void ut_teardown(void);

/* A new tenant with extension range @range; returns its slug (static buffer per call site). */
void ut_tenant(char slug[32], const char *prefix, const char *range);

/* Create a user (@ext NULL = allocate) and return its extension in @ret_ext (may be NULL). */
void ut_user(const char *tenant, const char *username, const char *ext, char ret_ext[16]);

/* Create a device; @ret_secret (may be NULL) receives the plaintext shown once. */
void ut_device(const char *tenant, const char *user, const char *label, char ret_secret[64]);

/* The first value of a one-row query with up to two text parameters (malloc'd). */
char *ut_sql(const char *sql, const char *p1, const char *p2);

/* How many audit rows @tenant has (of @action when not NULL). */
long ut_audit_count(const char *tenant, const char *action);

#endif
