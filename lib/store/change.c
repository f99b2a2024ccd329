/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the DID, trunk and policy stores (change.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"

int ext_find_tenant(PGconn *pg, const char *tenant, struct ext_tenant *ret, pbx_error *err)
{
	const char *p[1] = { tenant };
	PGresult *res;

	if (!tenant || !*tenant)
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant", "a tenant is required");
	res = pbx_pg_query(pg, "SELECT id::text, slug, status FROM tenants "
			   "WHERE slug = $1 OR id::text = $1", 1, p, "tenant", err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	snprintf(ret->id, sizeof(ret->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(ret->slug, sizeof(ret->slug), "%s", PQgetvalue(res, 0, 1));
	ret->suspended = !strcmp(PQgetvalue(res, 0, 2), "suspended");
	PQclear(res);
	return 0;
}

int ext_load(PGconn *pg, const char *sql, const char *id, const char *object,
	     struct pbx_rows *rows, char **json, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg, sql, 1, p, object, err);
	int r = 0;

	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s does not exist", object);
	} else {
		if (rows)
			r = pbx_pg_fill(res, rows, err);
		if (r == 0 && json && !(*json = strdup(PQgetvalue(res, 0, PQfnumber(res, "_json")))))
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	PQclear(res);
	return r;
}

static bool differ(const struct pbx_rows *a, const struct pbx_rows *b)
{
	const struct pbx_schema *s = a->schema;

	for (size_t i = 0; i < s->n_fields; i++) {
		const char *k = s->fields[i].key;
		const char *x = pbx_rows_get(a, 0, k), *y = pbx_rows_get(b, 0, k);

		if (!strcmp(k, "updated_at"))
			continue;
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y)))
			return true;
	}
	return false;
}

int ext_finish(pbx_ctx *ctx, PGconn *pg, const char *sql, const struct pbx_schema *schema,
	       const char *id, const char *slug, const char *entity, const char *action,
	       const char *before, const struct pbx_rows *before_rows, struct pbx_rows *ret,
	       bool *ret_changed, pbx_error *err)
{
	struct pbx_rows rows;
	char *after = NULL;
	int r;

	pbx_rows_init(&rows, schema);
	r = ext_load(pg, sql, id, schema->name, &rows, &after, err);
	if (r < 0)
		goto fail;
	if (before_rows && !differ(before_rows, &rows)) {
		/* Nothing differs: neither the write nor an audit row is kept. */
		pbx_pg_rollback(pg);
		if (ret_changed)
			*ret_changed = false;
		free(after);
		ext_give(&rows, ret);
		return 0;
	}
	if ((r = pbx_audit_append(ctx, pg, slug, action, entity, id, before, after, err)) < 0 ||
	    (r = pbx_pg_commit(pg, err)) < 0)
		goto fail;
	free(after);
	if (ret_changed)
		*ret_changed = true;
	ext_give(&rows, ret);
	return 0;
fail:
	pbx_pg_rollback(pg);
	free(after);
	pbx_rows_free(&rows);
	return r;
}

void ext_give(struct pbx_rows *rows, struct pbx_rows *ret)
{
	if (ret)
		*ret = *rows;
	else
		pbx_rows_free(rows);
}

bool ext_is_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 18 && s[0] != '0' && strspn(s, "0123456789") == n;
}
