/* SPDX-License-Identifier: MIT */
/*
 * The audit trail of a bulk import, and COPY. Changes to existing rows stage their audit
 * rows in SQL (pbx_bulk_audit, images by the stores' own SELECTs); rows an import creates
 * get their images built here from the values written, in the exact text jsonb prints
 * (keys by length then bytes, ", " and ": "), because computing 30 000 images in SQL only to
 * fetch them back was a third of an import's time. At the end every row is chained in id
 * order exactly as audit_append() chains: sha256(prev_hash || audit_canonical(row)), the
 * canonical text rebuilt here byte for byte, and COPYed into audit_log. The import holds
 * audit_append's lock from its first audit id to commit, so no other row comes between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx/schema.h"
#include "bulk-store.h"
#include "ctx.h"
#include "pg.h"

/* ---- COPY --------------------------------------------------------------------------- */

void pbx_store_bulk_put(struct pbx_store_bulk_buf *b, const char *s, size_t n)
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

#define put pbx_store_bulk_put

/* One field in COPY's text format: \N for null; backslash and line breaks escaped. */
static void put_field(struct pbx_store_bulk_buf *b, const char *s)
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

int pbx_store_bulk_copy_cols(PGconn *pg, const char *sql, const struct pbx_store_bulk_batch *batch,
			     const int *cols, size_t n_cols, const char *object, pbx_error *err)
{
	struct pbx_store_bulk_buf b = { .p = NULL };
	PGresult *res = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0);
	int r = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		r = pbx_pg_error(pg, res, object, err);
		PQclear(res);
		return r;
	}
	PQclear(res);
	for (size_t row = 0; row < batch->n_rows; row++) {
		for (size_t k = 0; k < n_cols; k++) {
			size_t col = cols ? (size_t)cols[k] : k;

			if (k)
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

int pbx_store_bulk_copy(PGconn *pg, const char *sql, const struct pbx_store_bulk_batch *batch,
			const char *object, pbx_error *err)
{
	return pbx_store_bulk_copy_cols(pg, sql, batch, NULL, batch->n_cols, object, err);
}

int pbx_store_bulk_copy_into(PGconn *pg, const struct pbx_store_bulk_target *t,
			     const struct pbx_store_bulk_batch *batch, const int *cols, size_t n_cols,
			     const char *object, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, "SELECT row_security_active($1)", 1,
				     (const char *const[]){ t->table }, object, err);
	bool rls;
	int r;

	if (!res)
		return err->code;
	rls = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (!rls)
		return pbx_store_bulk_copy_cols(pg, t->copy, batch, cols, n_cols, object, err);
	if ((r = pbx_pg_exec(pg, t->stage[0], 0, NULL, object, err)) < 0 ||
	    (r = pbx_store_bulk_copy_cols(pg, t->stage[1], batch, cols, n_cols, object, err)) < 0 ||
	    (r = pbx_pg_exec(pg, t->stage[2], 0, NULL, object, err)) < 0)
		return r;
	return pbx_pg_exec(pg, t->stage[3], 0, NULL, object, err);
}

int pbx_store_bulk_ids(PGconn *pg, const char *table, size_t n, char (**ret)[24], pbx_error *err)
{
	char count[24];
	const char *p[2] = { table, count };
	PGresult *res;
	char (*ids)[24];

	snprintf(count, sizeof(count), "%zu", n);
	if (!(res = pbx_pg_query(pg, "SELECT nextval(pg_get_serial_sequence($1, 'id'))::text "
				 "FROM generate_series(1, $2::int)", 2, p, table, err)))
		return err->code;
	if (!(ids = malloc((n + 1) * sizeof(*ids)))) {
		PQclear(res);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	for (size_t i = 0; i < n && i < (size_t)PQntuples(res); i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", PQgetvalue(res, (int)i, 0));
	PQclear(res);
	*ret = ids;
	return 0;
}

/*
 * @n consecutive audit ids in one step. Safe only because the import holds audit_append's
 * lock, and every writer of audit ids draws them under it.
 */
static int audit_block(PGconn *pg, size_t n, long long *ret_first, pbx_error *err)
{
	char count[24];
	const char *p[1] = { count };
	PGresult *res;

	snprintf(count, sizeof(count), "%zu", n);
	/* audit_reserve_ids() of migration 0007: operators may not set the sequence. */
	if (!(res = pbx_pg_query(pg, "SELECT audit_reserve_ids($1::bigint)", 1, p, "audit log", err)))
		return err->code;
	*ret_first = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* ---- images ------------------------------------------------------------------------- */

/* Append @s as a JSON string the way PostgreSQL's escape_json() writes it, or null. */
static void put_json_string(struct pbx_store_bulk_buf *b, const char *s)
{
	if (!s) {
		put(b, "null", 4);
		return;
	}
	put(b, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		size_t run = 0;
		char esc[8];

		while (c[run] >= ' ' && c[run] != '"' && c[run] != '\\')
			run++;
		if (run) {
			put(b, (const char *)c, run);
			c += run - 1;
			continue;
		}
		switch (*c) {
		case '\b': put(b, "\\b", 2); break;
		case '\f': put(b, "\\f", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			put(b, esc, 6);
		}
	}
	put(b, "\"", 1);
}

/* jsonb's key order: shorter keys first, then bytewise. */
static int key_order(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la != lb ? (la < lb ? -1 : 1) : memcmp(a, b, la);
}

/* The order in which jsonb prints the keys of @schema (an index permutation). */
static void schema_order(const struct pbx_schema *s, size_t *order)
{
	for (size_t i = 0; i < s->n_fields; i++)
		order[i] = i;
	for (size_t i = 1; i < s->n_fields; i++)
		for (size_t j = i; j > 0 && key_order(s->fields[order[j - 1]].key,
						       s->fields[order[j]].key) > 0; j--) {
			size_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}

/* ---- the audit rows ----------------------------------------------------------------- */

struct arow {
	long long id;
	char *entity_id, *tenant, *after;
	const char *action, *entity;
};

struct pbx_store_bulk_audit {
	struct arow *rows;
	size_t n, cap;
	char *at, *micros;       /* one time for the rows built here */
	char *actor, *source;
};

int pbx_store_bulk_audit_new(struct pbx_store_bulk_audit **ret)
{
	return (*ret = calloc(1, sizeof(**ret))) ? 0 : PBX_ERROR;
}

void pbx_store_bulk_audit_free(struct pbx_store_bulk_audit *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->rows[i].entity_id);
		free(a->rows[i].tenant);
		free(a->rows[i].after);
	}
	free(a->rows);
	free(a->at);
	free(a->micros);
	free(a->actor);
	free(a->source);
	free(a);
}

/* The time, actor and source of the rows built here; read once. */
static int audit_meta(PGconn *pg, struct pbx_store_bulk_audit *a, pbx_error *err)
{
	PGresult *res;

	if (a->at)
		return 0;
	res = pbx_pg_query(pg, "SELECT t::text, (extract(epoch FROM t) * 1000000)::bigint::text, "
			   "session_user::text, current_setting('pbxctl.source') "
			   "FROM (SELECT clock_timestamp() AS t) x", 0, NULL, "audit log", err);
	if (!res)
		return err->code;
	a->at = strdup(PQgetvalue(res, 0, 0));
	a->micros = strdup(PQgetvalue(res, 0, 1));
	a->actor = strdup(PQgetvalue(res, 0, 2));
	a->source = strdup(PQgetvalue(res, 0, 3));
	PQclear(res);
	if (!a->at || !a->micros || !a->actor || !a->source)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return 0;
}

int pbx_store_bulk_audit_creates(PGconn *pg, struct pbx_store_bulk_audit *a,
				 const struct pbx_schema *schema, const char *const *values,
				 size_t n, const char *tenant_key, pbx_error *err)
{
	struct pbx_store_bulk_buf img = { .p = NULL };
	size_t nf = schema->n_fields, order[64];
	long long first = 0;
	int idk = pbx_schema_index(schema, "id"), tk = pbx_schema_index(schema, tenant_key);
	int r;

	if (nf > 64 || idk < 0 || tk < 0)
		PBX_BUG("bulk audit: an image schema without id or tenant");
	if (n == 0)
		return 0;
	if ((r = audit_meta(pg, a, err)) < 0 || (r = audit_block(pg, n, &first, err)) < 0)
		return r;
	if (a->n + n > a->cap) {
		size_t cap = a->n + n;
		struct arow *rows = realloc(a->rows, cap * sizeof(*rows));

		if (!rows)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		a->rows = rows;
		a->cap = cap;
	}
	schema_order(schema, order);
	for (size_t i = 0; i < n; i++) {
		const char *const *v = values + i * nf;
		struct arow *row = &a->rows[a->n];

		img.n = 0;
		put(&img, "{", 1);
		for (size_t k = 0; k < nf; k++) {
			if (k)
				put(&img, ", ", 2);
			put_json_string(&img, schema->fields[order[k]].key);
			put(&img, ": ", 2);
			put_json_string(&img, v[order[k]]);
		}
		put(&img, "}", 2);
		*row = (struct arow){ .id = first + (long long)i, .action = "create",
				      .entity = schema->name, .entity_id = strdup(v[idk]),
				      .tenant = v[tk] ? strdup(v[tk]) : NULL,
				      .after = img.oom ? NULL : strdup(img.p) };
		a->n++;
		if (!row->entity_id || (v[tk] && !row->tenant) || !row->after) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			break;
		}
	}
	free(img.p);
	return r;
}

/* The staged rows' columns, as fetched below. */
enum { A_ID, A_AT, A_MICROS, A_ACTOR, A_SOURCE, A_TENANT, A_ACTION, A_ENTITY, A_ENTITY_ID,
       A_BEFORE, A_AFTER, A_N };

/* One row to chain: either staged (a result row) or built here. */
struct entry {
	long long id;
	int staged;              /* row of the staged result, or -1 */
	const struct arow *own;
};

static int cmp_entry(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* The row's cells in audit_log column order (id, at, actor, ..., after). */
static void cells(const struct pbx_store_bulk_audit *a, const PGresult *res,
		  const struct entry *e, const char *v[A_N], char idbuf[24])
{
	if (e->staged >= 0) {
		for (int c = 0; c < A_N; c++)
			v[c] = PQgetisnull(res, e->staged, c) ? NULL : PQgetvalue(res, e->staged, c);
		return;
	}
	snprintf(idbuf, 24, "%lld", e->id);
	v[A_ID] = idbuf;
	v[A_AT] = a->at;
	v[A_MICROS] = a->micros;
	v[A_ACTOR] = a->actor;
	v[A_SOURCE] = a->source;
	v[A_TENANT] = e->own->tenant;
	v[A_ACTION] = e->own->action;
	v[A_ENTITY] = e->own->entity;
	v[A_ENTITY_ID] = e->own->entity_id;
	v[A_BEFORE] = NULL;
	v[A_AFTER] = e->own->after;
}

/*
 * audit_canonical() of a row, byte for byte: jsonb_build_array(id, microseconds, actor,
 * source, tenant, action, entity, entity_id, before, after)::text, whose elements jsonb
 * prints separated by ", " (the images are in jsonb's own text form already).
 */
static void canonical(struct pbx_store_bulk_buf *b, const char *const v[A_N])
{
	b->n = 0;
	put(b, "[", 1);
	for (int c = A_ID; c < A_N; c++) {
		if (c == A_AT)
			continue;
		if (c != A_ID)
			put(b, ", ", 2);
		if (c == A_ID || c == A_MICROS || c == A_BEFORE || c == A_AFTER)
			put(b, v[c] ? v[c] : "null", v[c] ? strlen(v[c]) : 4);
		else
			put_json_string(b, v[c]);
	}
	put(b, "]", 1);
}

int pbx_store_bulk_audit_finish(PGconn *pg, struct pbx_store_bulk_audit *a, size_t *ret_rows,
				pbx_error *err)
{
	static const struct pbx_store_bulk_target audit_log = BULK_TARGET("audit_log",
		"id, at, actor, source, tenant, action, entity, entity_id, before, after, "
		"prev_hash, hash, actor_role");
	struct pbx_store_bulk_batch batch = { .n_cols = A_N + 2 };
	struct pbx_store_bulk_buf text = { .p = NULL };
	struct entry *order = NULL;
	char prev[65], first_prev[65], (*hashes)[65] = NULL, (*idbufs)[24] = NULL, role[32];
	PGresult *res = NULL;
	size_t n = 0, ns;
	int r;

	/* The bytes hashed are UTF-8, as convert_to(..., 'UTF8') in audit_row_hash(). */
	r = pbx_pg_exec(pg, "SELECT set_config('client_encoding', 'UTF8', true)", 0, NULL,
			"audit log", err);
	if (r < 0)
		return r;
	/* The head of the whole chain, which row-level security may hide from the operator,
	 * and the operator's role, which every row records as audit_append()'s do. */
	if (!(res = pbx_pg_query(pg, "SELECT audit_head(), pbx_operator_role()", 0, NULL,
				 "audit log", err)))
		return err->code;
	snprintf(prev, sizeof(prev), "%s", PQgetvalue(res, 0, 0));
	snprintf(role, sizeof(role), "%s", PQgetvalue(res, 0, 1));
	memcpy(first_prev, prev, sizeof(prev));
	PQclear(res);
	/* Unsorted: a sort of these wide rows would spill; they are ordered by id below. */
	if (!(res = pbx_pg_query(pg, "SELECT a.id::text, a.at::text, "
				 "(extract(epoch FROM a.at) * 1000000)::bigint::text, a.actor, a.source, "
				 "a.tenant, a.action, a.entity, a.entity_id, a.before::text, a.after::text "
				 "FROM pbx_bulk_audit a", 0, NULL, "audit log", err)))
		return err->code;
	ns = (size_t)PQntuples(res);
	n = ns + (a ? a->n : 0);
	order = malloc((n + 1) * sizeof(*order));
	hashes = malloc((n + 1) * sizeof(*hashes));
	idbufs = malloc((n + 1) * sizeof(*idbufs));
	batch.cells = malloc((n + 1) * batch.n_cols * sizeof(*batch.cells));
	if (!order || !hashes || !idbufs || !batch.cells) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < ns; i++)
		order[i] = (struct entry){ strtoll(PQgetvalue(res, (int)i, A_ID), NULL, 10), (int)i, NULL };
	for (size_t i = ns; i < n; i++)
		order[i] = (struct entry){ a->rows[i - ns].id, -1, &a->rows[i - ns] };
	qsort(order, n, sizeof(*order), cmp_entry);
	for (size_t k = 0; k < n; k++) {
		unsigned char digest[crypto_hash_sha256_BYTES];
		crypto_hash_sha256_state st;
		const char **row = batch.cells + k * batch.n_cols, *v[A_N];

		cells(a, res, &order[k], v, idbufs[k]);
		/* audit_row_hash(): sha256(prev_hash || canonical), as hex. */
		canonical(&text, v);
		if (text.oom) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto done;
		}
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const unsigned char *)prev, 64);
		crypto_hash_sha256_update(&st, (const unsigned char *)text.p, text.n);
		crypto_hash_sha256_final(&st, digest);
		sodium_bin2hex(hashes[k], 65, digest, sizeof(digest));
		for (int c = A_ID; c < A_N; c++)
			if (c != A_MICROS)
				*row++ = v[c];
		*row++ = k ? hashes[k - 1] : first_prev;
		*row++ = hashes[k];
		*row = *role ? role : NULL;
		memcpy(prev, hashes[k], sizeof(prev));
	}
	batch.n_rows = n;
	r = pbx_store_bulk_copy_into(pg, &audit_log, &batch, NULL, batch.n_cols, "audit log", err);
	if (r == 0 && ret_rows)
		*ret_rows = n;
done:
	PQclear(res);
	free(order);
	free(hashes);
	free(idbufs);
	free((void *)batch.cells);
	free(text.p);
	return r;
}
