/* SPDX-License-Identifier: MIT */
/*
 * Trunks in PostgreSQL: create (the secret sealed before the transaction starts, so a
 * missing key writes nothing), update, delete (refused while a policy rule names the
 * trunk), list, show with an audited reveal, and the field rules. The secret is masked in
 * every output and audit image.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/trunk.h"
#include "pbx/valid.h"
#include "ctx.h"
#include "change.h"
#include "pg.h"
#include "selects.h"

static const struct pbx_field trunk_fields[] = {
	STORE_FIELD_ID,
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "unique name" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "owning tenant; null: global" },
	{ "endpoint", PBX_FT_STRING, PBX_FIELD_READONLY, "Asterisk endpoint id" },
	{ "host", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "provider host" },
	{ "port", PBX_FT_INT, PBX_FIELD_EXPORT, "provider port" },
	{ "transport", PBX_FT_STRING, PBX_FIELD_EXPORT, "udp, tcp or tls" },
	{ "auth", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "registration or ip_auth" },
	{ "username", PBX_FT_STRING, PBX_FIELD_EXPORT, "registration user name" },
	{ "secret", PBX_FT_SECRET, 0, "registration secret: \"********\" unless revealed" },
	{ "match", PBX_FT_LIST, PBX_FIELD_EXPORT, "ip_auth: provider addresses or CIDRs" },
	{ "codecs", PBX_FT_LIST, PBX_FIELD_EXPORT, "ordered codec list" },
	{ "callerid_mode", PBX_FT_STRING, PBX_FIELD_EXPORT, "pass (the user's) or force (the trunk's)" },
	{ "callerid", PBX_FT_STRING, PBX_FIELD_EXPORT, "the trunk's number" },
	{ "enabled", PBX_FT_BOOL, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "in service" },
	STORE_FIELDS_TIMES,
};

const struct pbx_schema pbx_schema_trunk = STORE_SCHEMA("trunk", trunk_fields);

/* Output columns in schema order; also the audit image (the secret is always masked). */
#define TRUNK_JSON \
	"SELECT x.*, to_jsonb(x)::text AS _json FROM (" TRUNK_SELECT "WHERE k.id = $1::bigint) x"

int pbx_trunk_check_name(const char *object, const char *name, pbx_error *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > 32 || name[0] < 'a' || name[0] > 'z' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return pbx_errorf(err, PBX_EINVALID, object, "name",
				  "trunk name \"%.40s\" must match [a-z][a-z0-9-]{0,31}",
				  name ? name : "");
	return 0;
}

static bool dns_name(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n < 1 || n > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789.-") != n)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label < 1 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
		} else {
			label++;
		}
	}
	return true;
}

int pbx_trunk_check_host(const char *object, const char *host, pbx_error *err)
{
	unsigned char buf[16];

	/* At most PBX_TRUNK_HOST_MAX: "sip:<username>@[host]:<port>" must fit the 255
	 * characters of ps_registrations.client_uri, or no apply could write the trunk. */
	if (host && strlen(host) <= PBX_TRUNK_HOST_MAX &&
	    (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1 ||
	     dns_name(host)))
		return 0;
	return pbx_errorf(err, PBX_EINVALID, object, "host",
			  "host \"%.64s\" must be a DNS name of at most %d characters, an IPv4 or "
			  "an IPv6 address", host ? host : "", PBX_TRUNK_HOST_MAX);
}

int pbx_trunk_check_match(const char *object, const char *match, pbx_error *err)
{
	char addr[64];
	unsigned char buf[16];
	const char *slash = match ? strchr(match, '/') : NULL;
	size_t len = match ? (slash ? (size_t)(slash - match) : strlen(match)) : 0;
	int family = 0;

	if (len > 0 && len < sizeof(addr)) {
		memcpy(addr, match, len);
		addr[len] = '\0';
		family = inet_pton(AF_INET, addr, buf) == 1 ? 4 :
			 inet_pton(AF_INET6, addr, buf) == 1 ? 6 : 0;
	}
	if (family && slash) {
		const char *bits = slash + 1;
		size_t nb = strspn(bits, "0123456789");
		int v = atoi(bits);

		if (nb < 1 || nb > 3 || bits[nb] || v > (family == 4 ? 32 : 128))
			family = 0;
	}
	if (!family)
		return pbx_errorf(err, PBX_EINVALID, object, "match",
				  "address \"%.64s\" must be an IPv4 or IPv6 address, optionally "
				  "with a /prefix", match ? match : "");
	return 0;
}

int pbx_trunk_endpoint(const char *slug, const char *name, char *buf, size_t n,
		       pbx_error *err)
{
	int len = slug ? snprintf(buf, n, "%s-trunk-%s", slug, name) :
			 snprintf(buf, n, "trunk-%s", name);

	if (len < 0 || len > PBX_TRUNK_ENDPOINT_MAX || (size_t)len >= n)
		return pbx_errorf(err, PBX_EINVALID, "trunk", "name",
				  "trunk name %s is too long: its endpoint id %s%strunk-%s would "
				  "exceed %d characters", name, slug ? slug : "", slug ? "-" : "",
				  name, PBX_TRUNK_ENDPOINT_MAX);
	return 0;
}

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* The complete state a trunk will have, checked as a whole. */
struct state {
	const char *auth, *username, *match, *callerid_mode, *callerid;
	bool has_secret;
};

static int check_fields(const char *object, const struct pbx_trunk_spec *s, pbx_error *err)
{
	int r;

	if (s->host && (r = pbx_trunk_check_host(object, s->host, err)) < 0)
		return r;
	if (s->port && (s->port < 1 || s->port > 65535))
		return pbx_errorf(err, PBX_EINVALID, object, "port", "port must be 1 to 65535");
	if (s->transport && !is(s->transport, "udp") && !is(s->transport, "tcp") &&
	    !is(s->transport, "tls"))
		return pbx_errorf(err, PBX_EINVALID, object, "transport",
				  "transport \"%.16s\" must be udp, tcp or tls", s->transport);
	if (s->auth && !is(s->auth, "registration") && !is(s->auth, "ip_auth"))
		return pbx_errorf(err, PBX_EINVALID, object, "auth",
				  "auth must be registration or ip_auth");
	if (s->username) {
		size_t n = strlen(s->username);

		if (n < 1 || n > 40 || strspn(s->username, "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") != n)
			return pbx_errorf(err, PBX_EINVALID, object, "username",
					  "username must be 1 to 40 of A-Z a-z 0-9 . _ + -");
	}
	if (s->secret && (!pbx_valid_text(s->secret, PBX_TRUNK_SECRET_MAX) ||
			  strlen(s->secret) > PBX_TRUNK_SECRET_MAX))
		return pbx_errorf(err, PBX_EINVALID, object, "secret",
				  "secret must be 1 to %d printable characters", PBX_TRUNK_SECRET_MAX);
	if (s->match && *s->match) {
		const char *p = s->match;
		size_t count = 0;

		for (;;) {
			size_t len = strcspn(p, ",");
			char one[80];

			snprintf(one, sizeof(one), "%.*s", (int)(len < 79 ? len : 79), p);
			if (len >= 79 || (r = pbx_trunk_check_match(object, one, err)) < 0)
				return len >= 79 ? pbx_trunk_check_match(object, p, err) : r;
			if (++count > PBX_TRUNK_MATCH_MAX)
				return pbx_errorf(err, PBX_EINVALID, object, "match",
						  "at most %d addresses", PBX_TRUNK_MATCH_MAX);
			if (!p[len])
				break;
			p += len + 1;
		}
	}
	if (s->codecs && (r = pbx_device_check_codecs(object, s->codecs, err)) < 0)
		return r;
	if (s->callerid_mode && !is(s->callerid_mode, "pass") && !is(s->callerid_mode, "force"))
		return pbx_errorf(err, PBX_EINVALID, object, "callerid_mode",
				  "callerid mode must be pass or force");
	if (s->callerid && *s->callerid) {
		const char *c = s->callerid + (s->callerid[0] == '+');
		size_t n = strspn(c, "0123456789");

		if (c[n] || n < 2 || n > 20)
			return pbx_errorf(err, PBX_EINVALID, object, "callerid",
					  "caller ID must be 2 to 20 digits, optionally after a +");
	}
	return 0;
}

/* The rules that hold between fields, on the state the trunk will have. */
static int check_state(const char *object, const struct state *st, pbx_error *err)
{
	bool reg = is(st->auth, "registration");

	if (reg && (!st->username || !*st->username))
		return pbx_errorf(err, PBX_EINVALID, object, "username",
				  "a registration trunk needs --username");
	if (reg && !st->has_secret)
		return pbx_errorf(err, PBX_EINVALID, object, "secret",
				  "a registration trunk needs a secret (--secret-file FILE)");
	if (!reg && (!st->match || !*st->match))
		return pbx_errorf(err, PBX_EINVALID, object, "match",
				  "an ip_auth trunk needs --match with the provider's addresses");
	if (is(st->callerid_mode, "force") && (!st->callerid || !*st->callerid))
		return pbx_errorf(err, PBX_EINVALID, object, "callerid",
				  "callerid mode force needs --callerid NUMBER");
	return 0;
}

static int seal(pbx_ctx *ctx, const char *secret, char **sealed, pbx_error *err)
{
	pbx_secret_key *key;

	*sealed = NULL;
	if (!secret)
		return 0;
	if (!(key = pbx_ctx_seal_key(ctx, err)))
		return err->code;
	return pbx_secret_seal(key, secret, sealed, err);
}

int pbx_trunk_create(pbx_ctx *ctx, const struct pbx_trunk_spec *spec, struct pbx_rows *ret,
		     pbx_error *err)
{
	char object[PBX_ERR_OBJECT], ep[64], id[24];
	struct store_tenant t = { .id = "" };
	bool reg = is(spec->auth, "registration");
	struct state st = {
		.auth = spec->auth, .username = spec->username, .match = spec->match,
		.callerid_mode = spec->callerid_mode, .callerid = spec->callerid,
		.has_secret = spec->secret != NULL,
	};
	char *sealed = NULL, port[16];
	const char *p[13];
	PGresult *res;
	PGconn *pg = NULL;
	int r;

	snprintf(object, sizeof(object), "trunk %.40s", spec->name ? spec->name : "");
	if ((r = pbx_trunk_check_name(object, spec->name, err)) < 0 ||
	    (r = check_fields(object, spec, err)) < 0)
		return r;
	if (!spec->host)
		return pbx_errorf(err, PBX_EINVALID, object, "host", "a trunk needs --host");
	if (!spec->auth)
		return pbx_errorf(err, PBX_EINVALID, object, "auth",
				  "a trunk needs --auth registration or --auth ip_auth");
	if ((spec->global == 1) == (spec->tenant != NULL))
		return pbx_errorf(err, PBX_EINVALID, object, "tenant",
				  "give a trunk either a tenant (--tenant SLUG) or --global");
	if ((r = check_state(object, &st, err)) < 0)
		return r;
	if (reg && spec->match && *spec->match)
		return pbx_errorf(err, PBX_EINVALID, object, "match",
				  "--match is for ip_auth trunks");
	if (!reg && (spec->username || spec->secret))
		return pbx_errorf(err, PBX_EINVALID, object, spec->username ? "username" : "secret",
				  "an ip_auth trunk has no username or secret");
	/* No key, no trunk: the secret is sealed before anything is written. */
	if ((r = seal(ctx, spec->secret, &sealed, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		r = err->code;
		goto cleanup;
	}
	if ((r = pbx_pg_begin(pg, err)) < 0)
		goto cleanup;
	if (spec->tenant && (r = store_find_tenant(pg, spec->tenant, &t, err)) < 0)
		goto fail;
	if ((r = pbx_trunk_endpoint(spec->tenant ? t.slug : NULL, spec->name, ep, sizeof(ep),
				    err)) < 0)
		goto fail;
	snprintf(port, sizeof(port), "%d", spec->port ? spec->port : 5060);
	p[0] = spec->tenant ? t.id : NULL;
	p[1] = spec->name;
	p[2] = spec->host;
	p[3] = port;
	p[4] = spec->transport;
	p[5] = spec->auth;
	p[6] = reg ? spec->username : NULL;
	p[7] = sealed;
	p[8] = reg ? NULL : spec->match;
	p[9] = spec->codecs;
	p[10] = spec->callerid_mode;
	p[11] = spec->callerid && *spec->callerid ? spec->callerid : NULL;
	p[12] = spec->enabled == 0 ? "false" : "true";
	res = pbx_pg_query(pg,
		"INSERT INTO trunks (tenant_id, name, host, port, transport, auth, username, "
		"secret_sealed, match, codecs, callerid_mode, callerid, enabled) "
		"VALUES ($1::bigint, $2, $3, $4::int, coalesce($5, 'udp'), $6, $7, $8, "
		"coalesce(string_to_array($9, ','), '{}'), coalesce(string_to_array($10, ','), "
		"'{ulaw,alaw}'), coalesce($11, 'pass'), $12, $13::boolean) "
		"ON CONFLICT (name) DO NOTHING RETURNING id::text", 13, p, object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		r = pbx_errorf(err, PBX_ECONFLICT, object, "name",
			       "a trunk named %s already exists (trunk names are unique across "
			       "tenants)", spec->name);
		goto fail;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	r = store_finish(ctx, pg, TRUNK_JSON, &pbx_schema_trunk, id, spec->tenant ? t.slug : NULL,
		       "trunk", "create", NULL, NULL, ret, NULL, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_secret_free_str(sealed);
	return r;
}

/* Lock trunk @trunk (name or id) and load it; the transaction must be open. */
static int lock_trunk(PGconn *pg, const char *trunk, char id[24], struct pbx_rows *rows,
		      char **json, pbx_error *err)
{
	char missing[PBX_ERR_MESSAGE];
	int r;

	snprintf(missing, sizeof(missing), "trunk %.40s does not exist", trunk);
	r = store_lock(pg, "SELECT id::text FROM trunks WHERE name = $1 OR id::text = $1 FOR UPDATE",
		       trunk, "trunk", missing, id, 24, err);
	return r < 0 ? r : store_load(pg, TRUNK_JSON, id, "trunk", NULL, rows, json, err);
}

/* "policy P of tenant T" for the first rule naming trunk @id, else "the emergency trunk of
 * tenant T", or "" when nothing uses it. */
static int user_of(PGconn *pg, const char *id, char *buf, size_t n, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg,
		"SELECT * FROM (SELECT 'policy ' || p.name || ' of tenant ' || t.slug, "
		"count(*) OVER () FROM policy_rule_trunks rt "
		"JOIN policy_rules r ON r.id = rt.rule_id JOIN policies p ON p.id = r.policy_id "
		"JOIN tenants t ON t.id = p.tenant_id WHERE rt.trunk_id = $1::bigint "
		"ORDER BY t.slug, p.name LIMIT 1) x UNION ALL "
		"SELECT * FROM (SELECT 'the emergency trunk of tenant ' || slug, count(*) OVER () "
		"FROM tenants WHERE emergency_trunk_id = $1::bigint ORDER BY slug LIMIT 1) y",
		1, p, "trunk", err);

	if (!res)
		return err->code;
	buf[0] = '\0';
	if (PQntuples(res) >= 1)
		snprintf(buf, n, "%s%s", PQgetvalue(res, 0, 0),
			 strcmp(PQgetvalue(res, 0, 1), "1") || PQntuples(res) > 1 ? " and others" : "");
	PQclear(res);
	return 0;
}

int pbx_trunk_update(pbx_ctx *ctx, const char *trunk, const struct pbx_trunk_spec *spec,
		     struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24], port[16] = "", used[160];
	struct pbx_rows cur;
	char *before = NULL, *sealed = NULL;
	const char *p[13], *slug;
	struct state st;
	PGconn *pg = NULL;
	bool reg;
	int r;

	snprintf(object, sizeof(object), "trunk %.40s", trunk);
	if (spec->name || spec->tenant || spec->global != -1)
		return pbx_errorf(err, PBX_EINVALID, object, spec->name ? "name" : "tenant",
				  "a trunk's name and owner cannot change: they name its Asterisk "
				  "objects; create a new trunk instead");
	if ((r = check_fields(object, spec, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_trunk);
	if ((r = seal(ctx, spec->secret, &sealed, err)) < 0)
		goto cleanup;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		r = err->code;
		goto cleanup;
	}
	if ((r = pbx_pg_begin(pg, err)) < 0)
		goto cleanup;
	if ((r = lock_trunk(pg, trunk, id, &cur, &before, err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "trunk %s", pbx_rows_get(&cur, 0, "name"));
	slug = pbx_rows_get(&cur, 0, "tenant");
	st = (struct state){
		.auth = spec->auth ? spec->auth : pbx_rows_get(&cur, 0, "auth"),
		.username = spec->username ? spec->username : pbx_rows_get(&cur, 0, "username"),
		.match = spec->match ? spec->match : pbx_rows_get(&cur, 0, "match"),
		.callerid_mode = spec->callerid_mode ? spec->callerid_mode :
				 pbx_rows_get(&cur, 0, "callerid_mode"),
		.callerid = spec->callerid ? spec->callerid : pbx_rows_get(&cur, 0, "callerid"),
		.has_secret = spec->secret || pbx_rows_get(&cur, 0, "secret"),
	};
	reg = is(st.auth, "registration");
	if ((r = check_state(object, &st, err)) < 0)
		goto fail;
	if ((reg && spec->match && *spec->match) || (!reg && (spec->username || spec->secret))) {
		r = pbx_errorf(err, PBX_EINVALID, object, reg ? "match" : "username",
			       reg ? "--match is for ip_auth trunks" :
				     "an ip_auth trunk has no username or secret");
		goto fail;
	}
	if (spec->port)
		snprintf(port, sizeof(port), "%d", spec->port);
	p[0] = id;
	p[1] = spec->host;
	p[2] = port[0] ? port : NULL;
	p[3] = spec->transport;
	p[4] = st.auth;
	p[5] = reg ? st.username : NULL;
	p[6] = sealed;
	p[7] = reg ? "" : st.match;
	p[8] = spec->codecs;
	p[9] = spec->callerid_mode;
	p[10] = spec->callerid;
	p[11] = spec->enabled < 0 ? NULL : spec->enabled ? "true" : "false";
	p[12] = reg ? "true" : "false";
	r = pbx_pg_exec(pg,
		"UPDATE trunks SET host = coalesce($2, host), port = coalesce($3::int, port), "
		"transport = coalesce($4, transport), auth = $5, username = $6, "
		"secret_sealed = CASE WHEN NOT $13::boolean THEN NULL ELSE coalesce($7, secret_sealed) END, "
		"match = CASE WHEN $8 = '' THEN '{}' ELSE string_to_array($8, ',') END, "
		"codecs = coalesce(string_to_array($9, ','), codecs), "
		"callerid_mode = coalesce($10, callerid_mode), "
		"callerid = CASE WHEN $11::text IS NULL THEN callerid WHEN $11 = '' THEN NULL ELSE $11 END, "
		"enabled = coalesce($12::boolean, enabled), updated_at = now() WHERE id = $1::bigint",
		13, p, object, err);
	if (r < 0)
		goto fail;
	if (spec->enabled == 0 && (r = user_of(pg, id, used, sizeof(used), err)) == 0 && used[0])
		pbx_log(ctx, PBX_LOG_WARN, "trunk %s is named by %s; apply refuses that policy while "
			"the trunk is disabled", pbx_rows_get(&cur, 0, "name"), used);
	if (r < 0)
		goto fail;
	/* a new secret always counts as a change, though the masked image is the same */
	r = store_finish(ctx, pg, TRUNK_JSON, &pbx_schema_trunk, id, slug, "trunk", "update", before,
		       sealed ? NULL : &cur, ret, ret_changed, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	pbx_secret_free_str(sealed);
	return r;
}

int pbx_trunk_delete(pbx_ctx *ctx, const char *trunk, struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24], used[160];
	struct pbx_rows cur;
	char *before = NULL;
	PGconn *pg;
	int r;

	snprintf(object, sizeof(object), "trunk %.40s", trunk);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	pbx_rows_init(&cur, &pbx_schema_trunk);
	if ((r = lock_trunk(pg, trunk, id, &cur, &before, err)) < 0 ||
	    (r = user_of(pg, id, used, sizeof(used), err)) < 0)
		goto fail;
	snprintf(object, sizeof(object), "trunk %s", pbx_rows_get(&cur, 0, "name"));
	if (used[0]) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, NULL,
			       "still named by %s; remove it from those rules first", used);
		goto fail;
	}
	if ((r = store_remove(ctx, pg, pbx_rows_get(&cur, 0, "tenant"), "delete", "trunk", id,
			      before, "DELETE FROM trunks WHERE id = $1::bigint", object, err)) < 0)
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

int pbx_trunk_list(pbx_ctx *ctx, const char *tenant, bool global_only, struct pbx_rows *ret,
		   pbx_error *err)
{
	const char *p[2] = { NULL, global_only ? "true" : "false" };
	struct store_tenant t;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if (tenant && !global_only) {
		if ((r = store_find_tenant(pg, tenant, &t, err)) < 0)
			return r;
		p[0] = t.id;
	}
	return pbx_pg_select(pg, TRUNK_SELECT "WHERE CASE WHEN $2::boolean THEN k.tenant_id IS NULL "
			   "WHEN $1::bigint IS NULL THEN true "
			   "ELSE k.tenant_id IS NULL OR k.tenant_id = $1::bigint END ORDER BY k.name",
			   2, p, "trunk", &pbx_schema_trunk, ret, err);
}

void pbx_trunk_rows_free(struct pbx_rows *rows)
{
	int i = rows->schema ? pbx_schema_index(rows->schema, "secret") : -1;

	for (size_t row = 0; i >= 0 && row < rows->n_rows; row++) {
		char *s = rows->cells[row * rows->schema->n_fields + (size_t)i];

		if (s)
			pbx_secret_wipe(s, strlen(s));
	}
	pbx_rows_free(rows);
}

int pbx_trunk_show(pbx_ctx *ctx, const char *trunk, bool reveal, struct pbx_rows *ret,
		   pbx_error *err)
{
	const char *p[1] = { trunk };
	struct pbx_rows rows;
	char *plain = NULL;
	PGresult *res;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	res = pbx_pg_query(pg, "SELECT x.*, k.secret_sealed FROM (" TRUNK_SELECT
			   "WHERE k.name = $1 OR k.id::text = $1) x JOIN trunks k ON k.id = x.id::bigint",
			   1, p, "trunk", err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "trunk %.40s does not exist", trunk);
	}
	pbx_rows_init(&rows, &pbx_schema_trunk);
	r = pbx_pg_fill(res, &rows, err);
	if (r == 0 && reveal && !PQgetisnull(res, 0, PQfnumber(res, "secret_sealed"))) {
		char object[PBX_ERR_OBJECT];

		snprintf(object, sizeof(object), "trunk %s", pbx_rows_get(&rows, 0, "name"));
		r = pbx_ctx_open_secret(ctx, PQgetvalue(res, 0, PQfnumber(res, "secret_sealed")),
					&plain, err);
		if (r < 0)
			snprintf(err->object, sizeof(err->object), "%s", object);
		/* The reveal is on record before the secret leaves the library. */
		if (r == 0)
			r = pbx_audit_reveal(ctx, pbx_rows_get(&rows, 0, "tenant"), "trunk",
					     pbx_rows_get(&rows, 0, "id"), err);
		if (r == 0 && pbx_rows_set(&rows, 0, "secret", plain) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		pbx_secret_free_str(plain);
	}
	PQclear(res);
	if (r < 0) {
		pbx_trunk_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
