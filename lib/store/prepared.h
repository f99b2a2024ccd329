/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: the prepared statements of user and device changes (prepared.c). Each
 * slot has exactly one SQL text, prepared the first time a connection runs it; the end of
 * a change whose statement appends its own audit row; and the one-round-trip fast path of
 * plain creates.
 */
#ifndef PBX_STORE_PREPARED_H
#define PBX_STORE_PREPARED_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "pg.h"

/*
 * The statements on the path of every create, prepared once per connection (the plans of
 * these joins cost more than running them). Each slot has exactly one SQL text.
 */
enum store_stmt {
	STMT_USER_FINISH,
	STMT_DEVICE_FINISH,
	STMT_USER_CREATE_LOCK,
	STMT_USER_ALLOC_NEXT,
	STMT_USER_INSERT,
	STMT_DEVICE_CREATE_LOCK,
	STMT_DEVICE_INSERT,
	STMT_USER_PLAIN,
	STMT_DEVICE_PLAIN,
	STMT_TX_SETTINGS,
	STMT_MAX_,
};

/*
 * Like pbx_pg_query, but through the prepared statement @slot, which is prepared from
 * @sql the first time this connection runs it.
 */
PGresult *store_stmt(PGconn *pg, enum store_stmt slot, const char *sql, int n,
		     const char *const *params, const char *object, pbx_error *err);

/* BEGIN a change (with the plan settings of its prepared statements). */
int store_tx_begin(PGconn *pg, pbx_error *err);

/*
 * The fast path of the creates. A plain create (the usual one: nothing taken, nothing
 * missing) is one prepared statement per object calling a function of migration 0006,
 * which raises SQLSTATE PBX01 before writing anything when the create is not plain. The
 * statements of a change go to the server in one round trip with BEGIN and COMMIT.
 */
#define STORE_STEP_PARAMS 14
struct store_step {
	enum store_stmt slot;
	const char *sql;
	int n;
	const char *params[STORE_STEP_PARAMS];
};

/*
 * Run @steps (at most 1 + PBX_DEVICE_MAX_PER_USER) in one transaction, sent at once with
 * BEGIN and COMMIT (libpq pipeline mode), and append the one row of steps[i] to rows[i].
 * 0: committed. 1: not committed, nothing written (a step declined or failed, or the
 * connection cannot pipeline): the caller takes its general path, which reports any
 * problem as it always has. PBX_ERROR: committed, but out of memory reading the rows.
 */
int store_fast(PGconn *pg, const struct store_step *steps, size_t n,
	       struct pbx_rows *const *rows, pbx_error *err);

/*
 * The end of a change: run @sql (prepared as @slot), which selects the entity's rows and
 * appends its audit row ($1 id, $2 source, $3 tenant slug, $4 action, $5 before image),
 * fill a new table of @schema, then store_settle (change.h): commit, or, when @before_rows
 * is given, !@force_changed and nothing but updated_at differs, roll back (no write, no
 * audit row). Rolls back on failure.
 */
int store_finish_prepared(pbx_ctx *ctx, PGconn *pg, enum store_stmt slot, const char *sql,
			  const struct pbx_schema *schema, const char *id, const char *slug,
			  const char *action, const char *before,
			  const struct pbx_rows *before_rows, bool force_changed,
			  struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

#endif
