/* SPDX-License-Identifier: MIT */
/*
 * Users in PostgreSQL, the reading half: the user schema, finding a tenant and a user by
 * what people type, the plain create of one user (through prepared.c's one-round-trip
 * path), and list (status filter, search, stable sort, keyset pagination) and show.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/user.h"
#include "pbx/valid.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field user_fields[] = {
	STORE_FIELD_ID,
	{ "tenant", PBX_FT_STRING, PBX_FIELD_READONLY, "tenant slug" },
	{ "username", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "unique in the tenant" },
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "display name" },
	{ "email", PBX_FT_STRING, PBX_FIELD_EXPORT, "email address" },
	{ "extension", PBX_FT_INT, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "extension in the tenant's range" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "active, suspended or deleted" },
	{ "outbound_callerid", PBX_FT_STRING, PBX_FIELD_EXPORT, "caller ID number for outbound calls" },
	{ "voicemail", PBX_FT_BOOL, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "voicemail box enabled" },
	{ "pin", PBX_FT_SECRET, 0, "\"********\" when a voicemail PIN is set, else null" },
	{ "dnd", PBX_FT_BOOL, PBX_FIELD_EXPORT, "do not disturb" },
	{ "forward_to", PBX_FT_STRING, PBX_FIELD_EXPORT, "call forward: an extension or +E164" },
	{ "policy", PBX_FT_STRING, PBX_FIELD_EXPORT, "outbound policy override" },
	STORE_FIELDS_TIMES,
};

const struct pbx_schema pbx_schema_user = STORE_SCHEMA("user", user_fields);


bool pbx_user_plain(const struct pbx_user_spec *spec)
{
	return !spec->pin && (!spec->forward_to || !*spec->forward_to || spec->forward_to[0] == '+');
}

int pbx_user_create_plain(pbx_ctx *ctx, PGconn *pg, const char *tenant,
			  const struct pbx_user_spec *spec, const char *hash,
			  struct pbx_rows *rows, pbx_error *err)
{
	struct pbx_rows *const out[1] = { rows };
	struct store_step step;

	if (!pbx_user_plain(spec))
		return 1;
	pbx_user_plain_step(ctx, tenant, spec, hash, &step);
	return store_fast(pg, &step, 1, out, err);
}

/* A plain user create (migration 0006), its result and its audit row: one statement. */
#define USER_PLAIN \
	"SELECT x.*, audit_append($11, x.tenant, 'create', 'user', x.id, NULL, to_jsonb(x)) " \
	"AS _audit FROM (SELECT " USER_COLUMNS "FROM user_create_plain((SELECT t.id FROM " \
	"tenants t WHERE " TENANT_MATCH("$1") "), $2, $3, $4, $5::int, $6, $7::boolean, $8, " \
	"$9::boolean, $10) u JOIN tenants t ON t.id = u.tenant_id) x"

void pbx_user_plain_step(pbx_ctx *ctx, const char *tenant, const struct pbx_user_spec *spec,
			 const char *hash, struct store_step *step)
{
	const char **p = step->params;

	*step = (struct store_step){ .slot = STMT_USER_PLAIN, .sql = USER_PLAIN, .n = 11 };
	p[0] = tenant;
	p[1] = spec->username;
	p[2] = spec->name ? spec->name : spec->username;
	p[3] = spec->email && *spec->email ? spec->email : NULL;
	p[4] = spec->extension;
	p[5] = spec->outbound_callerid && *spec->outbound_callerid ? spec->outbound_callerid : NULL;
	p[6] = spec->voicemail > 0 ? "true" : "false";
	p[7] = hash && *hash ? hash : NULL;
	p[8] = spec->dnd > 0 ? "true" : "false";
	p[9] = spec->forward_to && *spec->forward_to ? spec->forward_to : NULL;
	p[10] = pbx_ctx_source(ctx);
}

int pbx_user_find(PGconn *pg, const char *tenant, const char *user, struct pbx_tenant_ref *ret_t,
		  struct pbx_user_ref *ret_u, pbx_error *err)
{
	const char *p[2] = { tenant, user };
	PGresult *res;

	res = pbx_pg_query(pg,
		"SELECT t.id::text, t.slug, t.ext_min, t.ext_max, t.ext_next, "
		"u.id::text, u.username, u.extension::text, u.status "
		"FROM tenants t LEFT JOIN LATERAL (SELECT " USER_MATCH("t.id", "$2") " AS id) m ON true "
		"LEFT JOIN users u ON u.id = m.id WHERE " TENANT_MATCH("$1"), 2, p, tenant, err);
	if (!res)
		return err->code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	if (user && PQgetisnull(res, 0, 5)) {
		pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %s does not exist in tenant %s",
			   user, PQgetvalue(res, 0, 1));
		PQclear(res);
		return PBX_ENOTFOUND;
	}
	if (ret_t) {
		snprintf(ret_t->id, sizeof(ret_t->id), "%s", PQgetvalue(res, 0, 0));
		snprintf(ret_t->slug, sizeof(ret_t->slug), "%s", PQgetvalue(res, 0, 1));
		ret_t->ext_min = strtol(PQgetvalue(res, 0, 2), NULL, 10);
		ret_t->ext_max = strtol(PQgetvalue(res, 0, 3), NULL, 10);
		ret_t->ext_next = strtol(PQgetvalue(res, 0, 4), NULL, 10);
	}
	if (user && ret_u) {
		snprintf(ret_u->id, sizeof(ret_u->id), "%s", PQgetvalue(res, 0, 5));
		snprintf(ret_u->username, sizeof(ret_u->username), "%s", PQgetvalue(res, 0, 6));
		snprintf(ret_u->extension, sizeof(ret_u->extension), "%s", PQgetvalue(res, 0, 7));
		snprintf(ret_u->status, sizeof(ret_u->status), "%s", PQgetvalue(res, 0, 8));
	}
	PQclear(res);
	return 0;
}

/* ---- list and show ------------------------------------------------------------------ */

#define LIST_WHERE \
	"WHERE u.tenant_id = $1::bigint AND CASE WHEN $2::text IS NULL THEN u.status <> 'deleted' " \
	"WHEN $2 = 'all' THEN true ELSE u.status = $2 END " \
	"AND ($3::text IS NULL OR strpos(u.username, lower($3)) > 0 " \
	"OR strpos(lower(u.display_name), lower($3)) > 0 " \
	"OR left(u.extension::text, length($3)) = $3) "

static const char *const list_sql[] = {
	USER_SELECT LIST_WHERE
	"AND ($4::text IS NULL OR (u.extension, u.id) > ($4::int, $5::bigint)) "
	"ORDER BY u.extension, u.id LIMIT $6::int",
	USER_SELECT LIST_WHERE
	"AND ($4::text IS NULL OR u.username COLLATE \"C\" > $4 "
	"OR (u.username = $4 AND u.id > $5::bigint)) "
	"ORDER BY u.username COLLATE \"C\", u.id LIMIT $6::int",
	USER_SELECT LIST_WHERE
	"AND ($4::text IS NULL OR u.display_name COLLATE \"C\" > $4 "
	"OR (u.display_name = $4 AND u.id > $5::bigint)) "
	"ORDER BY u.display_name COLLATE \"C\", u.id LIMIT $6::int",
};
static const char *const sort_names[] = { PBX_USER_SORT_EXTENSION, PBX_USER_SORT_USERNAME,
					  PBX_USER_SORT_NAME };
/* The cursor's first character says which sort made it. */
static const char sort_tags[] = { 'e', 'u', 'n' };

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "<tag><hex of the sort value>.<id>" */
static char *make_cursor(int sort, const char *value, const char *id)
{
	size_t n = strlen(value);
	char *c = malloc(2 * n + strlen(id) + 3);

	if (!c)
		return NULL;
	c[0] = sort_tags[sort];
	for (size_t i = 0; i < n; i++)
		snprintf(c + 1 + 2 * i, 3, "%02x", (unsigned char)value[i]);
	snprintf(c + 1 + 2 * n, strlen(id) + 2, ".%s", id);
	return c;
}

/* Decode a cursor into @value (size n) and @id; 0 or -1. */
static int parse_cursor(int sort, const char *cursor, char *value, size_t n, char id[24])
{
	const char *dot = strrchr(cursor, '.');
	size_t hexlen, idlen;

	if (cursor[0] != sort_tags[sort] || !dot)
		return -1;
	hexlen = (size_t)(dot - cursor - 1);
	idlen = strlen(dot + 1);
	if (hexlen == 0 || hexlen % 2 || hexlen / 2 >= n || idlen == 0 || idlen > 18 ||
	    strspn(dot + 1, "0123456789") != idlen)
		return -1;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hexval(cursor[1 + 2 * i]), lo = hexval(cursor[2 + 2 * i]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		value[i] = (char)(hi * 16 + lo);
	}
	value[hexlen / 2] = '\0';
	memcpy(id, dot + 1, idlen + 1);
	if (sort == 0 && strspn(value, "0123456789") != strlen(value))
		return -1;
	return 0;
}

int pbx_user_list(pbx_ctx *ctx, const char *tenant, const struct pbx_user_filter *f,
		  struct pbx_rows *ret, pbx_error *err)
{
	static const char *const statuses[] = { "active", "suspended", "deleted", "all" };
	char limit[24], value[512], id[24];
	struct pbx_tenant_ref t;
	struct pbx_rows rows;
	const char *p[6];
	PGresult *res;
	PGconn *pg;
	long n = f->limit ? f->limit : 1000;
	int sort = 0, r;
	bool ok = f->status == NULL;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]) && !ok; i++)
		ok = !strcmp(f->status, statuses[i]);
	if (!ok)
		return pbx_errorf(err, PBX_EINVALID, "user", "status",
				  "status must be active, suspended, deleted or all");
	if (f->sort) {
		for (sort = 0; sort < 3 && strcmp(f->sort, sort_names[sort]); sort++)
			;
		if (sort == 3)
			return pbx_errorf(err, PBX_EINVALID, "user", "sort",
					  "sort must be extension, username or name");
	}
	if (n < 1 || n > 10000)
		return pbx_errorf(err, PBX_EINVALID, "user", "limit", "limit must be 1 to 10000");
	if (f->search && *f->search && !pbx_valid_text(f->search, 128))
		return pbx_errorf(err, PBX_EINVALID, "user", "search",
				  "search text must be at most 128 characters without control characters");
	if (f->after && parse_cursor(sort, f->after, value, sizeof(value), id) < 0)
		return pbx_errorf(err, PBX_EINVALID, "user", "after",
				  "cursor \"%s\" is not one this command printed with --sort %s",
				  f->after, sort_names[sort]);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_user_find(pg, tenant, NULL, &t, NULL, err)) < 0)
		return r;
	/* One more than asked, to know whether a next page exists. */
	snprintf(limit, sizeof(limit), "%ld", n + 1);
	p[0] = t.id;
	p[1] = f->status;
	p[2] = f->search && *f->search ? f->search : NULL;
	p[3] = f->after ? value : NULL;
	p[4] = f->after ? id : NULL;
	p[5] = limit;
	if (!(res = pbx_pg_query(pg, list_sql[sort], 6, p, "user", err)))
		return err->code;
	pbx_rows_init(&rows, &pbx_schema_user);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r == 0 && (long)rows.n_rows > n) {
		static const char *const keys[] = { "extension", "username", "name" };
		size_t last = (size_t)n - 1;

		/* Drop the extra row; the last one shown is where the next page starts. */
		for (size_t i = 0; i < pbx_schema_user.n_fields; i++)
			free(rows.cells[(size_t)n * pbx_schema_user.n_fields + i]);
		rows.n_rows = (size_t)n;
		rows.next_cursor = make_cursor(sort, pbx_rows_get(&rows, last, keys[sort]),
					       pbx_rows_get(&rows, last, "id"));
		if (!rows.next_cursor)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_user_show(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		  pbx_error *err)
{
	struct pbx_user_ref u;
	struct pbx_rows rows;
	PGconn *pg;
	char object[96], missing[128];
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_user_find(pg, tenant, user, NULL, &u, err)) < 0)
		return r;
	snprintf(object, sizeof(object), "user %s", u.username);
	pbx_rows_init(&rows, &pbx_schema_user);
	snprintf(missing, sizeof(missing), "%s does not exist any more", object);
	r = store_load(pg, "SELECT x.*, NULL AS _json FROM (" USER_SELECT "WHERE u.id = $1::bigint) x",
		       u.id, object, missing, &rows, NULL, err);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
