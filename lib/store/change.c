/* SPDX-License-Identifier: MIT */
/*
 * A change to one entity: finding its tenant, loading its images, and the end every
 * entity's change shares (audit row, commit, or the rollback of a change that changed
 * nothing). See change.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"

int store_find_tenant(PGconn *pg, const char *tenant, struct store_tenant *ret, pbx_error *err)
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

int store_lock(PGconn *pg, const char *sql, const char *key, const char *object,
	       const char *missing, char *ret_id, size_t n, pbx_error *err)
{
	const char *p[1] = { key };
	PGresult *res = pbx_pg_query(pg, sql, 1, p, object, err);

	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s", missing);
	}
	snprintf(ret_id, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int store_load(PGconn *pg, const char *sql, const char *id, const char *object,
	       const char *missing, struct pbx_rows *rows, char **json, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg, sql, 1, p, object, err);
	int r = 0;

	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		r = missing ? pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s", missing) :
			pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s does not exist", object);
	} else {
		if (rows)
			r = pbx_pg_fill(res, rows, err);
		if (r == 0 && json && !(*json = strdup(PQgetvalue(res, 0, PQfnumber(res, "_json")))))
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	PQclear(res);
	return r;
}

bool store_rows_differ(const struct pbx_rows *a, const struct pbx_rows *b)
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

int store_settle(PGconn *pg, struct pbx_rows *rows, const struct pbx_rows *before_rows,
		 bool force_changed, struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	bool changed = !before_rows || force_changed || store_rows_differ(before_rows, rows);
	int r;

	if (!changed) {
		/* Nothing differs: neither the write nor its audit row is kept. */
		pbx_pg_rollback(pg);
	} else if ((r = pbx_pg_commit(pg, err)) < 0) {
		pbx_pg_rollback(pg);
		pbx_rows_free(rows);
		return r;
	}
	if (ret_changed)
		*ret_changed = changed;
	store_give(rows, ret);
	return 0;
}

int store_finish(pbx_ctx *ctx, PGconn *pg, const char *sql, const struct pbx_schema *schema,
		 const char *id, const char *slug, const char *entity, const char *action,
		 const char *before, const struct pbx_rows *before_rows, struct pbx_rows *ret,
		 bool *ret_changed, pbx_error *err)
{
	struct pbx_rows rows;
	char *after = NULL;
	int r;

	pbx_rows_init(&rows, schema);
	r = store_load(pg, sql, id, schema->name, NULL, &rows, &after, err);
	if (r == 0 && (!before_rows || store_rows_differ(before_rows, &rows)))
		r = pbx_audit_append(ctx, pg, slug, action, entity, id, before, after, err);
	free(after);
	if (r < 0) {
		pbx_pg_rollback(pg);
		pbx_rows_free(&rows);
		return r;
	}
	return store_settle(pg, &rows, before_rows, false, ret, ret_changed, err);
}

int store_remove(pbx_ctx *ctx, PGconn *pg, const char *slug, const char *action,
		 const char *entity, const char *id, const char *before, const char *sql,
		 const char *object, pbx_error *err)
{
	const char *p[1] = { id };
	int r = pbx_audit_append(ctx, pg, slug, action, entity, id, before, NULL, err);

	if (r == 0 && sql)
		r = pbx_pg_exec(pg, sql, 1, p, object, err);
	return r < 0 ? r : pbx_pg_commit(pg, err);
}

void store_unchanged(PGconn *pg, struct pbx_rows *cur, struct pbx_rows *ret, bool *ret_changed)
{
	pbx_pg_rollback(pg);
	if (ret_changed)
		*ret_changed = false;
	if (ret) {
		*ret = *cur;
		pbx_rows_init(cur, cur->schema);
	}
}

void store_give(struct pbx_rows *rows, struct pbx_rows *ret)
{
	if (ret)
		*ret = *rows;
	else
		pbx_rows_free(rows);
}

bool store_is_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 18 && s[0] != '0' && strspn(s, "0123456789") == n;
}
