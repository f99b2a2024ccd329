/* SPDX-License-Identifier: MIT */
/*
 * Outbound policies in PostgreSQL: create, update, delete (refused while in use, unless
 * forced), list, show, and assigning a policy to a user. Rules live in policy-rule.c. Each
 * change and its audit row share one transaction; afterwards every emergency number the
 * policy blocks is reported as a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "pbx/valid.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"
#include "policy-internal.h"

static const struct pbx_field policy_fields[] = {
	STORE_FIELD_ID,
	{ "tenant", PBX_FT_STRING, PBX_FIELD_READONLY, "tenant slug" },
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "unique in the tenant" },
	{ "description", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "free text" },
	{ "default", PBX_FT_BOOL, PBX_FIELD_DEFAULT | PBX_FIELD_READONLY, "the tenant's default policy" },
	{ "users", PBX_FT_INT, PBX_FIELD_DEFAULT | PBX_FIELD_READONLY, "users assigned to it" },
	{ "rules", PBX_FT_JSON, PBX_FIELD_EXPORT, "ordered rules: pattern, action, strip, prepend, trunks" },
	STORE_FIELDS_TIMES,
};

const struct pbx_schema pbx_schema_policy = STORE_SCHEMA("policy", policy_fields);

static const struct pbx_field user_fields[] = {
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant slug" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT, "username" },
	{ "extension", PBX_FT_INT, PBX_FIELD_DEFAULT, "extension" },
	{ "policy", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the user's own policy; null: the tenant's default" },
	{ "effective", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the policy its calls go by; null: none, calls are refused" },
};

const struct pbx_schema pbx_schema_policy_user = STORE_SCHEMA("policy_user", user_fields);

#define USER_POLICY_SELECT \
	"SELECT t.slug AS tenant, u.username AS \"user\", u.extension::text AS extension, " \
	"p.name AS policy, coalesce(p.name, d.name) AS effective " \
	"FROM users u JOIN tenants t ON t.id = u.tenant_id " \
	"LEFT JOIN policies p ON p.id = u.policy_id LEFT JOIN policies d ON d.id = t.default_policy_id "

int policy_find(PGconn *pg, const struct store_tenant *t, const char *policy, bool lock,
		char ret_id[24], char *ret_name, pbx_error *err)
{
	const char *p[2] = { t->id, policy };
	PGresult *res = pbx_pg_query(pg, lock ?
		"SELECT id::text, name FROM policies WHERE tenant_id = $1::bigint "
		"AND (name = $2 OR id::text = $2) FOR UPDATE" :
		"SELECT id::text, name FROM policies WHERE tenant_id = $1::bigint "
		"AND (name = $2 OR id::text = $2)", 2, p, "policy", err);

	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "policy %.40s does not exist in tenant %s",
				  policy, t->slug);
	}
	snprintf(ret_id, 24, "%s", PQgetvalue(res, 0, 0));
	if (ret_name)
		snprintf(ret_name, 40, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

static int check_spec(const char *object, const struct pbx_policy_spec *s, pbx_error *err)
{
	int r;

	if (s->name && (r = pbx_policy_check_name(object, s->name, err)) < 0)
		return r;
	if (s->description && *s->description && !pbx_valid_text(s->description, 128))
		return pbx_errorf(err, PBX_EINVALID, object, "description",
				  "description must be 1 to 128 characters without control characters");
	return 0;
}

int pbx_policy_create(pbx_ctx *ctx, const char *tenant, const struct pbx_policy_spec *spec,
		      struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24];
	struct store_tenant t;
	const char *p[3];
	PGresult *res;
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "policy %.40s", spec->name ? spec->name : "");
	if (!spec->name)
		return pbx_errorf(err, PBX_EINVALID, object, "name", "a policy needs a name");
	if ((r = check_spec(object, spec, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0)
		goto fail;
	p[0] = t.id;
	p[1] = spec->name;
	p[2] = spec->description && *spec->description ? spec->description : NULL;
	res = pbx_pg_query(pg, "INSERT INTO policies (tenant_id, name, description) "
			   "VALUES ($1::bigint, $2, $3) ON CONFLICT (tenant_id, name) DO NOTHING "
			   "RETURNING id::text", 3, p, object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		r = pbx_errorf(err, PBX_ECONFLICT, object, "name",
			       "tenant %s already has a policy named %s", t.slug, spec->name);
		goto fail;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	r = store_finish(ctx, pg, POLICY_JSON, &pbx_schema_policy, id, t.slug, "policy", "create",
		       NULL, NULL, ret, NULL, err);
	if (r == 0)
		policy_warn_emergency(ctx, pg, id, spec->name, t.slug);
	return r;
fail:
	pbx_pg_rollback(pg);
	return r;
}

int pbx_policy_update(pbx_ctx *ctx, const char *tenant, const char *policy,
		      const struct pbx_policy_spec *spec, struct pbx_rows *ret, bool *ret_changed,
		      pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24], name[40];
	struct pbx_rows cur;
	struct store_tenant t;
	char *before = NULL;
	const char *p[3];
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "policy %.40s", policy);
	if ((r = check_spec(object, spec, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_policy);
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0 ||
	    (r = policy_find(pg, &t, policy, true, id, name, err)) < 0 ||
	    (r = store_load(pg, POLICY_JSON, id, object, NULL, &cur, &before, err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "policy %s", name);
	p[0] = id;
	p[1] = spec->name;
	p[2] = spec->description;
	if ((r = pbx_pg_exec(pg, "UPDATE policies SET name = coalesce($2, name), "
			     "description = CASE WHEN $3::text IS NULL THEN description "
			     "WHEN $3 = '' THEN NULL ELSE $3 END, updated_at = now() "
			     "WHERE id = $1::bigint", 3, p, object, err)) < 0) {
		if (r == PBX_ECONFLICT)
			pbx_errorf(err, PBX_ECONFLICT, object, "name",
				   "tenant %s already has a policy named %s", t.slug, spec->name);
		goto fail;
	}
	r = store_finish(ctx, pg, POLICY_JSON, &pbx_schema_policy, id, t.slug, "policy", "update",
		       before, &cur, ret, ret_changed, err);
	pbx_rows_free(&cur);
	free(before);
	return r;
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_policy_delete(pbx_ctx *ctx, const char *tenant, const char *policy, bool force,
		      struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24], name[40];
	struct pbx_rows cur;
	struct store_tenant t;
	char *before = NULL;
	const char *p[4];
	PGconn *pg;
	long users;
	bool is_default;
	int r;

	snprintf(object, sizeof(object), "policy %.40s", policy);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_policy);
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0 ||
	    (r = policy_find(pg, &t, policy, true, id, name, err)) < 0 ||
	    (r = store_load(pg, POLICY_JSON, id, object, NULL, &cur, &before, err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "policy %s", name);
	is_default = !strcmp(pbx_rows_get(&cur, 0, "default"), "true");
	users = strtol(pbx_rows_get(&cur, 0, "users"), NULL, 10);
	if ((is_default || users) && !force) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, NULL,
			       "%s%s%s; use --force to delete it anyway (its users then follow "
			       "the tenant's default)", is_default ? "it is the default policy of tenant " : "",
			       is_default ? t.slug : "", users ? (is_default ? " and assigned to users" :
							       "it is assigned to users") : "");
		goto fail;
	}
	/* Each reference cleared is audited on the entity that changes. */
	p[0] = id;
	p[1] = pbx_ctx_source(ctx);
	p[2] = t.slug;
	p[3] = name;
	r = pbx_pg_exec(pg,
		"SELECT audit_append($2, $3, 'update', 'user', u.id::text, "
		"jsonb_build_object('username', u.username, 'policy', $4::text), "
		"jsonb_build_object('username', u.username, 'policy', NULL)) "
		"FROM users u WHERE u.policy_id = $1::bigint ORDER BY u.id", 4, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"SELECT audit_append($2, $3, 'update', 'tenant', t.id::text, "
			"jsonb_build_object('slug', t.slug, 'default_policy', $4::text), "
			"jsonb_build_object('slug', t.slug, 'default_policy', NULL)) "
			"FROM tenants t WHERE t.default_policy_id = $1::bigint", 4, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE users SET policy_id = NULL, updated_at = now() "
				"WHERE policy_id = $1::bigint", 1, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE tenants SET default_policy_id = NULL, updated_at = now() "
				"WHERE default_policy_id = $1::bigint", 1, p, object, err);
	if (r == 0)
		r = store_remove(ctx, pg, t.slug, "delete", "policy", id, before,
				 "DELETE FROM policies WHERE id = $1::bigint", object, err);
	if (r < 0)
		goto fail;
	free(before);
	store_give(&cur, ret);
	return 0;
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&cur);
	free(before);
	return r;
}

static int query_rows(PGconn *pg, const char *sql, int n, const char *const *p,
		      const struct pbx_schema *schema, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;
	PGresult *res = pbx_pg_query(pg, sql, n, p, schema->name, err);
	int r;

	if (!res)
		return err->code;
	pbx_rows_init(&rows, schema);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_policy_list(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err)
{
	struct store_tenant t;
	const char *p[1];
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0)
		return r;
	p[0] = t.id;
	return query_rows(pg, POLICY_SELECT "WHERE p.tenant_id = $1::bigint ORDER BY p.name", 1, p,
			  &pbx_schema_policy, ret, err);
}

int pbx_policy_show(pbx_ctx *ctx, const char *tenant, const char *policy, struct pbx_rows *ret,
		    pbx_error *err)
{
	struct store_tenant t;
	char id[24];
	const char *p[1] = { id };
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0 ||
	    (r = policy_find(pg, &t, policy, false, id, NULL, err)) < 0)
		return r;
	return query_rows(pg, POLICY_SELECT "WHERE p.id = $1::bigint", 1, p, &pbx_schema_policy,
			  ret, err);
}

int pbx_policy_assign(pbx_ctx *ctx, const char *tenant, const char *user, const char *policy,
		      struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], pid[24] = "", uid[24], pname[40] = "";
	struct store_tenant t;
	const char *p[4];
	PGresult *res;
	PGconn *pg;
	bool same;
	int r;

	snprintf(object, sizeof(object), "user %.40s", user);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0 ||
	    (policy && (r = policy_find(pg, &t, policy, false, pid, pname, err)) < 0))
		goto fail;
	p[0] = t.id;
	p[1] = user;
	res = pbx_pg_query(pg,
		"SELECT u.id::text, u.username, u.status, p.name, "
		"u.policy_id IS NOT DISTINCT FROM $3::bigint FROM users u "
		"LEFT JOIN policies p ON p.id = u.policy_id WHERE u.tenant_id = $1::bigint "
		"AND (u.username = $2 OR u.extension::text = $2 OR u.id::text = $2) "
		"ORDER BY u.username = $2 DESC, u.status <> 'deleted' DESC, u.id DESC LIMIT 1 "
		"FOR UPDATE OF u", 3, (const char *const[]){ t.id, user, pid[0] ? pid : NULL },
		object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %.40s does not exist in tenant %s",
			       user, t.slug);
		goto fail;
	}
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
	snprintf(object, sizeof(object), "user %s", PQgetvalue(res, 0, 1));
	if (!strcmp(PQgetvalue(res, 0, 2), "deleted")) {
		PQclear(res);
		r = pbx_errorf(err, PBX_ECONFLICT, object, "policy",
			       "the user is deleted; restore it first");
		goto fail;
	}
	same = !strcmp(PQgetvalue(res, 0, 4), "t");
	p[0] = uid;
	p[1] = pid[0] ? pid : NULL;
	p[2] = pbx_ctx_source(ctx);
	p[3] = t.slug;
	if (!same) {
		char *old = PQgetisnull(res, 0, 3) ? NULL : strdup(PQgetvalue(res, 0, 3));

		r = pbx_pg_exec(pg, "UPDATE users SET policy_id = $2::bigint, updated_at = now() "
				"WHERE id = $1::bigint", 2, p, object, err);
		if (r == 0) {
			const char *q[6] = { uid, p[2], p[3], old, pname[0] ? pname : NULL,
					     policy ? "assign-policy" : "unassign-policy" };

			r = pbx_pg_exec(pg,
				"SELECT audit_append($2, $3, $6, 'user', u.id::text, "
				"jsonb_build_object('username', u.username, 'policy', $4::text), "
				"jsonb_build_object('username', u.username, 'policy', $5::text)) "
				"FROM users u WHERE u.id = $1::bigint", 6, q, object, err);
		}
		free(old);
	}
	PQclear(res);
	if (r < 0)
		goto fail;
	p[0] = uid;
	if ((r = query_rows(pg, USER_POLICY_SELECT "WHERE u.id = $1::bigint", 1, p,
			    &pbx_schema_policy_user, ret, err)) < 0)
		goto fail;
	if ((r = same ? (pbx_pg_rollback(pg), 0) : pbx_pg_commit(pg, err)) < 0) {
		pbx_rows_free(ret);
		return r;
	}
	if (ret_changed)
		*ret_changed = !same;
	return 0;
fail:
	pbx_pg_rollback(pg);
	return r;
}

int pbx_policy_users(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err)
{
	struct store_tenant t;
	const char *p[1];
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0)
		return r;
	p[0] = t.id;
	return query_rows(pg, USER_POLICY_SELECT "WHERE u.tenant_id = $1::bigint "
			  "AND u.status <> 'deleted' ORDER BY u.extension", 1, p,
			  &pbx_schema_policy_user, ret, err);
}
