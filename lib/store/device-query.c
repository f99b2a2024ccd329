/* SPDX-License-Identifier: MIT */
/*
 * SIP devices in PostgreSQL, the reading half: list, show with an audited reveal, and the
 * key file and secret checks behind `pbxctl secrets`, with the schemas they print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "pbx/device.h"
#include "pbx/secret.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field check_fields[] = {
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant slug" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT, "owner's username" },
	{ "label", PBX_FT_STRING, PBX_FIELD_DEFAULT, "device label" },
	{ "sip_username", PBX_FT_STRING, PBX_FIELD_DEFAULT, "SIP username" },
	{ "problem", PBX_FT_STRING, PBX_FIELD_DEFAULT, "why its secret does not open" },
};

const struct pbx_schema pbx_schema_secret_check = {
	.name = "secret_check",
	.fields = check_fields,
	.n_fields = sizeof(check_fields) / sizeof(check_fields[0]),
};

static const struct pbx_field key_fields[] = {
	{ "key_file", PBX_FT_STRING, PBX_FIELD_DEFAULT, "path of the key file" },
	{ "mode", PBX_FT_STRING, PBX_FIELD_DEFAULT, "its permissions" },
};

const struct pbx_schema pbx_schema_key_file = {
	.name = "key",
	.fields = key_fields,
	.n_fields = sizeof(key_fields) / sizeof(key_fields[0]),
};

void pbx_device_rows_free(struct pbx_rows *rows)
{
	int i = rows->schema ? pbx_schema_index(rows->schema, "secret") : -1;

	for (size_t row = 0; i >= 0 && row < rows->n_rows; row++) {
		char *s = rows->cells[row * rows->schema->n_fields + (size_t)i];

		if (s)
			pbx_secret_wipe(s, strlen(s));
	}
	pbx_rows_free(rows);
}

/* Put the plaintext secret into the single result row: the one time it is shown. */
int pbx_device_hand_out(struct pbx_rows *ret, const char *plain, pbx_error *err)
{
	if (ret && ret->n_rows == 1 && pbx_rows_set(ret, 0, "secret", plain) < 0) {
		pbx_device_rows_free(ret);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	return 0;
}

int pbx_device_list(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		    pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	const char *p[2];
	PGconn *pg;
	int r;

	if (!tenant && user)
		return pbx_errorf(err, PBX_EINVALID, "device", "tenant",
				  "user %s needs its tenant", user);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if (tenant && (r = pbx_user_find(pg, tenant, user, &t, &u, err)) < 0)
		return r;
	/* Every tenant: one query; row-level security leaves an operator its own tenant. */
	p[0] = tenant ? t.id : NULL;
	p[1] = user ? u.id : NULL;
	return pbx_pg_select(pg, DEVICE_SELECT "WHERE ($1::bigint IS NULL AND t.status <> 'deleted' "
			   "OR d.tenant_id = $1::bigint) "
			   "AND ($2::bigint IS NULL OR d.user_id = $2::bigint) "
			   "ORDER BY t.slug, u.username, d.label COLLATE \"C\", d.id", 2, p, "device",
			   &pbx_schema_device, ret, err);
}

int pbx_device_show(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		    bool reveal, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows rows;
	char object[PBX_ERR_OBJECT], *plain = NULL;
	const char *p[2];
	PGresult *res;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_user_find(pg, tenant, user, &t, &u, err)) < 0)
		return r;
	snprintf(object, sizeof(object), "device %s/%s", u.username, device);
	p[0] = u.id;
	p[1] = device;
	res = pbx_pg_query(pg, DEVICE_SELECT ", LATERAL (SELECT d2.id FROM devices d2 "
			   "WHERE d2.user_id = $1::bigint AND (d2.label = $2 OR d2.sip_username = $2 "
			   "OR d2.id = substring($2 from '^[1-9][0-9]{0,17}$')::bigint) "
			   "ORDER BY d2.label = $2 DESC, d2.sip_username = $2 DESC LIMIT 1) m "
			   "WHERE d.id = m.id", 2, p, object, err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %s has no device \"%s\"",
				  u.username, device);
	}
	pbx_rows_init(&rows, &pbx_schema_device);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r < 0 || !reveal)
		goto done;
	snprintf(object, sizeof(object), "device %s/%s", u.username, pbx_rows_get(&rows, 0, "label"));
	p[0] = pbx_rows_get(&rows, 0, "id");
	if (!(res = pbx_pg_query(pg, "SELECT secret_sealed FROM devices WHERE id = $1::bigint", 1,
				 p, object, err))) {
		r = err->code;
		goto done;
	}
	r = PQntuples(res) == 1 ? pbx_ctx_open_secret(ctx, PQgetvalue(res, 0, 0), &plain, err) :
		pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s does not exist any more", object);
	PQclear(res);
	if (r < 0) {
		snprintf(err->object, sizeof(err->object), "%s", object);
		goto done;
	}
	/* The reveal is on record, committed, before the secret leaves the library. */
	if ((r = pbx_audit_reveal(ctx, t.slug, "device", p[0], err)) == 0)
		r = pbx_device_hand_out(&rows, plain, err);
	pbx_secret_free_str(plain);
done:
	if (r < 0) {
		pbx_device_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_device_key_init(pbx_ctx *ctx, const char *path, struct pbx_rows *ret, pbx_error *err)
{
	const char *file = path ? path : pbx_ctx_config(ctx)->key_file;
	struct pbx_rows rows;
	long row;
	int r;

	if ((r = pbx_secret_key_init(file, err)) < 0)
		return r;
	pbx_rows_init(&rows, &pbx_schema_key_file);
	if ((row = pbx_rows_add(&rows)) < 0 || pbx_rows_set(&rows, 0, "key_file", file) < 0 ||
	    pbx_rows_set(&rows, 0, "mode", "0600") < 0) {
		pbx_rows_free(&rows);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	if (ret)
		*ret = rows;
	else
		pbx_rows_free(&rows);
	return 0;
}

int pbx_device_verify_secrets(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret,
			      long *ret_checked, pbx_error *err)
{
	pbx_secret_key *key = pbx_ctx_key(ctx, err);
	struct pbx_tenant_ref t;
	struct pbx_rows rows;
	const char *p[1];
	PGresult *res;
	PGconn *pg;
	long bad = 0;
	int r = 0, n;

	if (!key)
		return err->code;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if (tenant && (r = pbx_user_find(pg, tenant, NULL, &t, NULL, err)) < 0)
		return r;
	p[0] = tenant ? t.id : NULL;
	res = pbx_pg_query(pg, "SELECT t.slug, u.username, d.label, d.sip_username, d.secret_sealed "
			   "FROM devices d JOIN users u ON u.id = d.user_id "
			   "JOIN tenants t ON t.id = d.tenant_id "
			   "WHERE $1::bigint IS NULL OR d.tenant_id = $1::bigint "
			   "ORDER BY t.slug, u.username, d.label COLLATE \"C\", d.id", 1, p, "device", err);
	if (!res)
		return err->code;
	pbx_rows_init(&rows, &pbx_schema_secret_check);
	n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		pbx_error e = PBX_ERROR_INIT;
		char *plain = NULL;
		long row;

		if (pbx_ctx_open_secret(ctx, PQgetvalue(res, i, 4), &plain, &e) == 0) {
			pbx_secret_free_str(plain);
			continue;
		}
		if (bad++ == 0)
			pbx_errorf(err, PBX_EINVALID, NULL, "secret", "device %s/%s: %s",
				   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), e.message);
		if ((row = pbx_rows_add(&rows)) < 0 ||
		    pbx_rows_set(&rows, (size_t)row, "tenant", PQgetvalue(res, i, 0)) < 0 ||
		    pbx_rows_set(&rows, (size_t)row, "user", PQgetvalue(res, i, 1)) < 0 ||
		    pbx_rows_set(&rows, (size_t)row, "label", PQgetvalue(res, i, 2)) < 0 ||
		    pbx_rows_set(&rows, (size_t)row, "sip_username", PQgetvalue(res, i, 3)) < 0 ||
		    pbx_rows_set(&rows, (size_t)row, "problem", e.message) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	PQclear(res);
	if (r == 0 && bad > 0) {
		char first[PBX_ERR_MESSAGE];

		snprintf(first, sizeof(first), "%s", err->message);
		r = pbx_errorf(err, PBX_EINVALID, NULL, "secret",
			       "%ld of %d device secrets do not open; first %s", bad, n, first);
	}
	if (ret_checked)
		*ret_checked = n;
	if (ret)
		*ret = rows;
	else
		pbx_rows_free(&rows);
	return r;
}
