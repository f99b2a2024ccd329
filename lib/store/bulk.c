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

#include "pbx/device.h"
#include "pbx/user.h"
#include "bulk-store.h"
#include "ctx.h"
#include "pg.h"
#include "selects.h"
#include "user-internal.h"

#define STATE_TENANTS \
	"SELECT x.*, t2.ext_min::text AS _ext_min, t2.ext_max::text AS _ext_max, " \
	"t2.ext_next::text AS _ext_next FROM (" TENANT_SELECT \
	"WHERE t.slug = ANY($1::text[])) x JOIN tenants t2 ON t2.id = x.id::bigint "

static const char *const staging[] = {
	"CREATE TEMP TABLE pbx_bulk_audit (id bigint, at timestamptz, actor text, source text, "
	"tenant text, action text, entity text, entity_id text, before jsonb, after jsonb, "
	"pending boolean NOT NULL DEFAULT false) ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_user_upd (ord serial, id bigint, action text, "
	"display_name text, email text, extension int, status text, outbound_callerid text, "
	"voicemail boolean, pin_hash text, dnd boolean, forward_to text, policy_id bigint) "
	"ON COMMIT DROP",
	"CREATE TEMP TABLE pbx_bulk_device_upd (ord serial, id bigint, transport text, "
	"force_rport boolean, rewrite_contact boolean, rtp_symmetric boolean, "
	"direct_media boolean, codecs text, enabled boolean) ON COMMIT DROP",
};

int pbx_store_bulk_audit_lock(PGconn *pg, pbx_error *err)
{
	/* audit_append's lock, from the first audit id drawn to commit: nobody else appends
	 * meanwhile, so ids and the chain keep the same order. */
	return pbx_pg_exec(pg, "SELECT pg_advisory_xact_lock(7242, 1)", 0, NULL, "audit log", err);
}

int pbx_store_bulk_begin(PGconn *pg, bool writes, const char *source, pbx_error *err)
{
	const char *p[1] = { source };
	int r;

	if (!writes)
		return pbx_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
				   "database", err);
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	/* The audit source of every staged row, and room for the sorts of big batches. */
	r = pbx_pg_exec(pg, "SELECT set_config('pbxctl.source', $1, true), "
			"set_config('work_mem', '64MB', true)", 1, p, "import", err);
	for (size_t i = 0; r == 0 && i < sizeof(staging) / sizeof(staging[0]); i++)
		r = pbx_pg_exec(pg, staging[i], 0, NULL, "import", err);
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
		"SELECT x.*, p.tenant_id::text AS _tenant_id, p.pin_hash AS _pin_hash, "
		"(SELECT pl.name FROM policies pl WHERE pl.id = p.policy_id) AS _policy FROM ("
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

/* ---- tenants ------------------------------------------------------------------------ */

/* Stage the audit image of tenant $1 as "before" of a pending update. */
#define STAGE_TENANT_BEFORE \
	AUDIT_INTO "before, pending) " \
	AUDIT_FROM "x.slug, 'update', 'tenant', x.id, to_jsonb(x), true FROM (" TENANT_SELECT \
	"WHERE t.id = $1::bigint) x) q"

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
	/* Its image is taken at the end (pbx_store_bulk_pending_images), with its policy. */
	return pbx_pg_exec(pg,
		AUDIT_INTO "before, pending) "
		AUDIT_FROM "x.slug, 'create', 'tenant', x.id, NULL::jsonb, true FROM (" TENANT_SELECT
		"WHERE t.id = $1::bigint) x) q", 1, p, "tenant", err);
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
		AUDIT_INTO "before) "
		AUDIT_FROM "x.tenant, 'delete', 'device', x.id, to_jsonb(x) FROM (" DEVICE_SELECT
		"WHERE d.id = ANY($1::bigint[])) x ORDER BY x.id::bigint) q", 1, p, "device", err);

	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM devices WHERE id = ANY($1::bigint[])", 1, p,
				"device", err);
	return r;
}

int pbx_store_bulk_users_delete(PGconn *pg, const char *ids, pbx_error *err)
{
	const char *p[1] = { ids };
	int r = pbx_pg_exec(pg,
		AUDIT_INTO "before, pending) "
		AUDIT_FROM "x.tenant, 'delete', 'user', x.id, to_jsonb(x), true FROM (" USER_SELECT
		"WHERE u.id = ANY($1::bigint[])) x ORDER BY x.id::bigint) q", 1, p, "user", err);

	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE users SET status = 'deleted', updated_at = now() "
				"WHERE id = ANY($1::bigint[])", 1, p, "user", err);
	if (r == 0)
		r = pbx_pg_exec(pg, USERS_AFTER, 0, NULL, "user", err);
	return r;
}

int pbx_store_bulk_users_update(PGconn *pg, const struct pbx_store_bulk_batch *b, pbx_error *err)
{
	int r = pbx_store_bulk_copy(pg, "COPY pbx_bulk_user_upd (id, action, display_name, email, extension, "
			"status, outbound_callerid, voicemail, pin_hash, dnd, forward_to, policy_id) FROM STDIN",
			b, "user", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			AUDIT_INTO "before, pending) "
			AUDIT_FROM "x.tenant, s.action, 'user', x.id, to_jsonb(x), true FROM (" USER_SELECT
			"WHERE u.id IN (SELECT id FROM pbx_bulk_user_upd)) x "
			"JOIN pbx_bulk_user_upd s ON s.id = x.id::bigint ORDER BY s.ord) q", 0, NULL, "user",
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
			"policy_id = s.policy_id, updated_at = now() "
			"FROM pbx_bulk_user_upd s WHERE s.id = u.id", 0, NULL, "user",
			err);
	if (r == 0)
		r = pbx_pg_exec(pg, USERS_AFTER, 0, NULL, "user", err);
	return r;
}

int pbx_store_bulk_pin_verifiers(PGconn *pg, const char *ids, const char *sealed, pbx_error *err)
{
	const char *p[2] = { ids, sealed };

	return pbx_pg_exec(pg, "UPDATE users u SET vm_pin_verifier_sealed = v.sealed FROM "
			   "unnest($1::bigint[], $2::text[]) AS v (id, sealed) WHERE u.id = v.id",
			   2, p, "user", err);
}

/*
 * Images of new rows, built from the values written: for each field of the entity's schema
 * a column of the batch, or a fixed value. A field this table does not know means the
 * schema grew: refused, so the audit images never silently lose a key.
 */
struct image_map {
	const char *key;
	int col;                 /* batch column, or -1 */
	const char *fixed;       /* when col is -1; "now" is the transaction's time */
};

static int images(PGconn *pg, struct pbx_store_bulk_audit *a, const struct pbx_schema *s,
		  const struct image_map *map, const struct pbx_store_bulk_batch *b,
		  const char *tenant_key, pbx_error *err)
{
	size_t nf = s->n_fields;
	const char **v = malloc((b->n_rows * nf + 1) * sizeof(*v));
	int col[64];
	const char *fixed[64];
	char now[32] = "";
	PGresult *res;
	int r;

	if (!v)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t f = 0; f < nf; f++) {
		size_t m = 0;

		while (map[m].key && strcmp(map[m].key, s->fields[f].key))
			m++;
		if (!map[m].key) {
			free(v);
			return pbx_errorf(err, PBX_ERROR, s->name, s->fields[f].key,
					  "bulk import cannot write the audit image of %s field %s",
					  s->name, s->fields[f].key);
		}
		col[f] = map[m].col;
		fixed[f] = map[m].fixed;
	}
	if (!(res = pbx_pg_query(pg, "SELECT " PBX_SQL_TIME("now()"), 0, NULL, s->name, err))) {
		free(v);
		return err->code;
	}
	snprintf(now, sizeof(now), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (size_t i = 0; i < b->n_rows; i++)
		for (size_t f = 0; f < nf; f++)
			v[i * nf + f] = col[f] >= 0 ? b->cells[i * b->n_cols + (size_t)col[f]] :
					fixed[f] && !strcmp(fixed[f], "now") ? now : fixed[f];
	r = pbx_store_bulk_audit_creates(pg, a, s, v, b->n_rows, tenant_key, err);
	free(v);
	return r;
}

int pbx_store_bulk_users_create(PGconn *pg, const struct pbx_store_bulk_batch *b,
				struct pbx_store_bulk_audit *a, pbx_error *err)
{
	static const int cols[] = { PBX_SBU_ID, PBX_SBU_TENANT_ID, PBX_SBU_USERNAME, PBX_SBU_NAME,
		PBX_SBU_EMAIL, PBX_SBU_EXTENSION, PBX_SBU_STATUS, PBX_SBU_CALLERID,
		PBX_SBU_VOICEMAIL, PBX_SBU_PIN_HASH, PBX_SBU_DND, PBX_SBU_FORWARD_TO,
		PBX_SBU_POLICY_ID };
	/* USER_COLUMNS, field by field; the PIN shows as the mask, as there. */
	static const struct image_map map[] = {
		{ "id", PBX_SBU_ID, NULL }, { "tenant", PBX_SBU_TENANT, NULL },
		{ "username", PBX_SBU_USERNAME, NULL }, { "name", PBX_SBU_NAME, NULL },
		{ "email", PBX_SBU_EMAIL, NULL }, { "extension", PBX_SBU_EXTENSION, NULL },
		{ "status", PBX_SBU_STATUS, NULL }, { "outbound_callerid", PBX_SBU_CALLERID, NULL },
		{ "voicemail", PBX_SBU_VOICEMAIL, NULL }, { "pin", PBX_SBU_PIN_HASH, NULL },
		{ "dnd", PBX_SBU_DND, NULL }, { "forward_to", PBX_SBU_FORWARD_TO, NULL },
		{ "policy", PBX_SBU_POLICY, NULL }, { "created_at", -1, "now" },
		{ "updated_at", -1, "now" }, { NULL, -1, NULL },
	};
	struct pbx_store_bulk_batch masked = *b;
	const char **cells = NULL;
	static const struct pbx_store_bulk_target users = BULK_TARGET("users", "id, tenant_id, "
		"username, display_name, email, extension, status, outbound_callerid, voicemail, "
		"pin_hash, dnd, forward_to, policy_id");
	int r = pbx_store_bulk_copy_into(pg, &users, b, cols, sizeof(cols) / sizeof(cols[0]),
					 "user", err);

	if (r < 0)
		return r;
	/* The image never holds the PIN hash: "********" in its place. */
	if (!(cells = malloc((b->n_rows * b->n_cols + 1) * sizeof(*cells))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	memcpy(cells, b->cells, b->n_rows * b->n_cols * sizeof(*cells));
	for (size_t i = 0; i < b->n_rows; i++)
		if (cells[i * b->n_cols + PBX_SBU_PIN_HASH])
			cells[i * b->n_cols + PBX_SBU_PIN_HASH] = "********";
	masked.cells = cells;
	r = images(pg, a, &pbx_schema_user, map, &masked, "tenant", err);
	free(cells);
	return r;
}

/* ---- devices ------------------------------------------------------------------------ */

int pbx_store_bulk_devices_update(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  pbx_error *err)
{
	int r = pbx_store_bulk_copy(pg, "COPY pbx_bulk_device_upd (id, transport, force_rport, rewrite_contact, "
			"rtp_symmetric, direct_media, codecs, enabled) FROM STDIN", b, "device", err);

	if (r == 0)
		r = pbx_pg_exec(pg,
			AUDIT_INTO "before, pending) "
			AUDIT_FROM "x.tenant, 'update', 'device', x.id, to_jsonb(x), true FROM ("
			DEVICE_SELECT "WHERE d.id IN (SELECT id FROM pbx_bulk_device_upd)) x "
			"JOIN pbx_bulk_device_upd s ON s.id = x.id::bigint ORDER BY s.ord) q", 0, NULL,
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
				  struct pbx_store_bulk_audit *a, pbx_error *err)
{
	static const int cols[] = { PBX_SBD_ID, PBX_SBD_TENANT_ID, PBX_SBD_USER_ID, PBX_SBD_LABEL,
		PBX_SBD_SIP_USERNAME, PBX_SBD_SEALED, PBX_SBD_TRANSPORT, PBX_SBD_FORCE_RPORT,
		PBX_SBD_REWRITE_CONTACT, PBX_SBD_RTP_SYMMETRIC, PBX_SBD_DIRECT_MEDIA,
		PBX_SBD_CODECS_ARRAY, PBX_SBD_ENABLED };
	/* DEVICE_COLUMNS, field by field; the secret is always the mask there. */
	static const struct image_map map[] = {
		{ "id", PBX_SBD_ID, NULL }, { "tenant", PBX_SBD_TENANT, NULL },
		{ "user", PBX_SBD_USER, NULL }, { "label", PBX_SBD_LABEL, NULL },
		{ "sip_username", PBX_SBD_SIP_USERNAME, NULL }, { "secret", -1, "********" },
		{ "transport", PBX_SBD_TRANSPORT, NULL },
		{ "force_rport", PBX_SBD_FORCE_RPORT, NULL },
		{ "rewrite_contact", PBX_SBD_REWRITE_CONTACT, NULL },
		{ "rtp_symmetric", PBX_SBD_RTP_SYMMETRIC, NULL },
		{ "direct_media", PBX_SBD_DIRECT_MEDIA, NULL }, { "codecs", PBX_SBD_CODECS, NULL },
		{ "enabled", PBX_SBD_ENABLED, NULL }, { "created_at", -1, "now" },
		{ "updated_at", -1, "now" }, { NULL, -1, NULL },
	};
	static const struct pbx_store_bulk_target devices = BULK_TARGET("devices", "id, "
		"tenant_id, user_id, label, sip_username, secret_sealed, transport, force_rport, "
		"rewrite_contact, rtp_symmetric, direct_media, codecs, enabled");
	int r = pbx_store_bulk_copy_into(pg, &devices, b, cols, sizeof(cols) / sizeof(cols[0]),
					 "device", err);

	if (r == 0)
		r = images(pg, a, &pbx_schema_device, map, b, "tenant", err);
	return r;
}

PGresult *pbx_store_bulk_sip_taken(PGconn *pg, const char *names, pbx_error *err)
{
	const char *p[1] = { names };

	return pbx_pg_query(pg, "SELECT sip_username FROM devices WHERE sip_username = ANY($1::text[])",
			    1, p, "device", err);
}

/* ---- export ------------------------------------------------------------------------- */

PGresult *pbx_store_bulk_export_tenants(PGconn *pg, const char *tenant, pbx_error *err)
{
	const char *p[1] = { tenant };

	return pbx_pg_query(pg, TENANT_SELECT "WHERE $1::text IS NULL OR t.slug = $1 "
			    "OR t.id::text = $1 ORDER BY t.slug", 1, p, "tenant", err);
}

PGresult *pbx_store_bulk_export_users(PGconn *pg, const char *id, pbx_error *err)
{
	const char *p[1] = { id };

	/* _policy: the name of the user's own policy (it overrides "policy"). */
	return pbx_pg_query(pg, "SELECT x.*, (SELECT pl.name FROM policies pl WHERE pl.id = "
			    "u2.policy_id) AS _policy FROM (" USER_SELECT "WHERE u.tenant_id = $1::bigint "
			    "AND u.status <> 'deleted') x JOIN users u2 ON u2.id = x.id::bigint "
			    "ORDER BY u2.extension, u2.id", 1, p, "user", err);
}

PGresult *pbx_store_bulk_export_devices(PGconn *pg, const char *id, pbx_error *err)
{
	const char *p[1] = { id };

	return pbx_pg_query(pg, DEVICE_SELECT "WHERE d.tenant_id = $1::bigint AND u.status <> 'deleted' "
			    "ORDER BY u.username COLLATE \"C\", d.label COLLATE \"C\", d.id", 1, p, "device", err);
}
