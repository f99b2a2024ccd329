/* SPDX-License-Identifier: MIT */
/*
 * Bulk import and export in PostgreSQL: loading the state of many tenants at once, and
 * writing set-based (COPY into temporary staging tables, then one statement per kind of
 * change), with every change's audit image staged and appended to the chained audit log
 * at the end in one pass. COPY carries data only; every statement is a literal with $n
 * parameters. See bulk-store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx/user.h"
#include "bulk-store.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

/* The columns of a tenant as tenant.c's TENANT_SELECT writes them (its audit image too). */
#define BULK_TENANT_SELECT \
	"SELECT t.id::text AS id, t.slug, t.display_name AS name, t.status, " \
	"t.ext_min || '-' || t.ext_max AS extensions, t.ext_next::text AS ext_next, " \
	"t.default_inbound, NULL::text AS default_policy, " \
	PBX_SQL_TIME("t.created_at") " AS created_at, " \
	PBX_SQL_TIME("t.updated_at") " AS updated_at FROM tenants t "

#define STATE_TENANTS \
	"SELECT x.*, t2.ext_min::text AS _ext_min, t2.ext_max::text AS _ext_max, " \
	"t2.ext_next::text AS _ext_next FROM (" BULK_TENANT_SELECT \
	"WHERE t.slug = ANY($1::text[])) x JOIN tenants t2 ON t2.id = x.id::bigint "

static const char *const staging[] = {
	"CREATE TEMP TABLE pbx_bulk_audit (ord bigserial, tenant text, action text, "
	"entity text, entity_id text, before jsonb, after jsonb, "
	"pending boolean NOT NULL DEFAULT false) ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_user_upd (ord serial, id bigint, action text, "
	"display_name text, email text, extension int, status text, outbound_callerid text, "
	"voicemail boolean, pin_hash text, dnd boolean, forward_to text) ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_user_new (ord serial, tenant_id bigint, username text, "
	"display_name text, email text, extension int, status text, outbound_callerid text, "
	"voicemail boolean, pin_hash text, dnd boolean, forward_to text) ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_device_upd (ord serial, id bigint, transport text, "
	"force_rport boolean, rewrite_contact boolean, rtp_symmetric boolean, "
	"direct_media boolean, codecs text, enabled boolean) ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_device_new (ord serial, tenant_id bigint, username text, "
	"label text, sip_username text, secret_sealed text, transport text, "
	"force_rport boolean, rewrite_contact boolean, rtp_symmetric boolean, "
	"direct_media boolean, codecs text, enabled boolean) ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_audit_rows (LIKE audit_log) ON COMMIT DROP",
};

int pbx_store_bulk_begin(PGconn *pg, bool writes, pbx_error *err)
{
	int r;

	if (!writes)
		return pbx_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
				   "database", err);
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(staging) / sizeof(staging[0]); i++)
		if ((r = pbx_pg_exec(pg, staging[i], 0, NULL, "import", err)) < 0)
			break;
	if (r < 0)
		pbx_pg_rollback(pg);
	return r;
}

char *pbx_store_bulk_array(const char *const *items, size_t n)
{
	size_t len = 3;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(items[i]) + 3;
	if (!(s = p = malloc(len)))
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *c = items[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

int pbx_store_bulk_load(PGconn *pg, const char *slugs, bool lock,
			struct pbx_store_bulk_state *ret, pbx_error *err)
{
	struct pbx_store_bulk_state st = { .tenants = NULL };
	const char *p[1] = { slugs };
	char *ids = NULL;
	const char **idv = NULL;
	int n, r = 0;

	st.tenants = pbx_pg_query(pg, lock ? STATE_TENANTS "ORDER BY x.id::bigint FOR UPDATE OF t2"
				  : STATE_TENANTS "ORDER BY x.id::bigint", 1, p, "tenant", err);
	if (!st.tenants)
		return err->code;
	n = PQntuples(st.tenants);
	if (!(idv = malloc(((size_t)n + 1) * sizeof(*idv)))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto fail;
	}
	for (int i = 0; i < n; i++)
		idv[i] = PQgetvalue(st.tenants, i, PQfnumber(st.tenants, "id"));
	if (!(ids = pbx_store_bulk_array(idv, (size_t)n))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto fail;
	}
	p[0] = ids;
	st.users = pbx_pg_query(pg,
		"SELECT x.*, p.tenant_id::text AS _tenant_id, p.pin_hash AS _pin_hash FROM ("
		USER_SELECT "WHERE u.tenant_id = ANY($1::bigint[])) x "
		"JOIN users p ON p.id = x.id::bigint ORDER BY p.tenant_id, p.id", 1, p, "user", err);
	if (!st.users) {
		r = err->code;
		goto fail;
	}
	st.devices = pbx_pg_query(pg,
		"SELECT x.*, d2.tenant_id::text AS _tenant_id, d2.user_id::text AS _user_id FROM ("
		DEVICE_SELECT "WHERE d.tenant_id = ANY($1::bigint[])) x "
		"JOIN devices d2 ON d2.id = x.id::bigint ORDER BY d2.user_id, d2.id", 1, p,
		"device", err);
	if (!st.devices) {
		r = err->code;
		goto fail;
	}
	free(ids);
	free(idv);
	*ret = st;
	return 0;
fail:
	free(ids);
	free(idv);
	pbx_store_bulk_state_free(&st);
	return r;
}

void pbx_store_bulk_state_free(struct pbx_store_bulk_state *st)
{
	PQclear(st->tenants);
	PQclear(st->users);
	PQclear(st->devices);
	*st = (struct pbx_store_bulk_state){ .tenants = NULL };
}

/* ---- COPY --------------------------------------------------------------------------- */

struct copybuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct copybuf *b, const char *s, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *p;

		while (cap < b->n + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* One field in COPY's text format: \N for null; backslash and line breaks escaped. */
static void put_field(struct copybuf *b, const char *s)
{
	if (!s) {
		put(b, "\\N", 2);
		return;
	}
	for (const char *c = s; *c; c++) {
		size_t run = strcspn(c, "\\\n\r\t");

		put(b, c, run);
		c += run;
		if (!*c)
			break;
		put(b, *c == '\\' ? "\\\\" : *c == '\n' ? "\\n" : *c == '\r' ? "\\r" : "\\t", 2);
	}
}

static int copy_in(PGconn *pg, const char *sql, const struct pbx_store_bulk_batch *batch,
		   const char *object, pbx_error *err)
{
	struct copybuf b = { .p = NULL };
	PGresult *res = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0);
	int r = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		r = pbx_pg_error(pg, res, object, err);
		PQclear(res);
		return r;
	}
	PQclear(res);
	for (size_t row = 0; row < batch->n_rows; row++) {
		for (size_t col = 0; col < batch->n_cols; col++) {
			if (col)
				put(&b, "\t", 1);
			put_field(&b, batch->cells[row * batch->n_cols + col]);
		}
		put(&b, "\n", 1);
		if (b.oom)
			break;
		if (b.n >= (1 << 16) || row + 1 == batch->n_rows) {
			if (PQputCopyData(pg, b.p, (int)b.n) != 1)
				break;
			b.n = 0;
		}
	}
	if (b.oom)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	PQputCopyEnd(pg, b.oom ? "out of memory" : NULL);
	free(b.p);
	while ((res = PQgetResult(pg))) {
		if (r == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
			r = pbx_pg_error(pg, res, object, err);
		PQclear(res);
	}
	return r;
}

/* ---- tenants ------------------------------------------------------------------------ */

/* Stage the audit image of tenant $1 as "before" of a pending update. */
#define STAGE_TENANT_BEFORE \
	"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, before, pending) " \
	"SELECT x.slug, 'update', 'tenant', x.id, to_jsonb(x), true FROM (" BULK_TENANT_SELECT \
	"WHERE t.id = $1::bigint) x"

int pbx_store_bulk_tenant_create(PGconn *pg, const char *const v[7], char ret_id[24],
				 pbx_error *err)
{
	const char *p[1];
	PGresult *res = pbx_pg_query(pg,
		"INSERT INTO tenants (slug, display_name, status, ext_min, ext_max, ext_next, "
		"default_inbound) VALUES ($1, $2, $3, $4::int, $5::int, $6::int, $7) RETURNING id::text",
		7, v, "tenant", err);

	if (!res)
		return err->code;
	snprintf(ret_id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	p[0] = ret_id;
	return pbx_pg_exec(pg,
		"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, after) "
		"SELECT x.slug, 'create', 'tenant', x.id, to_jsonb(x) FROM (" BULK_TENANT_SELECT
		"WHERE t.id = $1::bigint) x", 1, p, "tenant", err);
}

int pbx_store_bulk_tenant_update(PGconn *pg, const char *id, const char *const v[6],
				 pbx_error *err)
{
	const char *p[7] = { id, v[0], v[1], v[2], v[3], v[4], v[5] };
	int r = pbx_pg_exec(pg, STAGE_TENANT_BEFORE, 1, p, "tenant", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			"UPDATE tenants SET display_name = $2, status = $3, ext_min = $4::int, "
			"ext_max = $5::int, ext_next = $6::int, default_inbound = $7, updated_at = now() "
			"WHERE id = $1::bigint", 7, p, "tenant", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM ("
			BULK_TENANT_SELECT "WHERE t.id = $1::bigint) x "
			"WHERE a.pending AND a.entity = 'tenant' AND a.entity_id = x.id", 1, p,
			"tenant", err);
	return r;
}

int pbx_store_bulk_ext_next(PGconn *pg, const char *ids, const char *values, pbx_error *err)
{
	const char *p[2] = { ids, values };

	return pbx_pg_exec(pg,
		"UPDATE tenants t SET ext_next = v.n FROM unnest($1::bigint[], $2::int[]) v(id, n) "
		"WHERE t.id = v.id", 2, p, "tenant", err);
}

/* ---- users -------------------------------------------------------------------------- */

/* The after images of every pending user row. */
#define USERS_AFTER \
	"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM (" USER_SELECT \
	"WHERE u.id IN (SELECT entity_id::bigint FROM pbx_bulk_audit " \
	"WHERE pending AND entity = 'user')) x " \
	"WHERE a.pending AND a.entity = 'user' AND a.entity_id = x.id"

int pbx_store_bulk_devices_delete(PGconn *pg, const char *ids, pbx_error *err)
{
	const char *p[1] = { ids };
	int r = pbx_pg_exec(pg,
		"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, before) "
		"SELECT x.tenant, 'delete', 'device', x.id, to_jsonb(x) FROM (" DEVICE_SELECT
		"WHERE d.id = ANY($1::bigint[])) x ORDER BY x.id::bigint", 1, p, "device", err);

	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM devices WHERE id = ANY($1::bigint[])", 1, p,
				"device", err);
	return r;
}

int pbx_store_bulk_users_delete(PGconn *pg, const char *ids, pbx_error *err)
{
	const char *p[1] = { ids };
	int r = pbx_pg_exec(pg,
		"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, before, pending) "
		"SELECT x.tenant, 'delete', 'user', x.id, to_jsonb(x), true FROM (" USER_SELECT
		"WHERE u.id = ANY($1::bigint[])) x ORDER BY x.id::bigint", 1, p, "user", err);

	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE users SET status = 'deleted', updated_at = now() "
				"WHERE id = ANY($1::bigint[])", 1, p, "user", err);
	if (r == 0)
		r = pbx_pg_exec(pg, USERS_AFTER, 0, NULL, "user", err);
	return r;
}

int pbx_store_bulk_users_update(PGconn *pg, const struct pbx_store_bulk_batch *b, pbx_error *err)
{
	int r = copy_in(pg, "COPY pbx_bulk_user_upd (id, action, display_name, email, extension, "
			"status, outbound_callerid, voicemail, pin_hash, dnd, forward_to) FROM STDIN",
			b, "user", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, before, pending) "
			"SELECT x.tenant, s.action, 'user', x.id, to_jsonb(x), true FROM (" USER_SELECT
			"WHERE u.id IN (SELECT id FROM pbx_bulk_user_upd)) x "
			"JOIN pbx_bulk_user_upd s ON s.id = x.id::bigint ORDER BY s.ord", 0, NULL, "user",
			err);
	/* Extensions may be swapped: the unique index is checked row by row, so every live
	 * user that moves first steps aside to a negative number no extension can have. */
	if (r == 0)
		r = pbx_pg_exec(pg,
			"UPDATE users u SET extension = -s.ord FROM pbx_bulk_user_upd s "
			"WHERE s.id = u.id AND s.extension <> u.extension AND u.status <> 'deleted'",
			0, NULL, "user", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"UPDATE users u SET display_name = s.display_name, email = s.email, "
			"extension = s.extension, status = s.status, "
			"outbound_callerid = s.outbound_callerid, voicemail = s.voicemail, "
			"pin_hash = s.pin_hash, dnd = s.dnd, forward_to = s.forward_to, "
			"updated_at = now() FROM pbx_bulk_user_upd s WHERE s.id = u.id", 0, NULL, "user",
			err);
	if (r == 0)
		r = pbx_pg_exec(pg, USERS_AFTER, 0, NULL, "user", err);
	return r;
}

int pbx_store_bulk_users_create(PGconn *pg, const struct pbx_store_bulk_batch *b, pbx_error *err)
{
	int r = copy_in(pg, "COPY pbx_bulk_user_new (tenant_id, username, display_name, email, "
			"extension, status, outbound_callerid, voicemail, pin_hash, dnd, forward_to) "
			"FROM STDIN", b, "user", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO users (tenant_id, username, display_name, email, extension, status, "
			"outbound_callerid, voicemail, pin_hash, dnd, forward_to) "
			"SELECT tenant_id, username, display_name, email, extension, status, "
			"outbound_callerid, voicemail, pin_hash, dnd, forward_to "
			"FROM pbx_bulk_user_new ORDER BY ord", 0, NULL, "user", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, after) "
			"SELECT x.tenant, 'create', 'user', x.id, to_jsonb(x) FROM (" USER_SELECT
			"WHERE (u.tenant_id, u.username) IN "
			"(SELECT tenant_id, username FROM pbx_bulk_user_new)) x ORDER BY x.id::bigint",
			0, NULL, "user", err);
	return r;
}

/* ---- devices ------------------------------------------------------------------------ */

int pbx_store_bulk_devices_update(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  pbx_error *err)
{
	int r = copy_in(pg, "COPY pbx_bulk_device_upd (id, transport, force_rport, rewrite_contact, "
			"rtp_symmetric, direct_media, codecs, enabled) FROM STDIN", b, "device", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, before, pending) "
			"SELECT x.tenant, 'update', 'device', x.id, to_jsonb(x), true FROM ("
			DEVICE_SELECT "WHERE d.id IN (SELECT id FROM pbx_bulk_device_upd)) x "
			"JOIN pbx_bulk_device_upd s ON s.id = x.id::bigint ORDER BY s.ord", 0, NULL,
			"device", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"UPDATE devices d SET transport = s.transport, force_rport = s.force_rport, "
			"rewrite_contact = s.rewrite_contact, rtp_symmetric = s.rtp_symmetric, "
			"direct_media = s.direct_media, codecs = string_to_array(s.codecs, ','), "
			"enabled = s.enabled, updated_at = now() FROM pbx_bulk_device_upd s "
			"WHERE s.id = d.id", 0, NULL, "device", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM ("
			DEVICE_SELECT "WHERE d.id IN (SELECT id FROM pbx_bulk_device_upd)) x "
			"WHERE a.pending AND a.entity = 'device' AND a.entity_id = x.id", 0, NULL,
			"device", err);
	return r;
}

int pbx_store_bulk_devices_create(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  pbx_error *err)
{
	int r = copy_in(pg, "COPY pbx_bulk_device_new (tenant_id, username, label, sip_username, "
			"secret_sealed, transport, force_rport, rewrite_contact, rtp_symmetric, "
			"direct_media, codecs, enabled) FROM STDIN", b, "device", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO devices (user_id, tenant_id, label, sip_username, secret_sealed, "
			"transport, force_rport, rewrite_contact, rtp_symmetric, direct_media, codecs, "
			"enabled) SELECT u.id, s.tenant_id, s.label, s.sip_username, s.secret_sealed, "
			"s.transport, s.force_rport, s.rewrite_contact, s.rtp_symmetric, s.direct_media, "
			"string_to_array(s.codecs, ','), s.enabled FROM pbx_bulk_device_new s "
			"JOIN users u ON u.tenant_id = s.tenant_id AND u.username = s.username "
			"ORDER BY s.ord", 0, NULL, "device", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO pbx_bulk_audit (tenant, action, entity, entity_id, after) "
			"SELECT x.tenant, 'create', 'device', x.id, to_jsonb(x) FROM (" DEVICE_SELECT
			"WHERE d.sip_username IN (SELECT sip_username FROM pbx_bulk_device_new)) x "
			"ORDER BY x.id::bigint", 0, NULL, "device", err);
	return r;
}

PGresult *pbx_store_bulk_sip_taken(PGconn *pg, const char *names, pbx_error *err)
{
	const char *p[1] = { names };

	return pbx_pg_query(pg, "SELECT sip_username FROM devices WHERE sip_username = ANY($1::text[])",
			    1, p, "device", err);
}

/* ---- the audit chain ---------------------------------------------------------------- */

/* Append a decimal id or a hex hash to an array literal being built. */
static void put_elem(struct copybuf *b, const char *s, size_t n)
{
	put(b, b->n > 1 ? "," : "", b->n > 1 ? 1 : 0);
	put(b, s, n);
}

int pbx_store_bulk_audit_finish(PGconn *pg, const char *source, size_t *ret_rows,
				pbx_error *err)
{
	struct copybuf ids = { .p = NULL }, prevs = { .p = NULL }, hashes = { .p = NULL };
	const char *p[3] = { source };
	char prev[65];
	PGresult *res = NULL;
	int n = 0, r;

	/* audit_append's lock: from here to commit nobody else appends, so ids and the
	 * chain keep the same order. */
	r = pbx_pg_exec(pg, "SELECT pg_advisory_xact_lock(7242, 1)", 0, NULL, "audit log", err);
	if (r == 0)
		r = pbx_pg_exec(pg,
			"INSERT INTO pbx_bulk_audit_rows (id, at, actor, source, tenant, action, entity, "
			"entity_id, before, after, prev_hash, hash) "
			"SELECT nextval('audit_log_id_seq'), clock_timestamp(), session_user, $1, tenant, "
			"action, entity, entity_id, before, after, '', '' "
			"FROM (SELECT * FROM pbx_bulk_audit ORDER BY ord) s", 1, p, "audit log", err);
	if (r < 0)
		return r;
	if (!(res = pbx_pg_query(pg, "SELECT coalesce((SELECT hash FROM audit_log ORDER BY id DESC "
				 "LIMIT 1), repeat('0', 64))", 0, NULL, "audit log", err)))
		return err->code;
	snprintf(prev, sizeof(prev), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* The canonical text as UTF-8 bytes, whatever the client encoding. */
	res = PQexecParams(pg, "SELECT convert_to(r.id::text, 'UTF8'), "
			   "convert_to(audit_canonical(ROW(r.*)::audit_log), 'UTF8') "
			   "FROM pbx_bulk_audit_rows r ORDER BY r.id", 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pbx_pg_error(pg, res, "audit log", err);
		PQclear(res);
		return r;
	}
	n = PQntuples(res);
	put(&ids, "{", 1);
	put(&prevs, "{", 1);
	put(&hashes, "{", 1);
	for (int i = 0; i < n; i++) {
		unsigned char digest[crypto_hash_sha256_BYTES];
		crypto_hash_sha256_state st;
		char hex[65];

		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const unsigned char *)prev, 64);
		crypto_hash_sha256_update(&st, (const unsigned char *)PQgetvalue(res, i, 1),
					  (unsigned long long)PQgetlength(res, i, 1));
		crypto_hash_sha256_final(&st, digest);
		sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
		put_elem(&ids, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
		put_elem(&prevs, prev, 64);
		put_elem(&hashes, hex, 64);
		memcpy(prev, hex, sizeof(prev));
	}
	PQclear(res);
	put(&ids, "}", 2);
	put(&prevs, "}", 2);
	put(&hashes, "}", 2);
	if (ids.oom || prevs.oom || hashes.oom) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto done;
	}
	p[0] = ids.p;
	p[1] = prevs.p;
	p[2] = hashes.p;
	r = pbx_pg_exec(pg,
		"UPDATE pbx_bulk_audit_rows r SET prev_hash = h.prev, hash = h.hash "
		"FROM unnest($1::bigint[], $2::text[], $3::text[]) h(id, prev, hash) WHERE r.id = h.id",
		3, p, "audit log", err);
	if (r == 0)
		r = pbx_pg_exec(pg, "INSERT INTO audit_log SELECT * FROM pbx_bulk_audit_rows ORDER BY id",
				0, NULL, "audit log", err);
	if (r == 0 && ret_rows)
		*ret_rows = (size_t)n;
done:
	free(ids.p);
	free(prevs.p);
	free(hashes.p);
	return r;
}

/* ---- export ------------------------------------------------------------------------- */

PGresult *pbx_store_bulk_export_tenants(PGconn *pg, const char *tenant, pbx_error *err)
{
	const char *p[1] = { tenant };

	return pbx_pg_query(pg, BULK_TENANT_SELECT "WHERE $1::text IS NULL OR t.slug = $1 "
			    "OR t.id::text = $1 ORDER BY t.slug", 1, p, "tenant", err);
}

PGresult *pbx_store_bulk_export_users(PGconn *pg, const char *id, pbx_error *err)
{
	const char *p[1] = { id };

	return pbx_pg_query(pg, USER_SELECT "WHERE u.tenant_id = $1::bigint AND u.status <> 'deleted' "
			    "ORDER BY u.extension, u.id", 1, p, "user", err);
}

PGresult *pbx_store_bulk_export_devices(PGconn *pg, const char *id, pbx_error *err)
{
	const char *p[1] = { id };

	return pbx_pg_query(pg, DEVICE_SELECT "WHERE d.tenant_id = $1::bigint AND u.status <> 'deleted' "
			    "ORDER BY u.username COLLATE \"C\", d.label COLLATE \"C\", d.id", 1, p, "device", err);
}
