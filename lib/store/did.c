/* SPDX-License-Identifier: MIT */
/*
 * DIDs in PostgreSQL: create, update (reassigning is an update), delete, list and show.
 * A destination is checked against the DID's own tenant when it is set; apply checks it
 * again. Each change and its audit row share one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/did.h"
#include "pbx/valid.h"
#include "ctx.h"
#include "change.h"
#include "pg.h"
#include "selects.h"

static const struct pbx_field did_fields[] = {
	STORE_FIELD_ID,
	{ "number", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "E.164 number, unique across tenants" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "owning tenant's slug" },
	{ "label", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "free text, e.g. Main line" },
	{ "provider", PBX_FT_STRING, PBX_FIELD_EXPORT, "carrier the number comes from" },
	{ "destination", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "user:, ext:, voicemail: or external:; null: the tenant's default" },
	{ "enabled", PBX_FT_BOOL, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "routed to its destination (else the default)" },
	STORE_FIELDS_TIMES,
};

const struct pbx_schema pbx_schema_did = STORE_SCHEMA("did", did_fields);

/* Output columns in schema order; also the audit image. */
#define DID_JSON \
	"SELECT x.*, to_jsonb(x)::text AS _json FROM (" DID_SELECT "WHERE d.id = $1::bigint) x"

int pbx_did_check_number(const char *object, const char *number, pbx_error *err)
{
	if (!pbx_valid_e164(number))
		return pbx_errorf(err, PBX_EINVALID, object, "number",
				  "number \"%.40s\" must be E.164: + and 8 to 15 digits, the first not 0",
				  number ? number : "");
	return 0;
}

int pbx_did_check_destination(const char *object, const char *field, const char *dest,
			      pbx_error *err)
{
	static const char *const later[] = { "ring_group:", "ivr:", "queue:" };

	for (size_t i = 0; dest && i < sizeof(later) / sizeof(later[0]); i++)
		if (!strncmp(dest, later[i], strlen(later[i])))
			return pbx_errorf(err, PBX_EINVALID, object, field,
					  "%.*s destinations are not supported yet; use user:, ext:, "
					  "voicemail: or external:", (int)strlen(later[i]) - 1, later[i]);
	if (!pbx_valid_destination(dest))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "destination \"%.64s\" must be user:USERNAME, ext:NNNN, "
				  "voicemail:USERNAME or external:+E164", dest ? dest : "");
	return 0;
}

static int check_text(const char *object, const char *field, const char *v, pbx_error *err)
{
	if (v && *v && !pbx_valid_text(v, 64))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "%s must be 1 to 64 characters without control characters", field);
	return 0;
}

static int check_spec(const char *object, const struct pbx_did_spec *s, pbx_error *err)
{
	int r;

	if ((r = check_text(object, "label", s->label, err)) < 0 ||
	    (r = check_text(object, "provider", s->provider, err)) < 0)
		return r;
	if (s->destination && *s->destination &&
	    (r = pbx_did_check_destination(object, "destination", s->destination, err)) < 0)
		return r;
	return 0;
}

/*
 * The destination must exist in tenant @t: a user that is not deleted, one with voicemail
 * for voicemail:, or an extension one of its users has. A DID never reaches another tenant.
 */
static int check_in_tenant(PGconn *pg, const struct store_tenant *t, const char *object,
			   const char *dest, pbx_error *err)
{
	const char *arg = strchr(dest, ':') + 1, *p[3] = { t->id, arg, NULL };
	bool ext = !strncmp(dest, "ext:", 4), vm = !strncmp(dest, "voicemail:", 10);
	PGresult *res;
	int r = 0;

	if (!strncmp(dest, "external:", 9))
		return 0;
	res = pbx_pg_query(pg, ext ?
		"SELECT username, voicemail FROM users WHERE tenant_id = $1::bigint "
		"AND status <> 'deleted' AND extension::text = $2" :
		"SELECT username, voicemail FROM users WHERE tenant_id = $1::bigint "
		"AND status <> 'deleted' AND username = $2", 2, p, object, err);
	if (!res)
		return err->code;
	if (PQntuples(res) == 0)
		r = pbx_errorf(err, PBX_EINVALID, object, "destination",
			       "destination %s: tenant %s has no %s %s", dest, t->slug,
			       ext ? "user with extension" : "user", arg);
	else if (vm && strcmp(PQgetvalue(res, 0, 1), "t"))
		r = pbx_errorf(err, PBX_EINVALID, object, "destination",
			       "destination %s: user %s has no voicemail box", dest, arg);
	PQclear(res);
	return r;
}

int pbx_did_create(pbx_ctx *ctx, const struct pbx_did_spec *spec, struct pbx_rows *ret,
		   pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24];
	struct store_tenant t;
	const char *p[6];
	PGresult *res;
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "did %.40s", spec->number ? spec->number : "");
	if ((r = pbx_did_check_number(object, spec->number, err)) < 0 ||
	    (r = check_spec(object, spec, err)) < 0)
		return r;
	if (!spec->tenant)
		return pbx_errorf(err, PBX_EINVALID, object, "tenant",
				  "a DID needs a tenant: --tenant SLUG or -t SLUG");
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	if ((r = store_find_tenant(pg, spec->tenant, &t, err)) < 0 ||
	    (spec->destination && *spec->destination &&
	     (r = check_in_tenant(pg, &t, object, spec->destination, err)) < 0))
		goto fail;
	p[0] = t.id;
	p[1] = spec->number;
	p[2] = spec->label && *spec->label ? spec->label : NULL;
	p[3] = spec->provider && *spec->provider ? spec->provider : NULL;
	p[4] = spec->destination && *spec->destination ? spec->destination : NULL;
	p[5] = spec->enabled == 0 ? "false" : "true";
	res = pbx_pg_query(pg,
		"INSERT INTO dids (tenant_id, number, label, provider, destination, enabled) "
		"VALUES ($1::bigint, $2, $3, $4, $5, $6::boolean) "
		"ON CONFLICT (number) DO NOTHING RETURNING id::text", 6, p, object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		r = pbx_errorf(err, PBX_ECONFLICT, object, "number",
			       "number %s is already assigned (DIDs are unique across tenants)",
			       spec->number);
		goto fail;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return store_finish(ctx, pg, DID_JSON, &pbx_schema_did, id, t.slug, "did", "create", NULL,
			  NULL, ret, NULL, err);
fail:
	pbx_pg_rollback(pg);
	return r;
}

/* Lock the DID @number (or id) and load it; the transaction must be open. */
static int lock_did(PGconn *pg, const char *number, char id[24], struct pbx_rows *rows,
		    char **json, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], missing[PBX_ERR_MESSAGE];
	int r;

	snprintf(object, sizeof(object), "did %.40s", number);
	snprintf(missing, sizeof(missing), "DID %.40s does not exist", number);
	r = store_lock(pg, "SELECT id::text FROM dids WHERE number = $1 OR id::text = $1 FOR UPDATE",
		       number, object, missing, id, 24, err);
	return r < 0 ? r : store_load(pg, DID_JSON, id, object, NULL, rows, json, err);
}

int pbx_did_update(pbx_ctx *ctx, const char *number, const struct pbx_did_spec *spec,
		   struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24];
	struct store_tenant t = { .id = "" };
	struct pbx_rows cur;
	char *before = NULL;
	const char *dest, *p[7];
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "did %.40s", number);
	if (spec->number)
		return pbx_errorf(err, PBX_EINVALID, object, "number",
				  "a DID's number cannot change; create the new number instead");
	if ((r = check_spec(object, spec, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_did);
	if ((r = lock_did(pg, number, id, &cur, &before, err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "did %s", pbx_rows_get(&cur, 0, "number"));
	if ((r = store_find_tenant(pg, spec->tenant ? spec->tenant : pbx_rows_get(&cur, 0, "tenant"),
				 &t, err)) < 0)
		goto fail;
	dest = spec->destination ? spec->destination : pbx_rows_get(&cur, 0, "destination");
	if (dest && *dest && (spec->destination || spec->tenant) &&
	    (r = check_in_tenant(pg, &t, object, dest, err)) < 0) {
		if (!spec->destination && strcmp(t.slug, pbx_rows_get(&cur, 0, "tenant")))
			pbx_error_set_hint(err, "moving the DID to %s: give --destination for %s, or "
					   "an empty one to clear it", t.slug, t.slug);
		goto fail;
	}
	p[0] = id;
	p[1] = t.id;
	p[2] = spec->label;
	p[3] = spec->provider;
	p[4] = spec->destination;
	p[5] = spec->enabled < 0 ? NULL : spec->enabled ? "true" : "false";
	r = pbx_pg_exec(pg,
		"UPDATE dids SET tenant_id = $2::bigint, "
		"label = CASE WHEN $3::text IS NULL THEN label WHEN $3 = '' THEN NULL ELSE $3 END, "
		"provider = CASE WHEN $4::text IS NULL THEN provider WHEN $4 = '' THEN NULL ELSE $4 END, "
		"destination = CASE WHEN $5::text IS NULL THEN destination WHEN $5 = '' THEN NULL ELSE $5 END, "
		"enabled = coalesce($6::boolean, enabled), updated_at = now() WHERE id = $1::bigint",
		6, p, object, err);
	if (r < 0)
		goto fail;
	r = store_finish(ctx, pg, DID_JSON, &pbx_schema_did, id, t.slug, "did", "update", before,
		       &cur, ret, ret_changed, err);
	pbx_rows_free(&cur);
	free(before);
	return r;
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_did_delete(pbx_ctx *ctx, const char *number, struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24];
	struct pbx_rows cur;
	char *before = NULL;
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "did %.40s", number);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_did);
	if ((r = lock_did(pg, number, id, &cur, &before, err)) < 0)
		goto fail;
	if ((r = store_remove(ctx, pg, pbx_rows_get(&cur, 0, "tenant"), "delete", "did", id, before,
			      "DELETE FROM dids WHERE id = $1::bigint", object, err)) < 0)
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

int pbx_did_list(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err)
{
	struct store_tenant t;
	const char *p[1] = { NULL };
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if (tenant) {
		if ((r = store_find_tenant(pg, tenant, &t, err)) < 0)
			return r;
		p[0] = t.id;
	}
	return pbx_pg_select(pg, DID_SELECT "WHERE $1::bigint IS NULL OR d.tenant_id = $1::bigint "
			   "ORDER BY d.number", 1, p, "did", &pbx_schema_did, ret, err);
}

int pbx_did_show(pbx_ctx *ctx, const char *number, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { number };
	struct pbx_rows rows;
	PGresult *res;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	res = pbx_pg_query(pg, DID_SELECT "WHERE d.number = $1 OR d.id::text = $1", 1, p, "did",
			   err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "DID %.40s does not exist", number);
	}
	pbx_rows_init(&rows, &pbx_schema_did);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
