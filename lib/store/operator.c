/* SPDX-License-Identifier: MIT */
/*
 * Operators in PostgreSQL: who the session is, and adding, changing and removing the
 * mapping of login roles to pbxctl roles. The changes run in the SECURITY DEFINER
 * functions of migration 0007, which check that the caller is a platform admin, create or
 * grant the group roles and write the audit row; this file validates first so that a
 * mistake is reported by field, and turns their SQLSTATEs into messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/operator.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"

static const struct pbx_field operator_fields[] = {
	{ "login", PBX_FT_STRING, PBX_FIELD_DEFAULT, "PostgreSQL login role" },
	{ "role", PBX_FT_STRING, PBX_FIELD_DEFAULT, "platform_admin, tenant_admin, support or end_user" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the tenant a tenant_admin, scoped support or end_user belongs to" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the user an end_user is" },
	{ "created_at", PBX_FT_TIME, PBX_FIELD_READONLY, "when the login was mapped" },
};

const struct pbx_schema pbx_schema_operator = STORE_SCHEMA("operator", operator_fields);

static const struct pbx_field whoami_fields[] = {
	{ "login", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the session's PostgreSQL login role" },
	{ "role", PBX_FT_STRING, PBX_FIELD_DEFAULT, "its pbxctl role, or null when not mapped" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the tenant it is limited to, or null" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the user it is (end_user), or null" },
	{ "bypass_rls", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "true for a superuser or the database owner, which row-level security does not limit" },
};

const struct pbx_schema pbx_schema_whoami = STORE_SCHEMA("whoami", whoami_fields);

#define OPERATOR_SELECT \
	"SELECT o.login::text AS login, o.role, t.slug AS tenant, u.username AS \"user\", " \
	PBX_SQL_TIME("o.created_at") " AS created_at FROM operators o " \
	"LEFT JOIN tenants t ON t.id = o.tenant_id LEFT JOIN users u ON u.id = o.user_id "

static const char *const roles[] = { "platform_admin", "tenant_admin", "support", "end_user",
				     NULL };

int pbx_operator_whoami(pbx_ctx *ctx, struct pbx_operator *ret, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	struct pbx_operator op = { .login = "" };
	PGresult *res;

	if (!pg)
		return err ? err->code : PBX_EUNAVAILABLE;
	if (!(res = pbx_pg_query(pg, "SELECT login, coalesce(role, ''), coalesce(tenant_id, 0), "
				 "coalesce(tenant, ''), coalesce(user_id, 0), coalesce(username, ''), "
				 "coalesce(bypass_rls, false) FROM pbx_operator_whoami()", 0, NULL,
				 "operator", err)))
		return err ? err->code : PBX_ERROR;
	snprintf(op.login, sizeof(op.login), "%s", PQgetvalue(res, 0, 0));
	snprintf(op.role, sizeof(op.role), "%s", PQgetvalue(res, 0, 1));
	op.tenant_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	snprintf(op.tenant, sizeof(op.tenant), "%s", PQgetvalue(res, 0, 3));
	op.user_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	snprintf(op.user, sizeof(op.user), "%s", PQgetvalue(res, 0, 5));
	op.bypass_rls = !strcmp(PQgetvalue(res, 0, 6), "t");
	PQclear(res);
	*ret = op;
	return 0;
}

int pbx_whoami(pbx_ctx *ctx, struct pbx_operator *out)
{
	return pbx_operator_whoami(ctx, out, NULL);
}

int pbx_operator_whoami_rows(const struct pbx_operator *op, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;

	pbx_rows_init(&rows, &pbx_schema_whoami);
	if (pbx_rows_add(&rows) < 0 || pbx_rows_set(&rows, 0, "login", op->login) < 0 ||
	    pbx_rows_set(&rows, 0, "role", *op->role ? op->role : NULL) < 0 ||
	    pbx_rows_set(&rows, 0, "tenant", *op->tenant ? op->tenant : NULL) < 0 ||
	    pbx_rows_set(&rows, 0, "user", *op->user ? op->user : NULL) < 0 ||
	    pbx_rows_set(&rows, 0, "bypass_rls", op->bypass_rls ? "true" : "false") < 0) {
		pbx_rows_free(&rows);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	*ret = rows;
	return 0;
}

void pbx_operator_describe(const struct pbx_operator *op, char *buf, size_t n)
{
	if (op->bypass_rls && !*op->role)
		snprintf(buf, n, "%s (database owner)", op->login);
	else if (!*op->role)
		snprintf(buf, n, "%s (not mapped to a pbxctl role)", op->login);
	else if (*op->user)
		snprintf(buf, n, "%s (%s, user %s of %s)", op->login, op->role, op->user, op->tenant);
	else if (*op->tenant)
		snprintf(buf, n, "%s (%s of %s)", op->login, op->role, op->tenant);
	else
		snprintf(buf, n, "%s (%s)", op->login, op->role);
}

static bool valid_login(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 63 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') ||
				   (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-") == n;
}

int pbx_operator_check(const struct pbx_operator_spec *spec, pbx_error *err)
{
	char object[96];
	bool known = false;

	snprintf(object, sizeof(object), "operator %s", spec->login ? spec->login : "");
	if (!valid_login(spec->login))
		return pbx_errorf(err, PBX_EINVALID, object, "login",
				  "login \"%s\" must be a PostgreSQL role name: a letter or _, then up to 62 letters, digits, _ . @ -",
				  spec->login ? spec->login : "");
	for (size_t i = 0; roles[i]; i++)
		known |= spec->role && !strcmp(spec->role, roles[i]);
	if (!known)
		return pbx_errorf(err, PBX_EINVALID, object, "role",
				  "role \"%s\" must be platform_admin, tenant_admin, support or end_user",
				  spec->role ? spec->role : "");
	if (!strcmp(spec->role, "platform_admin") && (spec->tenant || spec->user))
		return pbx_errorf(err, PBX_EINVALID, object, spec->tenant ? "tenant" : "user",
				  "a platform_admin has no tenant and no user");
	if (!strcmp(spec->role, "tenant_admin") && !spec->tenant)
		return pbx_errorf(err, PBX_EINVALID, object, "tenant",
				  "a tenant_admin needs its tenant: --tenant SLUG");
	if (!strcmp(spec->role, "end_user") && (!spec->user || !spec->tenant))
		return pbx_errorf(err, PBX_EINVALID, object, spec->tenant ? "user" : "tenant",
				  "an end_user needs its user: --tenant SLUG --user USERNAME");
	if (strcmp(spec->role, "end_user") && spec->user)
		return pbx_errorf(err, PBX_EINVALID, object, "user",
				  "only an end_user has a user (--user)");
	return 0;
}

/* The ids of the tenant and user of @spec, as text ("" when not given). */
static int resolve(PGconn *pg, const char *object, const struct pbx_operator_spec *spec,
		   char tenant_id[32], char user_id[32], pbx_error *err)
{
	PGresult *res;

	tenant_id[0] = user_id[0] = '\0';
	if (!spec->tenant)
		return 0;
	if (!(res = pbx_pg_query(pg, "SELECT id FROM tenants WHERE slug = $1 OR id::text = $1", 1,
				 (const char *const[]){ spec->tenant }, object, err)))
		return err->code;
	if (PQntuples(res) == 1)
		snprintf(tenant_id, 32, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!tenant_id[0])
		return pbx_errorf(err, PBX_ENOTFOUND, object, "tenant", "tenant %s does not exist",
				  spec->tenant);
	if (!spec->user)
		return 0;
	if (!(res = pbx_pg_query(pg, "SELECT id FROM users WHERE tenant_id = $1::bigint "
				 "AND status <> 'deleted' AND (username = $2 OR id::text = $2) "
				 "ORDER BY username = $2 DESC LIMIT 1", 2,
				 (const char *const[]){ tenant_id, spec->user }, object, err)))
		return err->code;
	if (PQntuples(res) == 1)
		snprintf(user_id, 32, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!user_id[0])
		return pbx_errorf(err, PBX_ENOTFOUND, object, "user",
				  "user %s does not exist in tenant %s", spec->user, spec->tenant);
	return 0;
}

/* The message of a refusal raised by migration 0007's operator functions. */
static int refused(pbx_error *err, const char *object)
{
	static const struct {
		const char *sqlstate;
		int code;
		const char *field;
		const char *message;
	} known[] = {
		{ "PBX04", PBX_ENOTFOUND, NULL, "is not an operator; see `pbxctl operator list`" },
		{ "PBX05", PBX_EINVALID, "login", "is a superuser or owns the database, which row-level security does not limit; it can only be a platform_admin" },
		{ "PBX06", PBX_ENOTFOUND, "login", "no such PostgreSQL login role; create it, or give --create-login" },
		{ "PBX07", PBX_ECONFLICT, "login", "the PostgreSQL login role already exists; map it without --create-login" },
		{ "PBX08", PBX_ECONFLICT, "role", "is the last platform_admin; add another platform_admin first" },
		{ "23505", PBX_ECONFLICT, "login", "is already an operator; change it with `pbxctl operator set-role`" },
	};
	char detail[PBX_ERR_DETAIL];

	if (err->code == PBX_EPERM)
		return err->code;
	snprintf(detail, sizeof(detail), "%s", err->detail);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(err->sqlstate, known[i].sqlstate)) {
			pbx_errorf(err, known[i].code, object, known[i].field, "%s", known[i].message);
			pbx_error_set_detail(err, "%s", detail);
			return known[i].code;
		}
	return err->code;
}

/* Run one of the operator functions with @n params and load the operator's row. */
static int change(pbx_ctx *ctx, const char *sql, int n, const char *const *p, const char *login,
		  struct pbx_rows *ret, pbx_error *err)
{
	char object[96];
	PGconn *pg = pbx_ctx_pg(ctx, err);
	struct pbx_rows rows;
	PGresult *res;
	int r;

	if (!pg)
		return err->code;
	snprintf(object, sizeof(object), "operator %s", login);
	if (!(res = pbx_pg_query(pg, sql, n, p, object, err))) {
		r = refused(err, object);
		pbx_pg_rollback(pg);
		return r;
	}
	PQclear(res);
	pbx_rows_init(&rows, &pbx_schema_operator);
	r = pbx_pg_select(pg, OPERATOR_SELECT "WHERE o.login = $1", 1, (const char *const[]){ login },
			  object, &pbx_schema_operator, &rows, err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0) {
		pbx_pg_rollback(pg);
		return r;
	}
	*ret = rows;
	return 0;
}

/* Validate, open a transaction and resolve ids: the prologue of add and set-role. */
static int prepare(pbx_ctx *ctx, const struct pbx_operator_spec *spec, char tenant_id[32],
		   char user_id[32], pbx_error *err)
{
	char object[96];
	PGconn *pg;
	int r;

	if ((r = pbx_operator_check(spec, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	snprintf(object, sizeof(object), "operator %s", spec->login);
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	if ((r = resolve(pg, object, spec, tenant_id, user_id, err)) < 0)
		pbx_pg_rollback(pg);
	return r;
}

int pbx_operator_add(pbx_ctx *ctx, const struct pbx_operator_spec *spec, struct pbx_rows *ret,
		     pbx_error *err)
{
	char tid[32], uid[32];
	int r;

	if ((r = prepare(ctx, spec, tid, uid, err)) < 0)
		return r;
	return change(ctx, "SELECT 1 FROM pbx_operator_add($1, $2, $3::bigint, $4::bigint, $5::boolean)",
		      5, (const char *const[]){ spec->login, spec->role, *tid ? tid : NULL,
						*uid ? uid : NULL, spec->create_login ? "t" : "f" },
		      spec->login, ret, err);
}

int pbx_operator_set_role(pbx_ctx *ctx, const struct pbx_operator_spec *spec,
			  struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	struct pbx_rows before, after;
	char tid[32], uid[32];
	bool changed = false;
	int r;

	if ((r = pbx_operator_show(ctx, spec->login, &before, err)) < 0)
		return r;
	if ((r = prepare(ctx, spec, tid, uid, err)) < 0) {
		pbx_rows_free(&before);
		return r;
	}
	r = change(ctx, "SELECT 1 FROM pbx_operator_set_role($1, $2, $3::bigint, $4::bigint)", 4,
		   (const char *const[]){ spec->login, spec->role, *tid ? tid : NULL,
					  *uid ? uid : NULL }, spec->login, &after, err);
	if (r == 0)
		changed = store_rows_differ(&before, &after);
	pbx_rows_free(&before);
	if (r < 0)
		return r;
	if (ret_changed)
		*ret_changed = changed;
	*ret = after;
	return 0;
}

int pbx_operator_remove(pbx_ctx *ctx, const char *login, struct pbx_rows *ret, pbx_error *err)
{
	char object[96];
	struct pbx_rows rows;
	PGconn *pg;
	PGresult *res;
	int r;

	if ((r = pbx_operator_show(ctx, login, &rows, err)) < 0)
		return r;
	pg = pbx_ctx_pg(ctx, err);
	snprintf(object, sizeof(object), "operator %s", login);
	if ((r = pbx_pg_begin(pg, err)) < 0)
		goto fail;
	if (!(res = pbx_pg_query(pg, "SELECT 1 FROM pbx_operator_remove($1)", 1,
				 (const char *const[]){ login }, object, err))) {
		r = refused(err, object);
		pbx_pg_rollback(pg);
		goto fail;
	}
	PQclear(res);
	if ((r = pbx_pg_commit(pg, err)) < 0)
		goto fail;
	*ret = rows;
	return 0;
fail:
	pbx_rows_free(&rows);
	return r;
}

int pbx_operator_list(pbx_ctx *ctx, const char *role, struct pbx_rows *ret, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);

	if (!pg)
		return err->code;
	return pbx_pg_select(pg, OPERATOR_SELECT "WHERE $1::text IS NULL OR o.role = $1 "
			     "ORDER BY o.login COLLATE \"C\"", 1, (const char *const[]){ role },
			     "operator", &pbx_schema_operator, ret, err);
}

int pbx_operator_show(pbx_ctx *ctx, const char *login, struct pbx_rows *ret, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	char object[96];
	struct pbx_rows rows;
	int r;

	if (!pg)
		return err->code;
	snprintf(object, sizeof(object), "operator %s", login);
	if ((r = pbx_pg_select(pg, OPERATOR_SELECT "WHERE o.login = $1", 1,
			       (const char *const[]){ login }, object, &pbx_schema_operator, &rows,
			       err)) < 0)
		return r;
	if (rows.n_rows == 0) {
		pbx_rows_free(&rows);
		return pbx_errorf(err, PBX_ENOTFOUND, object, NULL,
				  "is not an operator (or not visible to this operator); see `pbxctl operator list`");
	}
	*ret = rows;
	return 0;
}
