/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: a change to one entity, the steps every entity file shares so that it
 * holds only its own rules and SQL. A change is: BEGIN, find and lock the entity, load its
 * before-image (store_load), check, write, then store_finish: load the after-image, append
 * the audit row and commit, or roll back (no write, no audit row) when nothing but
 * updated_at differs. Entities whose statements append their own audit row (users and
 * devices, prepared.h) end with store_settle. Deletes end with store_remove.
 */
#ifndef PBX_STORE_CHANGE_H
#define PBX_STORE_CHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "pg.h"

/*
 * The fields every entity's schema shares (its id, and its times last), and a schema of a
 * static field table: one definition, so that the keys, types and help of an entity's
 * output agree with every other entity's.
 */
#define STORE_FIELD_ID { "id", PBX_FT_INT, PBX_FIELD_READONLY, "numeric id" }
#define STORE_FIELDS_TIMES \
	{ "created_at", PBX_FT_TIME, PBX_FIELD_READONLY, "creation time" }, \
	{ "updated_at", PBX_FT_TIME, PBX_FIELD_READONLY, "last change" }
#define STORE_SCHEMA(NAME, FIELDS) \
	{ .name = NAME, .fields = FIELDS, .n_fields = sizeof(FIELDS) / sizeof((FIELDS)[0]) }

/* A tenant as the entity files find it (not locked). */
struct store_tenant {
	char id[24];
	char slug[32];
	bool suspended;
};

/* Tenant @tenant by slug or id. PBX_ENOTFOUND "tenant X does not exist". */
int store_find_tenant(PGconn *pg, const char *tenant, struct store_tenant *ret, pbx_error *err);

/*
 * Lock the entity @key names (a natural key or an id; the transaction must be open): @sql
 * ($1 = @key) selects its id FOR UPDATE, copied to @ret_id (@n bytes). PBX_ENOTFOUND with
 * @missing as its message.
 */
int store_lock(PGconn *pg, const char *sql, const char *key, const char *object,
	       const char *missing, char *ret_id, size_t n, pbx_error *err);

/*
 * Run @sql ($1 = id) which returns the entity's columns and "_json", its audit image; fill
 * @rows (may be NULL) and *@json (may be NULL, owned). PBX_ENOTFOUND with @missing as its
 * message, or "@object does not exist" when @missing is NULL.
 */
int store_load(PGconn *pg, const char *sql, const char *id, const char *object,
	       const char *missing, struct pbx_rows *rows, char **json, pbx_error *err);

/* Whether two one-row tables of the same schema differ in anything but updated_at. */
bool store_rows_differ(const struct pbx_rows *a, const struct pbx_rows *b);

/*
 * The end of every change, once @rows holds the after-image (and the audit row, if any, is
 * written): when @before_rows is given, !@force_changed and nothing but updated_at differs,
 * roll back and report unchanged; otherwise commit. *@ret gets @rows (freed when @ret is
 * NULL), *@ret_changed (may be NULL) whether it committed. On failure rolls back and frees
 * @rows.
 */
int store_settle(PGconn *pg, struct pbx_rows *rows, const struct pbx_rows *before_rows,
		 bool force_changed, struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/*
 * Finish a change in the open transaction: load entity @id with @sql (as store_load) into a
 * table of @schema; when @before_rows is given and nothing but updated_at differs, roll back
 * (no write, no audit row) and report unchanged; otherwise append the audit row (@action on
 * @entity in tenant @slug, the @before image, the new image) and commit. Rolls back on
 * failure.
 */
int store_finish(pbx_ctx *ctx, PGconn *pg, const char *sql, const struct pbx_schema *schema,
		 const char *id, const char *slug, const char *entity, const char *action,
		 const char *before, const struct pbx_rows *before_rows, struct pbx_rows *ret,
		 bool *ret_changed, pbx_error *err);

/*
 * The end of a delete: append the audit row of @action on @entity @id of tenant @slug (the
 * @before image, no after image), run @sql ($1 = id; NULL: none) and commit. The caller
 * rolls back on failure.
 */
int store_remove(pbx_ctx *ctx, PGconn *pg, const char *slug, const char *action,
		 const char *entity, const char *id, const char *before, const char *sql,
		 const char *object, pbx_error *err);

/*
 * End a change that finds nothing to do: roll back and report unchanged; *@ret (when not
 * NULL) takes over @cur, which is left empty. The caller frees @cur either way.
 */
void store_unchanged(PGconn *pg, struct pbx_rows *cur, struct pbx_rows *ret, bool *ret_changed);

/* Hand @rows to *@ret, or free them when @ret is NULL. */
void store_give(struct pbx_rows *rows, struct pbx_rows *ret);

/* Whether @s is a decimal id (1 to 18 digits, no leading zero). */
bool store_is_id(const char *s);

#endif
