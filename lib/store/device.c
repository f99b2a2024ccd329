/* SPDX-License-Identifier: MIT */
/*
 * SIP devices in PostgreSQL, the writing half: create (alone, or with a new user) with a
 * random SIP username and a sealed random secret, update, enable and disable, delete and
 * rotate the secret. The secret is sealed before the transaction starts, so a missing key
 * writes nothing; the plaintext lives only in buffers that are wiped, and in the one result
 * row that create and rotate-secret hand back. Plain creates take one round trip
 * (create_plain); anything else takes the steps that report every refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/valid.h"
#include "change.h"
#include "ctx.h"
#include "device-internal.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field device_fields[] = {
	STORE_FIELD_ID,
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
	STORE_FIELDS_TIMES,
};

const struct pbx_schema pbx_schema_device = STORE_SCHEMA("device", device_fields);

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

/* A new secret, and its sealed form (owned by the caller). Wipe @plain after use. */
static int new_secret(pbx_ctx *ctx, char plain[PBX_SECRET_SIP_BUFSZ], char **sealed,
		      pbx_error *err)
{
	pbx_secret_key *key = pbx_ctx_seal_key(ctx, err);
	int r;

	if (!key)
		return err->code;
	if ((r = pbx_secret_generate_sip(plain, PBX_SECRET_SIP_BUFSZ, err)) < 0)
		return r;
	return pbx_secret_seal(key, plain, sealed, err);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* A plain device create (migration 0006), its result and its audit row: one statement. */
#define DEVICE_PLAIN \
	"SELECT x.*, audit_append($12, x.tenant, 'create', 'device', x.id, NULL, to_jsonb(x)) " \
	"AS _audit FROM (SELECT " DEVICE_COLUMNS "FROM device_create_plain((SELECT t.id " \
	"FROM tenants t WHERE " TENANT_MATCH("$1") "), $2, $3, $4, $5, coalesce($6, 'udp'), " \
	"coalesce($7::boolean, true), coalesce($8::boolean, true), coalesce($9::boolean, true), " \
	"coalesce($10::boolean, false), coalesce(string_to_array($11, ','), '{ulaw,alaw}'), " \
	"$13::int) d JOIN users u ON u.id = d.user_id JOIN tenants t ON t.id = d.tenant_id) x"

void pbx_device_plain_step(pbx_ctx *ctx, const char *tenant, const char *user,
			   const struct pbx_device_spec *spec, const char *sip_username,
			   const char *sealed, struct store_step *step)
{
	const char **p = step->params;

	*step = (struct store_step){ .slot = STMT_DEVICE_PLAIN, .sql = DEVICE_PLAIN, .n = 13 };
	p[0] = tenant;
	p[1] = user;
	p[2] = spec->label;
	p[3] = sip_username;
	p[4] = sealed;
	p[5] = spec->transport;
	p[6] = tri(spec->force_rport);
	p[7] = tri(spec->rewrite_contact);
	p[8] = tri(spec->rtp_symmetric);
	p[9] = tri(spec->direct_media);
	p[10] = spec->codecs;
	p[11] = pbx_ctx_source(ctx);
	p[12] = STRINGIFY(PBX_DEVICE_MAX_PER_USER);
}

/*
 * The plain case of a create in one round trip: the user @new (when not NULL; @hash its
 * PIN's) and @n devices of @user in @tenant, with their sealed secrets. Their rows go to
 * @urows and @drows. 0: committed; 1: nothing written, take the general path; PBX_ERROR
 * (out of memory after commit).
 */
static int create_plain(pbx_ctx *ctx, PGconn *pg, const char *tenant,
			const struct pbx_user_spec *new, const char *hash, const char *user,
			const struct pbx_device_spec *devices, size_t n, char *const *sealed,
			struct pbx_rows *urows, struct pbx_rows *drows, pbx_error *err)
{
	struct store_step steps[1 + PBX_DEVICE_MAX_PER_USER];
	struct pbx_rows *out[1 + PBX_DEVICE_MAX_PER_USER];
	char sipu[PBX_DEVICE_MAX_PER_USER][PBX_SECRET_USERNAME_BUFSZ];
	pbx_error ignored = PBX_ERROR_INIT;
	size_t k = 0;

	/* A user named by extension or id is found by the general path (USER_MATCH). */
	if (n > PBX_DEVICE_MAX_PER_USER || (new && !pbx_user_plain(new)) ||
	    !pbx_valid_username(user))
		return 1;
	if (new) {
		out[k] = urows;
		pbx_user_plain_step(ctx, tenant, new, hash, &steps[k++]);
	}
	for (size_t i = 0; i < n; i++) {
		/* SIP usernames start with the slug: a tenant named by its id takes the long way. */
		if (pbx_secret_generate_sip_username(tenant, sipu[i], sizeof(sipu[i]), &ignored) < 0)
			return 1;
		out[k] = drows;
		pbx_device_plain_step(ctx, tenant, user, &devices[i], sipu[i], sealed[i], &steps[k++]);
	}
	return store_fast(pg, steps, k, out, err);
}

/*
 * Inside an open transaction, with the user's row locked (or new): check the limit and the
 * label (a fresh snapshot, taken after the lock), insert, read the result and append its
 * audit row, in one round trip; the row is appended to @rows. The SIP username is random;
 * a collision is unlikely, and simply drawn again.
 */
static int insert_device(pbx_ctx *ctx, PGconn *pg, const struct pbx_tenant_ref *t,
			 const char *user_id, const char *username,
			 const struct pbx_device_spec *spec, const char *sealed,
			 struct pbx_rows *rows, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], sipu[PBX_SECRET_USERNAME_BUFSZ], limit[16];
	const char *p[14];
	PGresult *res;
	bool done = false;
	int r = 0;

	snprintf(object, sizeof(object), "device %s/%s", username, spec->label);
	snprintf(limit, sizeof(limit), "%d", PBX_DEVICE_MAX_PER_USER);
	p[0] = user_id;
	p[1] = t->id;
	p[2] = spec->label;
	p[3] = sipu;
	p[4] = sealed;
	p[5] = spec->transport;
	p[6] = tri(spec->force_rport);
	p[7] = tri(spec->rewrite_contact);
	p[8] = tri(spec->rtp_symmetric);
	p[9] = tri(spec->direct_media);
	p[10] = spec->codecs;
	p[11] = limit;
	p[12] = pbx_ctx_source(ctx);
	p[13] = t->slug;
	for (int attempt = 0; attempt < 8 && !done && r == 0; attempt++) {
		if ((r = pbx_secret_generate_sip_username(t->slug, sipu, sizeof(sipu), err)) < 0)
			return r;
		res = store_stmt(pg, STMT_DEVICE_INSERT,
			"WITH chk AS (SELECT count(*) AS n, coalesce(bool_or(label = $3), false) AS dup "
			"FROM devices WHERE user_id = $1::bigint), "
			"ins AS (INSERT INTO devices (user_id, tenant_id, label, sip_username, "
			"secret_sealed, transport, force_rport, rewrite_contact, rtp_symmetric, "
			"direct_media, codecs) SELECT $1::bigint, $2::bigint, $3, $4, $5, "
			"coalesce($6, 'udp'), coalesce($7::boolean, true), coalesce($8::boolean, true), "
			"coalesce($9::boolean, true), coalesce($10::boolean, false), "
			"coalesce(string_to_array($11, ','), '{ulaw,alaw}') FROM chk "
			"WHERE chk.n < $12::int AND NOT chk.dup "
			"ON CONFLICT (sip_username) DO NOTHING RETURNING *) "
			"SELECT chk.n AS _n, chk.dup AS _dup, x.* FROM chk LEFT JOIN (SELECT y.*, "
			"audit_append($13, $14, 'create', 'device', y.id, NULL, to_jsonb(y)) AS _audit "
			"FROM (SELECT " DEVICE_COLUMNS "FROM ins d JOIN users u ON u.id = d.user_id "
			"JOIN tenants t ON t.id = d.tenant_id) y) x ON true", 14, p, object, err);
		if (!res)
			return err->code;
		if (!PQgetisnull(res, 0, PQfnumber(res, "id"))) {
			done = true;
			r = pbx_pg_fill(res, rows, err);
		} else if (!strcmp(PQgetvalue(res, 0, 1), "t")) {
			r = pbx_errorf(err, PBX_ECONFLICT, object, "label",
				       "user %s already has a device labelled \"%s\"", username,
				       spec->label);
		} else if (strtol(PQgetvalue(res, 0, 0), NULL, 10) >= PBX_DEVICE_MAX_PER_USER) {
			r = pbx_errorf(err, PBX_ECONFLICT, object, NULL,
				       "user %s already has %d devices, the most a user may have",
				       username, PBX_DEVICE_MAX_PER_USER);
		}
		PQclear(res);
	}
	if (r == 0 && !done)
		r = pbx_errorf(err, PBX_ERROR, object, "sip_username",
			       "could not draw an unused SIP username");
	return r;
}

int pbx_device_create(pbx_ctx *ctx, const char *tenant, const char *user,
		      const struct pbx_device_spec *spec, struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], plain[PBX_SECRET_SIP_BUFSZ] = "", *sealed = NULL;
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows rows;
	const char *p[2];
	PGresult *res;
	PGconn *pg = NULL;
	int r;

	pbx_rows_init(&rows, &pbx_schema_device);
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
	/* The plain case in one round trip; anything else, or any doubt, takes the steps below. */
	if ((r = create_plain(ctx, pg, tenant, NULL, NULL, user, spec, 1, &sealed, NULL, &rows,
			      err)) <= 0)
		goto done;
	if ((r = store_tx_begin(pg, err)) < 0)
		goto cleanup;
	/* Find the user and lock its row: the limit and the label hold until commit. */
	p[0] = tenant;
	p[1] = user;
	res = store_stmt(pg, STMT_DEVICE_CREATE_LOCK,
		"SELECT t.id::text, t.slug, u.id::text, u.username, u.status "
		"FROM tenants t CROSS JOIN LATERAL (SELECT " USER_MATCH("t.id", "$2") " AS id) m "
		"JOIN users u ON u.id = m.id WHERE " TENANT_MATCH("$1") " "
		"FOR UPDATE OF u", 2, p, object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		/* Say which is missing, the tenant or the user. */
		if ((r = pbx_user_find(pg, tenant, user, &t, &u, err)) == 0)
			r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %s does not exist any more",
				       user);
		goto fail;
	}
	snprintf(t.id, sizeof(t.id), "%s", PQgetvalue(res, 0, 0));
	snprintf(t.slug, sizeof(t.slug), "%s", PQgetvalue(res, 0, 1));
	snprintf(u.id, sizeof(u.id), "%s", PQgetvalue(res, 0, 2));
	snprintf(u.username, sizeof(u.username), "%s", PQgetvalue(res, 0, 3));
	snprintf(object, sizeof(object), "device %s/%s", u.username, spec->label);
	if (!strcmp(PQgetvalue(res, 0, 4), "deleted"))
		r = pbx_errorf(err, PBX_ECONFLICT, object, "user",
			       "user %s is deleted; restore it before adding devices", u.username);
	PQclear(res);
	if (r < 0 ||
	    (r = insert_device(ctx, pg, &t, u.id, u.username, spec, sealed, &rows, err)) < 0 ||
	    (r = pbx_pg_commit(pg, err)) < 0)
		goto fail;
done:
	if (r == 0 && ret) {
		*ret = rows;
		pbx_rows_init(&rows, &pbx_schema_device);
		r = pbx_device_hand_out(ret, plain, err);
	}
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&rows);
	pbx_secret_wipe(plain, sizeof(plain));
	free(sealed);
	return r;
}

int pbx_user_create_with_devices(pbx_ctx *ctx, const char *tenant,
				 const struct pbx_user_spec *user,
				 const struct pbx_device_spec *devices, size_t n_devices,
				 struct pbx_rows *ret_user, struct pbx_rows *ret_devices,
				 pbx_error *err)
{
	char hash[PBX_SECRET_HASH_BUFSZ] = "", object[PBX_ERR_OBJECT];
	char plain[PBX_DEVICE_MAX_PER_USER][PBX_SECRET_SIP_BUFSZ];
	char *sealed[PBX_DEVICE_MAX_PER_USER] = { NULL };
	struct pbx_rows urows, drows;
	struct pbx_tenant_ref t;
	PGconn *pg = NULL;
	int r;

	pbx_rows_init(&urows, &pbx_schema_user);
	pbx_rows_init(&drows, &pbx_schema_device);
	memset(plain, 0, sizeof(plain));
	if ((r = pbx_user_check_new(user, hash, sizeof(hash), err)) < 0)
		goto cleanup;
	if (n_devices > PBX_DEVICE_MAX_PER_USER) {
		r = pbx_errorf(err, PBX_ECONFLICT, NULL, NULL,
			       "user %s: %zu devices asked for, the most a user may have is %d",
			       user->username, n_devices, PBX_DEVICE_MAX_PER_USER);
		goto cleanup;
	}
	for (size_t i = 0; i < n_devices; i++) {
		snprintf(object, sizeof(object), "device %s/%s", user->username,
			 devices[i].label ? devices[i].label : "");
		if ((r = check_spec(object, &devices[i], true, err)) < 0 ||
		    (r = new_secret(ctx, plain[i], &sealed[i], err)) < 0)
			goto cleanup;
	}
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		r = err->code;
		goto cleanup;
	}
	/* The plain case in one round trip; anything else, or any doubt, takes the steps below. */
	if ((r = create_plain(ctx, pg, tenant, user, hash, user->username, devices, n_devices,
			      sealed, &urows, &drows, err)) < 0)
		goto cleanup;
	if (r == 0)
		goto done;
	if ((r = store_tx_begin(pg, err)) < 0)
		goto cleanup;
	/* The new user is invisible to others until commit: its row needs no lock. */
	if ((r = pbx_user_create_tx(ctx, pg, tenant, user, hash, &t, &urows, err)) < 0)
		goto fail;
	for (size_t i = 0; i < n_devices; i++)
		if ((r = insert_device(ctx, pg, &t, pbx_rows_get(&urows, 0, "id"), user->username,
				       &devices[i], sealed[i], &drows, err)) < 0)
			goto fail;
	if ((r = pbx_pg_commit(pg, err)) < 0)
		goto fail;
done:
	for (size_t i = 0; i < n_devices && r == 0; i++)
		if (pbx_rows_set(&drows, i, "secret", plain[i]) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r == 0 && ret_user) {
		*ret_user = urows;
		pbx_rows_init(&urows, &pbx_schema_user);
	}
	if (r == 0 && ret_devices) {
		*ret_devices = drows;
		pbx_rows_init(&drows, &pbx_schema_device);
	}
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&urows);
	pbx_device_rows_free(&drows);
	for (size_t i = 0; i < PBX_DEVICE_MAX_PER_USER; i++)
		free(sealed[i]);
	pbx_secret_wipe(plain, sizeof(plain));
	pbx_secret_wipe(hash, sizeof(hash));
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
	if ((r = store_tx_begin(pg, err)) < 0)
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
	r = store_finish_prepared(ctx, pg, STMT_DEVICE_FINISH, DEVICE_FINISH, &pbx_schema_device,
				  id, t.slug, "update", before, &cur, false, ret, ret_changed, err);
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
		store_unchanged(pg, &cur, ret, ret_changed);
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
	r = store_finish_prepared(ctx, pg, STMT_DEVICE_FINISH, DEVICE_FINISH, &pbx_schema_device,
				  p[0], t.slug, enabled ? "enable" : "disable", before, NULL, true,
				  ret, ret_changed, err);
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
	r = store_finish_prepared(ctx, pg, STMT_DEVICE_FINISH, DEVICE_FINISH, &pbx_schema_device,
				  p[0], t.slug, "rotate-secret", before, NULL, true, ret, NULL,
				  err);
	if (r == 0)
		r = pbx_device_hand_out(ret, plain, err);
cleanup:
	pbx_secret_wipe(plain, sizeof(plain));
	pbx_rows_free(&cur);
	free(sealed);
	free(before);
	return r;
}
