/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: PostgreSQL access. Every statement is a literal with $n parameters run
 * through PQexecParams; SQLSTATEs map to pbx codes in one place (pbx_pg_error).
 */
#ifndef PBX_STORE_PG_H
#define PBX_STORE_PG_H

#include <stdio.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

int pbx_pg_connect(pbx_ctx *ctx, PGconn **ret, pbx_error *err);
int pbx_pg_check_schema(PGconn *pg, pbx_error *err);

/*
 * Run @sql with @n text parameters (NULL = SQL null). Returns the result (PGRES_TUPLES_OK
 * or PGRES_COMMAND_OK) for the caller to PQclear, or NULL with @err filled: @object names
 * the thing concerned in the message.
 */
PGresult *pbx_pg_query(PGconn *pg, const char *sql, int n, const char *const *params,
		       const char *object, pbx_error *err);

/* Like pbx_pg_query for statements whose result is not needed. */
int pbx_pg_exec(PGconn *pg, const char *sql, int n, const char *const *params,
		const char *object, pbx_error *err);

/* Fill @err from a failed result: SQLSTATE → code, server text → detail. */
int pbx_pg_error(PGconn *pg, const PGresult *res, const char *object, pbx_error *err);

int pbx_pg_begin(PGconn *pg, pbx_error *err);
int pbx_pg_commit(PGconn *pg, pbx_error *err);
/* Best effort; never overwrites an error already in the caller's record. */
void pbx_pg_rollback(PGconn *pg);

/*
 * A PostgreSQL array literal built as it grows, for one $n parameter that carries a whole
 * column ("{\"a\",NULL}"): every element quoted with " and \ escaped, NULL for a null.
 * Open, add, then close: close writes the closing brace and returns -1 when memory ran out
 * at any step; .text then holds the literal (free it), also after a failure.
 */
struct pbx_pg_array {
	FILE *f;
	char *text;
	size_t len;
	size_t n;
};

int pbx_pg_array_open(struct pbx_pg_array *a);
void pbx_pg_array_add(struct pbx_pg_array *a, const char *v);
int pbx_pg_array_close(struct pbx_pg_array *a);

/* "host:port" or "socket-dir:port" of the connection, for messages. */
void pbx_pg_where(PGconn *pg, char *buf, size_t n);

/* Write one audit row in the current transaction (lib/store/audit.c). JSON may be NULL. */
int pbx_audit_append(pbx_ctx *ctx, PGconn *pg, const char *tenant, const char *action,
		     const char *entity, const char *entity_id, const char *before_json,
		     const char *after_json, pbx_error *err);

#endif

/*
 * Append every row of @res to @rows, matching result columns to schema keys by name
 * (columns the schema lacks are ignored). PBX_ERROR when out of memory.
 */
int pbx_pg_fill(const PGresult *res, struct pbx_rows *rows, pbx_error *err);

/*
 * Run a query whose result columns are keys of @schema and return its rows in @ret (written
 * only on success). Errors as pbx_pg_query.
 */
int pbx_pg_select(PGconn *pg, const char *sql, int n, const char *const *params,
		  const char *object, const struct pbx_schema *schema, struct pbx_rows *ret,
		  pbx_error *err);

/* "YYYY-MM-DDTHH:MM:SSZ" in SQL, for RFC 3339 UTC output. */
#define PBX_SQL_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
