/* SPDX-License-Identifier: MIT */
/*
 * The audit log: appending chained rows (in SQL, function audit_append of migration 0001),
 * listing with filters and keyset pagination, and verifying the chain.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"

static const struct pbx_field audit_fields[] = {
	{ "id", PBX_FT_INT, PBX_FIELD_DEFAULT, "row id, also the pagination cursor" },
	{ "at", PBX_FT_TIME, PBX_FIELD_DEFAULT, "time of the change" },
	{ "actor", PBX_FT_STRING, PBX_FIELD_DEFAULT, "PostgreSQL role that made it" },
	{ "source", PBX_FT_STRING, 0, "OS user@host" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant slug" },
	{ "action", PBX_FT_STRING, PBX_FIELD_DEFAULT, "create, update, delete, ..." },
	{ "entity", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant, user, device, ..." },
	{ "entity_id", PBX_FT_STRING, PBX_FIELD_DEFAULT, "id of the entity" },
	{ "before", PBX_FT_JSON, 0, "entity before, secrets masked" },
	{ "after", PBX_FT_JSON, 0, "entity after, secrets masked" },
	{ "hash", PBX_FT_STRING, 0, "SHA-256 chain hash" },
};

const struct pbx_schema pbx_schema_audit = STORE_SCHEMA("audit", audit_fields);

static const struct pbx_field verify_fields[] = {
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "ok or broken" },
	{ "rows", PBX_FT_INT, PBX_FIELD_DEFAULT, "rows checked" },
	{ "first_bad_id", PBX_FT_INT, PBX_FIELD_DEFAULT, "first row that fails, or null" },
	{ "problem", PBX_FT_STRING, PBX_FIELD_DEFAULT, "what is wrong with it" },
};

const struct pbx_schema pbx_schema_audit_verify = STORE_SCHEMA("audit_verify", verify_fields);

static const struct pbx_field anchor_fields[] = {
	{ "id", PBX_FT_INT, PBX_FIELD_DEFAULT, "last row of the chain (0: empty log)" },
	{ "hash", PBX_FT_STRING, PBX_FIELD_DEFAULT, "its chain hash" },
	{ "count", PBX_FT_INT, PBX_FIELD_DEFAULT, "rows in the log up to it" },
};

const struct pbx_schema pbx_schema_audit_anchor = STORE_SCHEMA("audit_anchor", anchor_fields);

int pbx_audit_append(pbx_ctx *ctx, PGconn *pg, const char *tenant, const char *action,
		     const char *entity, const char *entity_id, const char *before_json,
		     const char *after_json, pbx_error *err)
{
	const char *p[7] = { pbx_ctx_source(ctx), tenant, action, entity, entity_id,
			     before_json, after_json };

	return pbx_pg_exec(pg, "SELECT audit_append($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)", 7,
			   p, "audit log", err);
}

int pbx_audit_reveal(pbx_ctx *ctx, const char *tenant, const char *entity,
		     const char *entity_id, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	int r;

	if (!pg)
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	r = pbx_audit_append(ctx, pg, tenant, "reveal", entity, entity_id, NULL,
			     "{\"revealed\": \"secret\"}", err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0)
		pbx_pg_rollback(pg);
	return r;
}

int pbx_audit_list(pbx_ctx *ctx, const struct pbx_audit_filter *f, struct pbx_rows *ret,
		   pbx_error *err)
{
	char limit[24];
	const char *p[8];
	struct pbx_rows rows;
	PGresult *res;
	PGconn *pg;
	long n = f->limit ? f->limit : 100;
	int r;

	if (n < 1 || n > 10000)
		return pbx_errorf(err, PBX_EINVALID, "audit", "limit", "limit must be 1 to 10000");
	if (f->after && (strspn(f->after, "0123456789") != strlen(f->after) || !*f->after ||
			 strlen(f->after) > 18))
		return pbx_errorf(err, PBX_EINVALID, "audit", "after",
				  "cursor \"%s\" is not one this command printed", f->after);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	/* One more than asked, to know whether a next page exists. */
	snprintf(limit, sizeof(limit), "%ld", n + 1);
	p[0] = f->entity;
	p[1] = f->action;
	p[2] = f->actor;
	p[3] = f->tenant;
	p[4] = f->since;
	p[5] = f->until;
	p[6] = f->after;
	p[7] = limit;
	res = PQexecParams(pg,
		"SELECT id::text AS id, " PBX_SQL_TIME("at") " AS at, actor, source, tenant, action, "
		"entity, entity_id, before::text AS before, after::text AS after, hash "
		"FROM audit_log WHERE ($1::text IS NULL OR entity = $1) "
		"AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR actor = $3) "
		"AND ($4::text IS NULL OR tenant = $4) AND ($5::timestamptz IS NULL OR at >= $5) "
		"AND ($6::timestamptz IS NULL OR at < $6) AND ($7::bigint IS NULL OR id < $7) "
		"ORDER BY audit_log.id DESC LIMIT $8::int", 8, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (st && !strncmp(st, "22", 2))
			r = pbx_errorf(err, PBX_EINVALID, "audit", "since",
				       "--since and --until take a time such as 2026-11-26 or 2026-11-26T10:00:00Z");
		else
			r = pbx_pg_error(pg, res, "audit log", err);
		PQclear(res);
		return r;
	}
	pbx_rows_init(&rows, &pbx_schema_audit);
	r = pbx_pg_fill(res, &rows, err);
	if (r == 0 && rows.n_rows > (size_t)n) {
		/* Drop the extra row; the cursor is the last row shown. */
		for (size_t i = 0; i < rows.schema->n_fields; i++)
			free(rows.cells[(size_t)n * rows.schema->n_fields + i]);
		rows.n_rows = (size_t)n;
		rows.next_cursor = strdup(pbx_rows_get(&rows, (size_t)n - 1, "id"));
	}
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_audit_verify(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;
	char count[24], bad[24] = "", problem[256] = "";
	PGresult *res;
	PGconn *pg;
	int n, r = 0;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	res = pbx_pg_query(pg,
		"SELECT a.id, a.hash, a.prev_hash, audit_row_hash(a.prev_hash, a), "
		"coalesce(lag(a.hash) OVER (ORDER BY a.id), repeat('0', 64)), "
		"lag(a.id) OVER (ORDER BY a.id) FROM audit_log a ORDER BY a.id",
		0, NULL, "audit log", err);
	if (!res)
		return err->code;
	n = PQntuples(res);
	for (int i = 0; i < n && !bad[0]; i++) {
		const char *id = PQgetvalue(res, i, 0);

		if (strcmp(PQgetvalue(res, i, 1), PQgetvalue(res, i, 3)) != 0) {
			snprintf(bad, sizeof(bad), "%s", id);
			snprintf(problem, sizeof(problem),
				 "audit row %s was changed after it was written (its hash no longer matches its content)",
				 id);
		} else if (strcmp(PQgetvalue(res, i, 2), PQgetvalue(res, i, 4)) != 0) {
			snprintf(bad, sizeof(bad), "%s", id);
			if (i == 0)
				snprintf(problem, sizeof(problem),
					 "audit rows before row %s were removed (it chains to a row that is gone)",
					 id);
			else
				snprintf(problem, sizeof(problem),
					 "audit rows between row %s and row %s were removed, or row %s was changed",
					 PQgetvalue(res, i, 5), id, PQgetvalue(res, i, 5));
		}
	}
	PQclear(res);
	snprintf(count, sizeof(count), "%d", n);
	pbx_rows_init(&rows, &pbx_schema_audit_verify);
	if (pbx_rows_add(&rows) < 0 ||
	    pbx_rows_set(&rows, 0, "status", bad[0] ? "broken" : "ok") < 0 ||
	    pbx_rows_set(&rows, 0, "rows", count) < 0 ||
	    pbx_rows_set(&rows, 0, "first_bad_id", bad[0] ? bad : NULL) < 0 ||
	    pbx_rows_set(&rows, 0, "problem", bad[0] ? problem : NULL) < 0) {
		pbx_rows_free(&rows);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	if (bad[0])
		r = pbx_errorf(err, PBX_ERROR, "audit log", NULL, "%s", problem);
	*ret = rows;
	return r;
}

int pbx_audit_anchor(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);

	if (!pg)
		return err->code;
	return pbx_pg_select(pg,
		"SELECT coalesce(max(id), 0)::text AS id, "
		"coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '') AS hash, "
		"count(*)::text AS count FROM audit_log", 0, NULL, "audit log",
		&pbx_schema_audit_anchor, ret, err);
}

/* The value after @key in @text ("key  value" or "\"key\": value"), into @buf. */
static bool anchor_field(const char *text, const char *key, const char *allowed, char *buf,
			 size_t n)
{
	size_t klen = strlen(key), len;

	for (const char *p = text; (p = strstr(p, key)); p += klen) {
		const char *v = p + klen;

		if ((p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) ||
		    isalnum((unsigned char)*v) || *v == '_')
			continue;
		v += strspn(v, "\" \t:");
		len = strspn(v, allowed);
		if (len == 0 || len >= n)
			return false;
		memcpy(buf, v, len);
		buf[len] = '\0';
		return true;
	}
	return false;
}

int pbx_audit_anchor_read(const char *path, struct pbx_audit_anchor *ret, pbx_error *err)
{
	struct pbx_audit_anchor a = { 0 };
	char text[4096], id[24], count[24], obj[PBX_ERR_OBJECT];
	FILE *f = fopen(path, "re");
	size_t n;

	snprintf(obj, sizeof(obj), "anchor %s", path);
	if (!f)
		return pbx_errorf(err, errno == ENOENT ? PBX_ENOTFOUND : PBX_EPERM, obj, NULL,
				  "cannot read it: %s", strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	if (!anchor_field(text, "id", "0123456789", id, sizeof(id)))
		return pbx_errorf(err, PBX_EINVALID, obj, "id",
				  "no id: expected the output of pbxctl audit anchor (id, hash, count)");
	if (!anchor_field(text, "count", "0123456789", count, sizeof(count)))
		return pbx_errorf(err, PBX_EINVALID, obj, "count",
				  "no count: expected the output of pbxctl audit anchor (id, hash, count)");
	a.id = strtol(id, NULL, 10);
	a.count = strtol(count, NULL, 10);
	if (!anchor_field(text, "hash", "0123456789abcdef", a.hash, sizeof(a.hash)) ?
	    a.id != 0 : strlen(a.hash) != 64)
		return pbx_errorf(err, PBX_EINVALID, obj, "hash",
				  "hash must be 64 lower-case hexadecimal digits");
	if (a.count > a.id || (a.id > 0) != (a.count > 0))
		return pbx_errorf(err, PBX_EINVALID, obj, "count",
				  "count %ld does not fit id %ld: a chain of id N holds 1 to N rows",
				  a.count, a.id);
	*ret = a;
	return 0;
}

/* Why @anchor no longer matches the log, in @problem (empty when it does). */
static int anchor_problem(PGconn *pg, const struct pbx_audit_anchor *anchor, char *problem,
			  size_t n, pbx_error *err)
{
	char id[24];
	const char *p[1] = { id };
	PGresult *res;
	long last, upto;
	const char *hash;

	snprintf(id, sizeof(id), "%ld", anchor->id);
	res = pbx_pg_query(pg,
		"SELECT coalesce(max(id), 0)::text, count(*) FILTER (WHERE id <= $1::bigint)::text, "
		"(SELECT hash FROM audit_log WHERE id = $1::bigint) FROM audit_log", 1, p,
		"audit log", err);
	if (!res)
		return err->code;
	last = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	upto = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	hash = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
	problem[0] = '\0';
	if (anchor->id > 0 && last < anchor->id)
		snprintf(problem, n,
			 "audit rows were removed from the end: the anchor names row %ld with %ld rows, "
			 "the chain now ends at row %ld with %ld",
			 anchor->id, anchor->count, last, upto);
	else if (anchor->id > 0 && !hash)
		snprintf(problem, n, "audit row %ld, the anchored head, was removed", anchor->id);
	else if (anchor->id > 0 && strcmp(hash, anchor->hash) != 0)
		snprintf(problem, n,
			 "audit row %ld no longer has the anchored hash: the chain up to it was rewritten",
			 anchor->id);
	else if (upto != anchor->count)
		snprintf(problem, n,
			 "the anchor counts %ld rows up to row %ld, the log now holds %ld: rows were "
			 "removed and the chain rewritten", anchor->count, anchor->id, upto);
	PQclear(res);
	return 0;
}

int pbx_audit_verify_anchor(pbx_ctx *ctx, const struct pbx_audit_anchor *anchor,
			    struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows = { 0 };
	char problem[256], bad[24];
	PGconn *pg;
	int r;

	if ((r = pbx_audit_verify(ctx, &rows, err)) < 0) {
		*ret = rows;
		return r;
	}
	if (!(pg = pbx_ctx_pg(ctx, err)) || anchor_problem(pg, anchor, problem, sizeof(problem), err) < 0) {
		pbx_rows_free(&rows);
		return err->code;
	}
	if (problem[0]) {
		snprintf(bad, sizeof(bad), "%ld", anchor->id);
		if (pbx_rows_set(&rows, 0, "status", "broken") < 0 ||
		    pbx_rows_set(&rows, 0, "first_bad_id", bad) < 0 ||
		    pbx_rows_set(&rows, 0, "problem", problem) < 0) {
			pbx_rows_free(&rows);
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
		r = pbx_errorf(err, PBX_ERROR, "audit log", NULL, "%s", problem);
	}
	*ret = rows;
	return r;
}
