/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the bulk import/export integration tests: a context with a key file of its
 * own, imports of YAML text through the library, direct SQL for checks the API does not
 * offer, and running the built pbxctl through a shell for pipelines.
 */
#ifndef PBX_BULK_ITEST_H
#define PBX_BULK_ITEST_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/bulk.h"
#include "pbx/config.h"
#include "pbx/pbx.h"
#include "pbx/schema.h"

extern struct pbx_config bi_cfg;
extern pbx_ctx *bi_ctx;

/* Criterion .init / .fini: a migrated database and a fresh key file. */
void bi_setup(void);
void bi_teardown(void);

/* A fresh slug for this test. */
void bi_slug(char slug[32], const char *prefix);

/* The result of one import. */
struct bi_result {
	int r;                      /* pbx_bulk_parse or pbx_bulk_import code */
	bool changed;
	pbx_diag diag;
	struct pbx_rows summary, changes;
};

/*
 * Import @text (a printf format, with the slug arguments) through the library.
 * Free with bi_free.
 */
void bi_import(struct bi_result *res, bool dry_run, bool prune, const char *secrets_out,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void bi_free(struct bi_result *res);

/* A summary count ("users_created") as a number. */
long bi_count(const struct bi_result *res, const char *key);

/* The first problem whose message contains @needle, or NULL. */
const pbx_error *bi_problem(const struct bi_result *res, const char *needle);

/* The first value of a one-row query with up to two text parameters (malloc'd; "" when none). */
char *bi_sql(const char *sql, const char *p1, const char *p2);
long bi_sql_long(const char *sql, const char *p1, const char *p2);

/* Run "sh -c @cmd" where $P is the built pbxctl with -c the test config; returns the exit
 * status. stdout and stderr are malloc'd (may be NULL). */
int bi_sh(char **ret_out, char **ret_err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write @text to a new temp file, removed at teardown; returns its path (a static buffer,
 * overwritten by the next call). */
const char *bi_file(const char *text);

#endif
