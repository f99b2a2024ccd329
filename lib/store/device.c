/* SPDX-License-Identifier: MIT */
/*
 * SIP devices in PostgreSQL: create with a random SIP username and a sealed random secret,
 * update, enable and disable, delete, rotate the secret, list, show with an audited reveal,
 * and the key file and secret checks behind `pbxctl secrets`. The secret is sealed before the
 * transaction starts, so a missing key writes nothing; the plaintext lives only in buffers
 * that are wiped, and in the one result row that create and rotate-secret hand back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/valid.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field device_fields[] = {
	{ "id", PBX_FT_INT, PBX_FIELD_READONLY, "numeric id" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_READONLY, "tenant slug" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "owner's username" },
	{ "label", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "unique per user, e.g. Desk Phone" },
	{ "sip_username", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_READONLY, "SIP username = endpoint, AOR and auth id" },
	{ "secret", PBX_FT_SECRET, 0, "SIP secret: \"********\" unless just created, rotated or revealed" },
	{ "transport", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "udp, tcp, tls or wss" },
	{ "force_rport", PBX_FT_BOOL, PBX_FIELD_EXPORT, "NAT: reply to the source port" },
	{ "rewrite_contact", PBX_FT_BOOL, PBX_FIELD_EXPORT, "NAT: use the source address as contact" },
	{ "rtp_symmetric", PBX_FT_BOOL, PBX_FIELD_EXPORT, "NAT: send RTP where it comes from" },
	{ "direct_media", PBX_FT_BOOL, PBX_FIELD_EXPORT, "media may bypass Asterisk" },
	{ "codecs", PBX_FT_LIST, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "ordered codec list" },
	{ "enabled", PBX_FT_BOOL, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "may register" },
	{ "created_at", PBX_FT_TIME, PBX_FIELD_READONLY, "creation time" },
	{ "updated_at", PBX_FT_TIME, PBX_FIELD_READONLY, "last change" },
};

const struct pbx_schema pbx_schema_device = {
	.name = "device",
	.fields = device_fields,
	.n_fields = sizeof(device_fields) / sizeof(device_fields[0]),
};

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

/* Load and lock device @2 (label, SIP username or id) of user $1; the image is "before". */
#define DEVICE_LOCK \
	"SELECT x.*, to_jsonb(x)::text AS _json FROM (" DEVICE_SELECT \
	"WHERE d.id = (SELECT d2.id FROM devices d2 WHERE d2.user_id = $1::bigint " \
	"AND (d2.label = $2 OR d2.sip_username = $2 " \
	"OR d2.id = substring($2 from '^[1-9][0-9]{0,17}$')::bigint) " \
	"ORDER BY d2.label = $2 DESC, d2.sip_username = $2 DESC LIMIT 1) FOR UPDATE OF d) x"

#define DEVICE_FINISH \
	"SELECT x.*, audit_append($2, $3, $4, 'device', x.id, $5::jsonb, to_jsonb(x)) AS _audit " \
	"FROM (" DEVICE_SELECT "WHERE d.id = $1::bigint) x"

static const char *const transports[] = { "udp", "tcp", "tls", "wss", NULL };
static const char *const codecs_known[] = { "ulaw", "alaw", "g722", "opus", "gsm", "g729", NULL };

int pbx_device_check_label(const char *object, const char *label, pbx_error *err)
{
	if (!pbx_valid_text(label, 64))
		return pbx_errorf(err, PBX_EINVALID, object, "label",
				  "label must be 1 to 64 characters without control characters");
	return 0;
}

int pbx_device_check_transport(const char *object, const char *transport, pbx_error *err)
{
	for (size_t i = 0; transports[i]; i++)
		if (transport && !strcmp(transport, transports[i]))
			return 0;
	return pbx_errorf(err, PBX_EINVALID, object, "transport",
			  "transport \"%s\" must be udp, tcp, tls or wss", transport ? transport : "");
}

int pbx_device_check_codecs(const char *object, const char *codecs, pbx_error *err)
{
	bool seen[sizeof(codecs_known) / sizeof(codecs_known[0])] = { false };
	const char *p = codecs ? codecs : "";

	for (;;) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; codecs_known[i]; i++)
			if (strlen(codecs_known[i]) == len && !strncmp(p, codecs_known[i], len))
				break;
		if (!codecs_known[i])
			return pbx_errorf(err, PBX_EINVALID, object, "codecs",
					  "codec \"%.*s\" is unknown; codecs is a comma-separated list of "
					  PBX_DEVICE_CODECS, (int)(len > 32 ? 32 : len), p);
		if (seen[i])
			return pbx_errorf(err, PBX_EINVALID, object, "codecs",
					  "codec %s is listed twice", codecs_known[i]);
		seen[i] = true;
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}

static int check_spec(const char *object, const struct pbx_device_spec *s, bool create,
		      pbx_error *err)
{
	int r;

	if (create && !s->label)
		return pbx_errorf(err, PBX_EINVALID, object, "label", "a label is required");
	if ((s->label && (r = pbx_device_check_label(object, s->label, err)) < 0) ||
	    (s->transport && (r = pbx_device_check_transport(object, s->transport, err)) < 0) ||
	    (s->codecs && (r = pbx_device_check_codecs(object, s->codecs, err)) < 0))
		return r;
	return 0;
}

static const char *tri(int v)
{
	return v == PBX_UNSET ? NULL : v ? "true" : "false";
}

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

/* A new secret, and its sealed form (owned by the caller). Wipe @plain after use. */
static int new_secret(pbx_ctx *ctx, char plain[PBX_SECRET_SIP_BUFSZ], char **sealed,
		      pbx_error *err)
{
	pbx_secret_key *key = pbx_ctx_key(ctx, err);
	int r;

	if (!key)
		return err->code;
	if ((r = pbx_secret_generate_sip(plain, PBX_SECRET_SIP_BUFSZ, err)) < 0)
		return r;
	return pbx_secret_seal(key, plain, sealed, err);
}

/* Put the plaintext secret into the single result row: the one time it is shown. */
static int hand_out(struct pbx_rows *ret, const char *plain, pbx_error *err)
{
	if (ret && ret->n_rows == 1 && pbx_rows_set(ret, 0, "secret", plain) < 0) {
		pbx_device_rows_free(ret);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	return 0;
}

int pbx_device_create(pbx_ctx *ctx, const char *tenant, const char *user,
		      const struct pbx_device_spec *spec, struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], plain[PBX_SECRET_SIP_BUFSZ] = "", sipu[PBX_SECRET_USERNAME_BUFSZ];
	char *sealed = NULL, id[24] = "";
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	const char *p[12];
	PGresult *res;
	PGconn *pg = NULL;
	int r;

	snprintf(object, sizeof(object), "device %s/%s", user, spec->label ? spec->label : "");
	if ((r = check_spec(object, spec, true, err)) < 0)
		return r;
	/* No key, no device: nothing is written before the secret is sealed. */
	if ((r = new_secret(ctx, plain, &sealed, err)) < 0)
		goto cleanup;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		r = err->code;
		goto cleanup;
	}
	if ((r = pbx_pg_begin(pg, err)) < 0 || (r = pbx_user_find(pg, tenant, user, &t, &u, err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "device %s/%s", u.username, spec->label);
	/* The user's row lock makes the count and the label check hold until commit. */
	p[0] = u.id;
	p[1] = spec->label;
	res = pbx_pg_query(pg,
		"SELECT u.status, (SELECT count(*) FROM devices WHERE user_id = u.id), "
		"EXISTS (SELECT 1 FROM devices WHERE user_id = u.id AND label = $2) "
		"FROM users u WHERE u.id = $1::bigint FOR UPDATE", 2, p, object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) != 1)
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %s does not exist any more",
			       u.username);
	else if (!strcmp(PQgetvalue(res, 0, 0), "deleted"))
		r = pbx_errorf(err, PBX_ECONFLICT, object, "user",
			       "user %s is deleted; restore it before adding devices", u.username);
	else if (!strcmp(PQgetvalue(res, 0, 2), "t"))
		r = pbx_errorf(err, PBX_ECONFLICT, object, "label",
			       "user %s already has a device labelled \"%s\"", u.username, spec->label);
	else if (strtol(PQgetvalue(res, 0, 1), NULL, 10) >= PBX_DEVICE_MAX_PER_USER)
		r = pbx_errorf(err, PBX_ECONFLICT, object, NULL,
			       "user %s already has %d devices, the most a user may have",
			       u.username, PBX_DEVICE_MAX_PER_USER);
	PQclear(res);
	if (r < 0)
		goto fail;
	p[1] = t.id;
	p[2] = spec->label;
	p[3] = sipu;
	p[4] = sealed;
	p[5] = spec->transport;
	p[6] = tri(spec->force_rport);
	p[7] = tri(spec->rewrite_contact);
	p[8] = tri(spec->rtp_symmetric);
	p[9] = tri(spec->direct_media);
	p[10] = spec->codecs;
	/* The SIP username is random; a collision is unlikely, and simply drawn again. */
	for (int attempt = 0; attempt < 8 && !id[0]; attempt++) {
		if ((r = pbx_secret_generate_sip_username(t.slug, sipu, sizeof(sipu), err)) < 0)
			goto fail;
		res = pbx_pg_query(pg,
			"INSERT INTO devices (user_id, tenant_id, label, sip_username, secret_sealed, "
			"transport, force_rport, rewrite_contact, rtp_symmetric, direct_media, codecs) "
			"VALUES ($1::bigint, $2::bigint, $3, $4, $5, coalesce($6, 'udp'), "
			"coalesce($7::boolean, true), coalesce($8::boolean, true), "
			"coalesce($9::boolean, true), coalesce($10::boolean, false), "
			"coalesce(string_to_array($11, ','), '{ulaw,alaw}')) "
			"ON CONFLICT (sip_username) DO NOTHING RETURNING id::text", 11, p, object, err);
		if (!res) {
			r = err->code;
			goto fail;
		}
		if (PQntuples(res) == 1)
			snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (!id[0]) {
		r = pbx_errorf(err, PBX_ERROR, object, "sip_username",
			       "could not draw an unused SIP username");
		goto fail;
	}
	r = pbx_user_finish(ctx, pg, DEVICE_FINISH, &pbx_schema_device, id, t.slug, "create", NULL,
			    NULL, true, ret, NULL, err);
	if (r == 0)
		r = hand_out(ret, plain, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_secret_wipe(plain, sizeof(plain));
	free(sealed);
	return r;
}

/*
 * The common start of a change to one device: find its user, begin, lock and load it.
 * On success the transaction is open and the caller owns @cur and @before.
 */
static int begin_change(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
			PGconn **ret_pg, struct pbx_tenant_ref *t, char object[PBX_ERR_OBJECT],
			struct pbx_rows *cur, char **before, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	struct pbx_user_ref u;
	const char *p[2];
	PGresult *res;
	int r;

	pbx_rows_init(cur, &pbx_schema_device);
	*before = NULL;
	snprintf(object, PBX_ERR_OBJECT, "device %s/%s", user, device);
	if (!pg)
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	if ((r = pbx_user_find(pg, tenant, user, t, &u, err)) < 0)
		goto fail;
	snprintf(object, PBX_ERR_OBJECT, "device %s/%s", u.username, device);
	p[0] = u.id;
	p[1] = device;
	if (!(res = pbx_pg_query(pg, DEVICE_LOCK, 2, p, object, err))) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %s has no device \"%s\"",
			       u.username, device);
		goto fail;
	}
	r = pbx_pg_fill(res, cur, err);
	if (r == 0 && !(*before = strdup(PQgetvalue(res, 0, PQfnumber(res, "_json")))))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	PQclear(res);
	if (r < 0)
		goto fail;
	snprintf(object, PBX_ERR_OBJECT, "device %s/%s", u.username, pbx_rows_get(cur, 0, "label"));
	*ret_pg = pg;
	return 0;
fail:
	pbx_rows_free(cur);
	pbx_pg_rollback(pg);
	return r;
}

int pbx_device_update(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		      const struct pbx_device_spec *spec, struct pbx_rows *ret, bool *ret_changed,
		      pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_rows cur;
	char object[PBX_ERR_OBJECT], *before = NULL;
	const char *id, *p[8];
	PGresult *res;
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "device %s/%s", user, device);
	if ((r = check_spec(object, spec, false, err)) < 0)
		return r;
	if ((r = begin_change(ctx, tenant, user, device, &pg, &t, object, &cur, &before, err)) < 0)
		return r;
	id = pbx_rows_get(&cur, 0, "id");
	if (spec->label && strcmp(spec->label, pbx_rows_get(&cur, 0, "label"))) {
		p[0] = id;
		p[1] = spec->label;
		res = pbx_pg_query(pg, "SELECT 1 FROM devices WHERE user_id = (SELECT user_id FROM "
				   "devices WHERE id = $1::bigint) AND label = $2", 2, p, object, err);
		if (!res) {
			r = err->code;
			goto fail;
		}
		if (PQntuples(res) > 0)
			r = pbx_errorf(err, PBX_ECONFLICT, object, "label",
				       "user %s already has a device labelled \"%s\"",
				       pbx_rows_get(&cur, 0, "user"), spec->label);
		PQclear(res);
		if (r < 0)
			goto fail;
	}
	p[0] = id;
	p[1] = spec->label;
	p[2] = spec->transport;
	p[3] = tri(spec->force_rport);
	p[4] = tri(spec->rewrite_contact);
	p[5] = tri(spec->rtp_symmetric);
	p[6] = tri(spec->direct_media);
	p[7] = spec->codecs;
	r = pbx_pg_exec(pg,
		"UPDATE devices SET label = coalesce($2, label), transport = coalesce($3, transport), "
		"force_rport = coalesce($4::boolean, force_rport), "
		"rewrite_contact = coalesce($5::boolean, rewrite_contact), "
		"rtp_symmetric = coalesce($6::boolean, rtp_symmetric), "
		"direct_media = coalesce($7::boolean, direct_media), "
		"codecs = coalesce(string_to_array($8, ','), codecs), updated_at = now() "
		"WHERE id = $1::bigint", 8, p, object, err);
	if (r < 0)
		goto fail;
	r = pbx_user_finish(ctx, pg, DEVICE_FINISH, &pbx_schema_device, id, t.slug, "update",
			    before, &cur, false, ret, ret_changed, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_device_set_enabled(pbx_ctx *ctx, const char *tenant, const char *user,
			   const char *device, bool enabled, struct pbx_rows *ret,
			   bool *ret_changed, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_rows cur;
	char object[PBX_ERR_OBJECT], *before = NULL;
	const char *p[2];
	PGconn *pg;
	int r;

	if ((r = begin_change(ctx, tenant, user, device, &pg, &t, object, &cur, &before, err)) < 0)
		return r;
	if (!strcmp(pbx_rows_get(&cur, 0, "enabled"), enabled ? "true" : "false")) {
		pbx_pg_rollback(pg);
		if (ret_changed)
			*ret_changed = false;
		if (ret) {
			*ret = cur;
			pbx_rows_init(&cur, &pbx_schema_device);
		}
		goto cleanup;
	}
	p[0] = pbx_rows_get(&cur, 0, "id");
	p[1] = enabled ? "true" : "false";
	r = pbx_pg_exec(pg, "UPDATE devices SET enabled = $2::boolean, updated_at = now() "
			"WHERE id = $1::bigint", 2, p, object, err);
	if (r < 0) {
		pbx_pg_rollback(pg);
		goto cleanup;
	}
	r = pbx_user_finish(ctx, pg, DEVICE_FINISH, &pbx_schema_device, p[0], t.slug,
			    enabled ? "enable" : "disable", before, NULL, true, ret, ret_changed, err);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_device_delete(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		      struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_rows cur;
	char object[PBX_ERR_OBJECT], *before = NULL;
	const char *p[1];
	PGconn *pg;
	int r;

	if ((r = begin_change(ctx, tenant, user, device, &pg, &t, object, &cur, &before, err)) < 0)
		return r;
	p[0] = pbx_rows_get(&cur, 0, "id");
	r = pbx_audit_append(ctx, pg, t.slug, "delete", "device", p[0], before, NULL, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM devices WHERE id = $1::bigint", 1, p, object, err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0) {
		pbx_pg_rollback(pg);
		pbx_rows_free(&cur);
	} else if (ret) {
		*ret = cur;
	} else {
		pbx_rows_free(&cur);
	}
	free(before);
	return r;
}

int pbx_device_rotate_secret(pbx_ctx *ctx, const char *tenant, const char *user,
			     const char *device, struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], plain[PBX_SECRET_SIP_BUFSZ] = "", *sealed = NULL, *before = NULL;
	struct pbx_tenant_ref t;
	struct pbx_rows cur;
	const char *p[2];
	PGconn *pg;
	int r;

	pbx_rows_init(&cur, &pbx_schema_device);
	if ((r = new_secret(ctx, plain, &sealed, err)) < 0)
		goto cleanup;
	if ((r = begin_change(ctx, tenant, user, device, &pg, &t, object, &cur, &before, err)) < 0)
		goto cleanup;
	p[0] = pbx_rows_get(&cur, 0, "id");
	p[1] = sealed;
	r = pbx_pg_exec(pg, "UPDATE devices SET secret_sealed = $2, updated_at = now() "
			"WHERE id = $1::bigint", 2, p, object, err);
	if (r < 0) {
		pbx_pg_rollback(pg);
		goto cleanup;
	}
	r = pbx_user_finish(ctx, pg, DEVICE_FINISH, &pbx_schema_device, p[0], t.slug,
			    "rotate-secret", before, NULL, true, ret, NULL, err);
	if (r == 0)
		r = hand_out(ret, plain, err);
cleanup:
	pbx_secret_wipe(plain, sizeof(plain));
	pbx_rows_free(&cur);
	free(sealed);
	free(before);
	return r;
}

int pbx_device_list(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		    pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows rows;
	const char *p[2];
	PGresult *res;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_user_find(pg, tenant, user, &t, &u, err)) < 0)
		return r;
	p[0] = t.id;
	p[1] = user ? u.id : NULL;
	res = pbx_pg_query(pg, DEVICE_SELECT "WHERE d.tenant_id = $1::bigint "
			   "AND ($2::bigint IS NULL OR d.user_id = $2::bigint) "
			   "ORDER BY u.username, d.label COLLATE \"C\", d.id", 2, p, "device", err);
	if (!res)
		return err->code;
	pbx_rows_init(&rows, &pbx_schema_device);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_device_show(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		    bool reveal, struct pbx_rows *ret, pbx_error *err)
{
	pbx_secret_key *key = NULL;
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows rows;
	char object[PBX_ERR_OBJECT], *plain = NULL;
	const char *p[2];
	PGresult *res;
	PGconn *pg;
	int r;

	if (reveal && !(key = pbx_ctx_key(ctx, err)))
		return err->code;
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
	r = PQntuples(res) == 1 ? pbx_secret_open(key, PQgetvalue(res, 0, 0), &plain, err) :
		pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s does not exist any more", object);
	PQclear(res);
	if (r < 0) {
		snprintf(err->object, sizeof(err->object), "%s", object);
		goto done;
	}
	/* The reveal is on record before the secret leaves the library. */
	if ((r = pbx_audit_reveal(ctx, t.slug, "device", p[0], err)) == 0)
		r = hand_out(&rows, plain, err);
	pbx_secret_free_str(plain);
done:
	if (r < 0) {
		pbx_device_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_device_remove_of_user(pbx_ctx *ctx, PGconn *pg, const char *slug, const char *user_id,
			      pbx_error *err)
{
	const char *p[3] = { user_id, pbx_ctx_source(ctx), slug };
	int r;

	r = pbx_pg_exec(pg, "SELECT audit_append($2, $3, 'delete', 'device', x.id, to_jsonb(x), NULL) "
			"FROM (" DEVICE_SELECT "WHERE d.user_id = $1::bigint ORDER BY d.id) x", 3, p,
			"device", err);
	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM devices WHERE user_id = $1::bigint", 1, p, "device",
				err);
	return r;
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

		if (pbx_secret_open(key, PQgetvalue(res, i, 4), &plain, &e) == 0) {
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
