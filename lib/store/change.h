/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: what the DID, trunk and policy stores share. Finding a tenant, loading
 * one entity with its audit image, and the end of every change (image, audit row, commit,
 * or a rollback when nothing differs).
 */
#ifndef PBX_STORE_EXT_INTERNAL_H
#define PBX_STORE_EXT_INTERNAL_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "pg.h"

struct ext_tenant {
	char id[24];
	char slug[32];
	bool suspended;
};

/* Tenant @tenant by slug or id. PBX_ENOTFOUND "tenant X does not exist". */
int ext_find_tenant(PGconn *pg, const char *tenant, struct ext_tenant *ret, pbx_error *err);

/*
 * Run @sql ($1 = id) which returns the entity's columns and "_json", its audit image; fill
 * @rows (may be NULL) and *@json (may be NULL, owned). PBX_ENOTFOUND naming @object.
 */
int ext_load(PGconn *pg, const char *sql, const char *id, const char *object,
	     struct pbx_rows *rows, char **json, pbx_error *err);

/*
 * Finish a change in the open transaction: load entity @id with @sql (as ext_load) into a
 * table of @schema; when @before_rows is given and nothing but updated_at differs, roll back
 * (no write, no audit row) and report unchanged; otherwise append the audit row (@action,
 * @before image, the new image) and commit. Rolls back on failure.
 */
int ext_finish(pbx_ctx *ctx, PGconn *pg, const char *sql, const struct pbx_schema *schema,
	       const char *id, const char *slug, const char *entity, const char *action,
	       const char *before, const struct pbx_rows *before_rows, struct pbx_rows *ret,
	       bool *ret_changed, pbx_error *err);

/* Hand @rows to *@ret, or free them when @ret is NULL. */
void ext_give(struct pbx_rows *rows, struct pbx_rows *ret);

/* Whether @s is a decimal id (1 to 18 digits, no leading zero). */
bool ext_is_id(const char *s);

#endif
