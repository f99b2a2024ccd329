/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the realtime integration tests: connecting to the test MariaDB named by the
 * PBXCTL_TEST_MARIADB_* variables (a missing variable or server fails the test, never skips
 * it), a raw client connection to look at and tamper with the tables behind pbxctl's back,
 * and per-test tenant slugs.
 */
#ifndef RT_TEST_H
#define RT_TEST_H

#include <stddef.h>

#include <mysql.h>

#include "pbx/realtime.h"

/* The configuration from the environment; fails the test when a variable is missing. */
struct pbx_realtime_config rt_test_config(void);
/* pbx_realtime_connect + pbx_realtime_migrate, asserting success. */
pbx_realtime *rt_test_connect(void);
/* A plain client connection (autocommit on) for direct SQL. */
MYSQL *rt_test_raw(void);
/* Run @sql with @n string parameters (NULL = SQL NULL); assert success. */
void rt_test_exec(MYSQL *m, const char *sql, const char *const *params, size_t n);
/* Same, but return mysql_stmt_errno (0 on success) instead of asserting. */
unsigned rt_test_try(MYSQL *m, const char *sql, const char *const *params, size_t n);
/*
 * Run a query and return its rows as text: fields joined by '|', NULL as "NULL", each row
 * ending in '\n'. Caller frees.
 */
char *rt_test_query(MYSQL *m, const char *sql, const char *const *params, size_t n);
/* A tenant slug unique to this test process: "<name>-<pid>". */
void rt_test_slug(char *buf, size_t size, const char *name);
/* Remove every row whose id starts with "<slug>-" from the managed tables and ownership. */
void rt_test_clean(MYSQL *m, const char *slug);
/*
 * Every row of the managed tables whose id starts with "<slug>-" (all columns), then the
 * ownership records of those ids, as text. Caller frees.
 */
char *rt_test_tenant_state(MYSQL *m, const char *slug);

#endif
