/* SPDX-License-Identifier: MIT */
/*
 * Tenants in PostgreSQL: create, update, status, delete (with --force cascading), list,
 * show and stats. Each change and its audit row share one transaction.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/valid.h"
#include "ctx.h"
#include "pg.h"
#include "selects.h"

static const struct pbx_field tenant_fields[] = {
	{ "id", PBX_FT_INT, PBX_FIELD_READONLY, "numeric id" },
	{ "slug", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "short name, prefixes Asterisk objects" },
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "display name" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "active or suspended" },
	{ "extensions", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "extension range MIN-MAX" },
	{ "ext_next", PBX_FT_INT, PBX_FIELD_READONLY, "next extension to assign" },
	{ "default_inbound", PBX_FT_STRING, PBX_FIELD_EXPORT, "destination of unassigned DIDs" },
	{ "default_policy", PBX_FT_STRING, PBX_FIELD_EXPORT, "default outbound policy" },
	{ "emergency_trunk", PBX_FT_STRING, PBX_FIELD_EXPORT, "trunk for emergency numbers its callers' policies do not allow" },
	{ "emergency_callerid", PBX_FT_STRING, PBX_FIELD_EXPORT, "caller ID of every emergency call" },
	{ "created_at", PBX_FT_TIME, PBX_FIELD_READONLY, "creation time" },
	{ "updated_at", PBX_FT_TIME, PBX_FIELD_READONLY, "last change" },
};

const struct pbx_schema pbx_schema_tenant = {
	.name = "tenant",
	.fields = tenant_fields,
	.n_fields = sizeof(tenant_fields) / sizeof(tenant_fields[0]),
};

static const struct pbx_field stats_fields[] = {
	{ "slug", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant" },
	{ "users", PBX_FT_INT, PBX_FIELD_DEFAULT, "users not deleted" },
	{ "devices", PBX_FT_INT, PBX_FIELD_DEFAULT, "devices" },
	{ "dids", PBX_FT_INT, PBX_FIELD_DEFAULT, "phone numbers" },
	{ "extensions_used", PBX_FT_INT, PBX_FIELD_DEFAULT, "extensions assigned" },
	{ "extensions_free", PBX_FT_INT, PBX_FIELD_DEFAULT, "extensions left in the range" },
};

const struct pbx_schema pbx_schema_tenant_stats = {
	.name = "tenant_stats",
	.fields = stats_fields,
	.n_fields = sizeof(stats_fields) / sizeof(stats_fields[0]),
};

/* The output columns, in schema order; also the audit image of a tenant. */
#define TENANT_JSON \
	"SELECT x.*, to_jsonb(x)::text AS _json FROM (" TENANT_SELECT "WHERE t.id = $1::bigint) x"

int pbx_tenant_check_slug(const char *slug, pbx_error *err)
{
	if (!pbx_valid_slug(slug))
		return pbx_errorf(err, PBX_EINVALID, "tenant", "slug",
				  "slug \"%s\" must match [a-z][a-z0-9-]{1,23} and not be a reserved name (general, globals, zonemessages, default, pbxctl...)",
				  slug ? slug : "");
	return 0;
}

int pbx_tenant_parse_range(const char *object, const char *range, int *ret_min, int *ret_max,
			   pbx_error *err)
{
	const char *dash = range ? strchr(range, '-') : NULL;
	char a[16], b[16];
	size_t la, lb;

	if (!dash)
		goto bad;
	la = (size_t)(dash - range);
	lb = strlen(dash + 1);
	if (la >= sizeof(a) || lb >= sizeof(b))
		goto bad;
	memcpy(a, range, la);
	a[la] = '\0';
	memcpy(b, dash + 1, lb + 1);
	if (!pbx_valid_extension(a) || !pbx_valid_extension(b))
		goto bad;
	if (atoi(a) >= atoi(b))
		return pbx_errorf(err, PBX_EINVALID, object, "extensions",
				  "extension range %s: the first extension must be lower than the last",
				  range);
	*ret_min = atoi(a);
	*ret_max = atoi(b);
	return 0;
bad:
	return pbx_errorf(err, PBX_EINVALID, object, "extensions",
			  "extension range \"%s\" must be MIN-MAX with 2 to 8 digits each, no leading zero",
			  range ? range : "");
}

static int check_name(const char *object, const char *name, pbx_error *err)
{
	if (!pbx_valid_text(name, 128))
		return pbx_errorf(err, PBX_EINVALID, object, "name",
				  "name must be 1 to 128 characters without control characters");
	return 0;
}

static int check_inbound(const char *object, const char *dest, pbx_error *err)
{
	if (dest && *dest && !pbx_valid_destination(dest))
		return pbx_errorf(err, PBX_EINVALID, object, "default_inbound",
				  "default inbound \"%s\" must be user:USERNAME, ext:NNNN, voicemail:USERNAME or external:+E164",
				  dest);
	return 0;
}

/* Lock the tenant row named by slug or id and return its id, or PBX_ENOTFOUND. */
static int lock_tenant(PGconn *pg, const char *tenant, char id[32], pbx_error *err)
{
	const char *p[1] = { tenant };
	PGresult *res = pbx_pg_query(pg,
		"SELECT id FROM tenants WHERE slug = $1 OR id::text = $1 FOR UPDATE", 1, p,
		"tenant", err);

	if (!res)
		return err->code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* Load tenant @id into @rows (when not NULL) and its audit image into @json (owned). */
static int load(PGconn *pg, const char *id, struct pbx_rows *rows, char **json, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg, TENANT_JSON, 1, p, "tenant", err);
	int r = 0;

	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", id);
	} else {
		if (rows)
			r = pbx_pg_fill(res, rows, err);
		if (r == 0 && json && !(*json = strdup(PQgetvalue(res, 0, PQfnumber(res, "_json")))))
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	PQclear(res);
	return r;
}

/* Finish a change: audit it, load the result, commit. Rolls back on failure. */
static int finish(pbx_ctx *ctx, PGconn *pg, const char *id, const char *slug,
		  const char *action, const char *before, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;
	char *after = NULL;
	int r;

	pbx_rows_init(&rows, &pbx_schema_tenant);
	r = load(pg, id, &rows, &after, err);
	if (r == 0)
		r = pbx_audit_append(ctx, pg, slug, action, "tenant", id, before, after, err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	free(after);
	if (r < 0) {
		pbx_pg_rollback(pg);
		pbx_rows_free(&rows);
		return r;
	}
	if (ret)
		*ret = rows;
	else
		pbx_rows_free(&rows);
	return 0;
}

int pbx_tenant_create(pbx_ctx *ctx, const struct pbx_tenant_spec *spec, struct pbx_rows *ret,
		      pbx_error *err)
{
	char object[64], smin[16], smax[16];
	const char *p[5];
	PGresult *res;
	PGconn *pg;
	char id[32];
	int lo, hi, r;

	if ((r = pbx_tenant_check_slug(spec->slug, err)) < 0)
		return r;
	snprintf(object, sizeof(object), "tenant %s", spec->slug);
	if (!spec->extensions)
		return pbx_errorf(err, PBX_EINVALID, object, "extensions",
				  "an extension range is required, e.g. --extensions 1000-1999");
	if ((r = pbx_tenant_parse_range(object, spec->extensions, &lo, &hi, err)) < 0)
		return r;
	if ((r = check_name(object, spec->name ? spec->name : spec->slug, err)) < 0 ||
	    (r = check_inbound(object, spec->default_inbound, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	snprintf(smin, sizeof(smin), "%d", lo);
	snprintf(smax, sizeof(smax), "%d", hi);
	p[0] = spec->slug;
	p[1] = spec->name ? spec->name : spec->slug;
	p[2] = smin;
	p[3] = smax;
	p[4] = spec->default_inbound && *spec->default_inbound ? spec->default_inbound : NULL;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	res = pbx_pg_query(pg,
		"INSERT INTO tenants (slug, display_name, ext_min, ext_max, ext_next, default_inbound) "
		"VALUES ($1, $2, $3::int, $4::int, $3::int, $5) RETURNING id",
		5, p, object, err);
	if (!res) {
		pbx_pg_rollback(pg);
		if (err->code == PBX_ECONFLICT)
			pbx_errorf(err, PBX_ECONFLICT, object, "slug", "a tenant with this slug already exists");
		return err->code;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return finish(ctx, pg, id, spec->slug, "create", NULL, ret, err);
}

int pbx_tenant_update(pbx_ctx *ctx, const char *tenant, const struct pbx_tenant_spec *spec,
		      struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	char object[64], smin[16] = "", smax[16] = "", id[32];
	struct pbx_rows cur;
	char *before = NULL;
	const char *p[8];
	PGresult *res;
	PGconn *pg;
	int lo, hi, r;

	snprintf(object, sizeof(object), "tenant %s", tenant);
	if (spec->slug)
		return pbx_errorf(err, PBX_EINVALID, object, "slug",
				  "a tenant's slug cannot change: it names its Asterisk objects");
	if (spec->extensions) {
		if ((r = pbx_tenant_parse_range(object, spec->extensions, &lo, &hi, err)) < 0)
			return r;
		snprintf(smin, sizeof(smin), "%d", lo);
		snprintf(smax, sizeof(smax), "%d", hi);
	}
	if ((spec->name && (r = check_name(object, spec->name, err)) < 0) ||
	    (r = check_inbound(object, spec->default_inbound, err)) < 0)
		return r;
	if (spec->emergency_callerid && *spec->emergency_callerid &&
	    !pbx_valid_callerid(spec->emergency_callerid))
		return pbx_errorf(err, PBX_EINVALID, object, "emergency_callerid",
				  "emergency caller ID \"%.24s\" must be 2 to 20 digits, optionally "
				  "after a +", spec->emergency_callerid);
	if (spec->emergency_trunk && *spec->emergency_trunk &&
	    (r = pbx_trunk_check_name(object, spec->emergency_trunk, err)) < 0)
		return pbx_errorf(err, PBX_EINVALID, object, "emergency_trunk",
				  "trunk name \"%.40s\" must match [a-z][a-z0-9-]{0,31}",
				  spec->emergency_trunk);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_tenant);
	if ((r = lock_tenant(pg, tenant, id, err)) < 0 || (r = load(pg, id, &cur, &before, err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "tenant %s", pbx_rows_get(&cur, 0, "slug"));
	if (spec->extensions) {
		const char *q[3] = { id, smin, smax };

		res = pbx_pg_query(pg,
			"SELECT min(extension), max(extension), count(*) FROM users "
			"WHERE tenant_id = $1::bigint AND status <> 'deleted' "
			"AND (extension < $2::int OR extension > $3::int)", 3, q, object, err);
		if (!res) {
			r = err->code;
			goto fail;
		}
		if (strcmp(PQgetvalue(res, 0, 2), "0") != 0) {
			r = pbx_errorf(err, PBX_EINVALID, object, "extensions",
				       "range %s would leave %s assigned extension(s) outside (%s..%s); move those users first",
				       spec->extensions, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 0),
				       PQgetvalue(res, 0, 1));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	if (spec->default_policy && *spec->default_policy) {
		const char *q[2] = { id, spec->default_policy };

		res = pbx_pg_query(pg, "SELECT 1 FROM policies WHERE tenant_id = $1::bigint AND name = $2",
				   2, q, object, err);
		if (!res) {
			r = err->code;
			goto fail;
		}
		if (PQntuples(res) == 0)
			r = pbx_errorf(err, PBX_ENOTFOUND, object, "default_policy",
				       "policy %s does not exist in tenant %s", spec->default_policy,
				       pbx_rows_get(&cur, 0, "slug"));
		PQclear(res);
		if (r < 0)
			goto fail;
	}
	if (spec->emergency_trunk && *spec->emergency_trunk) {
		const char *q[2] = { id, spec->emergency_trunk };

		res = pbx_pg_query(pg, "SELECT 1 FROM trunks WHERE name = $2 AND "
				   "(tenant_id IS NULL OR tenant_id = $1::bigint)", 2, q, object, err);
		if (!res) {
			r = err->code;
			goto fail;
		}
		if (PQntuples(res) == 0)
			r = pbx_errorf(err, PBX_ENOTFOUND, object, "emergency_trunk",
				       "tenant %s has no trunk %s, and no global trunk has that name",
				       pbx_rows_get(&cur, 0, "slug"), spec->emergency_trunk);
		PQclear(res);
		if (r < 0)
			goto fail;
	}
	p[0] = id;
	p[1] = spec->name;
	p[2] = spec->default_inbound;
	p[3] = spec->default_policy;
	p[4] = spec->emergency_trunk;
	p[5] = spec->emergency_callerid;
	/* The range apart: a tenant admin may change the other columns, not the range
	 * (migration 0007 grants it no privilege on ext_min and ext_max). */
	if (spec->extensions &&
	    (r = pbx_pg_exec(pg,
		"UPDATE tenants SET ext_min = $2::int, ext_max = $3::int, "
		"ext_next = greatest($2::int, least(ext_next, $3::int + 1)) "
		"WHERE id = $1::bigint", 3, (const char *const[]){ id, smin, smax }, object,
		err)) < 0) {
		if (r == PBX_EPERM)
			snprintf(err->field, sizeof(err->field), "extensions");
		goto fail;
	}
	r = pbx_pg_exec(pg,
		"UPDATE tenants SET display_name = coalesce($2, display_name), "
		"default_inbound = CASE WHEN $3::text IS NULL THEN default_inbound "
		"WHEN $3 = '' THEN NULL ELSE $3 END, "
		"default_policy_id = CASE WHEN $4::text IS NULL THEN default_policy_id "
		"WHEN $4 = '' THEN NULL ELSE (SELECT p.id FROM policies p "
		"WHERE p.tenant_id = $1::bigint AND p.name = $4) END, "
		"emergency_trunk_id = CASE WHEN $5::text IS NULL THEN emergency_trunk_id "
		"WHEN $5 = '' THEN NULL ELSE (SELECT k.id FROM trunks k WHERE k.name = $5) END, "
		"emergency_callerid = CASE WHEN $6::text IS NULL THEN emergency_callerid "
		"WHEN $6 = '' THEN NULL ELSE $6 END, updated_at = now() "
		"WHERE id = $1::bigint", 6, p, object, err);
	if (r < 0)
		goto fail;
	{
		struct pbx_rows after;
		bool changed;

		pbx_rows_init(&after, &pbx_schema_tenant);
		if ((r = load(pg, id, &after, NULL, err)) < 0) {
			pbx_rows_free(&after);
			goto fail;
		}
		changed = false;
		for (size_t i = 0; i < pbx_schema_tenant.n_fields; i++) {
			const char *k = pbx_schema_tenant.fields[i].key;
			const char *a = pbx_rows_get(&cur, 0, k), *b = pbx_rows_get(&after, 0, k);

			if (!strcmp(k, "updated_at"))
				continue;
			if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
				changed = true;
		}
		pbx_rows_free(&after);
		if (ret_changed)
			*ret_changed = changed;
		if (!changed) {
			/* Nothing differs: no write, no audit row. */
			pbx_pg_rollback(pg);
			free(before);
			if (ret)
				*ret = cur;
			else
				pbx_rows_free(&cur);
			return 0;
		}
	}
	r = finish(ctx, pg, id, pbx_rows_get(&cur, 0, "slug"), "update", before, ret, err);
	pbx_rows_free(&cur);
	free(before);
	return r;
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_tenant_set_status(pbx_ctx *ctx, const char *tenant, const char *status,
			  struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	char object[64], id[32], slug[32];
	struct pbx_rows cur;
	char *before = NULL;
	const char *p[2];
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "tenant %s", tenant);
	if (strcmp(status, "active") && strcmp(status, "suspended"))
		return pbx_errorf(err, PBX_EINVALID, object, "status",
				  "status must be active or suspended");
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_tenant);
	if ((r = lock_tenant(pg, tenant, id, err)) < 0 || (r = load(pg, id, &cur, &before, err)) < 0)
		goto fail;
	snprintf(slug, sizeof(slug), "%s", pbx_rows_get(&cur, 0, "slug"));
	if (!strcmp(pbx_rows_get(&cur, 0, "status"), status)) {
		pbx_pg_rollback(pg);
		free(before);
		if (ret_changed)
			*ret_changed = false;
		if (ret)
			*ret = cur;
		else
			pbx_rows_free(&cur);
		return 0;
	}
	p[0] = id;
	p[1] = status;
	r = pbx_pg_exec(pg, "UPDATE tenants SET status = $2, updated_at = now() WHERE id = $1::bigint",
			2, p, object, err);
	if (r < 0)
		goto fail;
	pbx_rows_free(&cur);
	r = finish(ctx, pg, id, slug, !strcmp(status, "active") ? "resume" : "suspend", before,
		   ret, err);
	free(before);
	if (r == 0 && ret_changed)
		*ret_changed = true;
	return r;
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_tenant_delete(pbx_ctx *ctx, const char *tenant, bool force, struct pbx_rows *ret,
		      pbx_error *err)
{
	char object[64], id[32], slug[32];
	struct pbx_rows cur;
	char *before = NULL;
	const char *p[3];
	PGresult *res;
	PGconn *pg;
	long users;
	int r;

	snprintf(object, sizeof(object), "tenant %s", tenant);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_tenant);
	if ((r = lock_tenant(pg, tenant, id, err)) < 0 || (r = load(pg, id, &cur, &before, err)) < 0)
		goto fail;
	snprintf(slug, sizeof(slug), "%s", pbx_rows_get(&cur, 0, "slug"));
	snprintf(object, sizeof(object), "tenant %s", slug);
	p[0] = id;
	if (!(res = pbx_pg_query(pg, "SELECT count(*) FROM users WHERE tenant_id = $1::bigint", 1, p,
				 object, err))) {
		r = err->code;
		goto fail;
	}
	users = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (users > 0 && !force) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, NULL,
			       "still has %ld user(s); delete them first, or use --force to remove the tenant with everything in it",
			       users);
		goto fail;
	}
	/* Every removed child gets its own audit row, masked as on any other delete. */
	p[1] = pbx_ctx_source(ctx);
	p[2] = slug;
	r = pbx_pg_exec(pg,
		"SELECT audit_append($2, $3, 'delete', 'device', d.id::text, "
		"to_jsonb(d) - 'secret_sealed' || '{\"secret\": \"********\"}'::jsonb, NULL) "
		"FROM devices d WHERE d.tenant_id = $1::bigint ORDER BY d.id", 3, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"SELECT audit_append($2, $3, 'delete', 'user', u.id::text, "
			"to_jsonb(u) - 'pin_hash', NULL) "
			"FROM users u WHERE u.tenant_id = $1::bigint ORDER BY u.id", 3, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"SELECT audit_append($2, $3, 'delete', x.entity, x.id, x.image, NULL) FROM ("
			"SELECT 'did' AS entity, d.id::text AS id, to_jsonb(d) AS image FROM dids d "
			"WHERE d.tenant_id = $1::bigint UNION ALL "
			"SELECT 'trunk', k.id::text, to_jsonb(k) - 'secret_sealed' FROM trunks k "
			"WHERE k.tenant_id = $1::bigint UNION ALL "
			"SELECT 'policy', p.id::text, to_jsonb(p) FROM policies p "
			"WHERE p.tenant_id = $1::bigint) x ORDER BY x.entity, x.id", 3, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM tenants WHERE id = $1::bigint", 1, p, object, err);
	if (r == 0)
		r = pbx_audit_append(ctx, pg, slug, "delete", "tenant", id, before, NULL, err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0)
		goto fail;
	free(before);
	if (ret)
		*ret = cur;
	else
		pbx_rows_free(&cur);
	return 0;
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_tenant_list(pbx_ctx *ctx, const char *status, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { status };
	PGconn *pg;

	if (status && strcmp(status, "active") && strcmp(status, "suspended"))
		return pbx_errorf(err, PBX_EINVALID, "tenant", "status",
				  "status must be active or suspended");
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	return pbx_pg_select(pg, TENANT_SELECT "WHERE $1::text IS NULL OR t.status = $1 ORDER BY t.slug",
			   1, p, "tenant", &pbx_schema_tenant, ret, err);
}

int pbx_tenant_show(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { tenant };
	struct pbx_rows rows;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	r = pbx_pg_select(pg, TENANT_SELECT "WHERE t.slug = $1 OR t.id::text = $1", 1, p, "tenant",
			  &pbx_schema_tenant, &rows, err);
	if (r == 0 && rows.n_rows == 0) {
		pbx_rows_free(&rows);
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	if (r == 0)
		*ret = rows;
	return r;
}

int pbx_tenant_stats(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { tenant };
	struct pbx_rows rows;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	r = pbx_pg_select(pg,
		"SELECT t.slug, "
		"(SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.status <> 'deleted')::text AS users, "
		"(SELECT count(*) FROM devices d WHERE d.tenant_id = t.id)::text AS devices, "
		"(SELECT count(*) FROM dids n WHERE n.tenant_id = t.id)::text AS dids, "
		"(SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.status <> 'deleted')::text AS extensions_used, "
		"(t.ext_max - t.ext_min + 1 - (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.status <> 'deleted'))::text AS extensions_free "
		"FROM tenants t WHERE $1::text IS NULL OR t.slug = $1 OR t.id::text = $1 ORDER BY t.slug",
		1, p, "tenant", &pbx_schema_tenant_stats, &rows, err);
	if (r == 0 && tenant && rows.n_rows == 0) {
		pbx_rows_free(&rows);
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	if (r == 0)
		*ret = rows;
	return r;
}
