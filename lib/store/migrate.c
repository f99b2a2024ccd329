/* SPDX-License-Identifier: MIT */
/*
 * The migrations runner: embedded numbered SQL files, applied one transaction each under a
 * session advisory lock, recorded in schema_migrations with their SHA-256.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/db.h"
#include "pbx/realtime.h"
#include "change.h"
#include "ctx.h"
#include "embedded.h"
#include "pg.h"

static const struct pbx_field migration_fields[] = {
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT, "migration file" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "applied, pending, changed or unknown" },
	{ "checksum", PBX_FT_STRING, 0, "SHA-256 of the file" },
	{ "applied_at", PBX_FT_TIME, PBX_FIELD_DEFAULT, "when it was applied" },
};

const struct pbx_schema pbx_schema_migration = STORE_SCHEMA("migration", migration_fields);

#define MIGRATION_LOCK "SELECT pg_advisory_lock(7242, 0)"

static void checksum(const char *sql, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)sql, strlen(sql));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

static int add_row(struct pbx_rows *rows, const char *name, const char *status,
		   const char *sum, const char *at, pbx_error *err)
{
	long i = pbx_rows_add(rows);

	if (i < 0 || pbx_rows_set(rows, (size_t)i, "name", name) < 0 ||
	    pbx_rows_set(rows, (size_t)i, "status", status) < 0 ||
	    pbx_rows_set(rows, (size_t)i, "checksum", sum) < 0 ||
	    pbx_rows_set(rows, (size_t)i, "applied_at", at) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return 0;
}

/* The applied migrations, or an empty result when the table does not exist yet. */
static PGresult *applied(PGconn *pg, pbx_error *err)
{
	return pbx_pg_query(pg,
		"SELECT name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations "
		"WHERE to_regclass('schema_migrations') IS NOT NULL ORDER BY name",
		0, NULL, "database", err);
}

static int find(PGresult *res, const char *name)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!strcmp(PQgetvalue(res, i, 0), name))
			return i;
	return -1;
}

/* Status rows, and the first inconsistency as an error when @check. */
static int compare(PGresult *res, struct pbx_rows *rows, bool check, pbx_error *err)
{
	int r;

	for (size_t i = 0; i < pbx_migrations_pg_count; i++) {
		const struct pbx_embedded_sql *m = &pbx_migrations_pg[i];
		char sum[65];
		int k = find(res, m->name);

		checksum(m->sql, sum);
		if (k >= 0 && strcmp(PQgetvalue(res, k, 1), sum) != 0) {
			if (check)
				return pbx_errorf(err, PBX_EINVALID, "migration", NULL,
						  "%s was changed after it was applied (checksum %.12s, now %.12s); restore the original file",
						  m->name, PQgetvalue(res, k, 1), sum);
			r = add_row(rows, m->name, "changed", PQgetvalue(res, k, 1),
				    PQgetvalue(res, k, 2), err);
		} else if (k >= 0) {
			r = add_row(rows, m->name, "applied", sum, PQgetvalue(res, k, 2), err);
		} else {
			r = add_row(rows, m->name, "pending", sum, NULL, err);
		}
		if (r < 0)
			return r;
	}
	for (int k = 0; k < PQntuples(res); k++) {
		bool known = false;

		for (size_t i = 0; i < pbx_migrations_pg_count; i++)
			known |= !strcmp(pbx_migrations_pg[i].name, PQgetvalue(res, k, 0));
		if (known)
			continue;
		if (check)
			return pbx_errorf(err, PBX_EINVALID, "migration", NULL,
					  "%s is applied but unknown to this pbxctl; the database is newer, upgrade pbxctl",
					  PQgetvalue(res, k, 0));
		r = add_row(rows, PQgetvalue(res, k, 0), "unknown", PQgetvalue(res, k, 1),
			    PQgetvalue(res, k, 2), err);
		if (r < 0)
			return r;
	}
	return 0;
}

int pbx_db_status(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;
	PGconn *pg;
	PGresult *res;
	int r;

	pbx_ctx_skip_schema_check(ctx);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if (!(res = applied(pg, err)))
		return err->code;
	pbx_rows_init(&rows, &pbx_schema_migration);
	r = compare(res, &rows, false, err);
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

static int apply_one(PGconn *pg, const struct pbx_embedded_sql *m, pbx_error *err)
{
	char sum[65];
	const char *p[2] = { m->name, sum };
	PGresult *res;
	int r;

	checksum(m->sql, sum);
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	/* Embedded, trusted SQL holding several statements: the simple query protocol. */
	res = PQexec(pg, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		char obj[96];

		snprintf(obj, sizeof(obj), "migration %s", m->name);
		pbx_pg_error(pg, res, obj, err);
		snprintf(err->message, sizeof(err->message), "failed; nothing of it was applied");
		PQclear(res);
		pbx_pg_rollback(pg);
		return err->code ? err->code : PBX_ERROR;
	}
	PQclear(res);
	r = pbx_pg_exec(pg, "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", 2, p,
			"migration", err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0)
		pbx_pg_rollback(pg);
	return r;
}

int pbx_db_migrate(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows, after;
	PGconn *pg;
	PGresult *res = NULL;
	int r;

	if (sodium_init() < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "libsodium failed to initialise");
	pbx_ctx_skip_schema_check(ctx);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_exec(pg, MIGRATION_LOCK, 0, NULL, "database", err)) < 0)
		return r;
	r = pbx_pg_exec(pg,
		"CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
		"checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
		0, NULL, "database", err);
	if (r < 0)
		goto cleanup;
	if (!(res = applied(pg, err))) {
		r = err->code;
		goto cleanup;
	}
	pbx_rows_init(&rows, &pbx_schema_migration);
	r = compare(res, &rows, true, err);
	pbx_rows_free(&rows);
	if (r < 0)
		goto cleanup;
	for (size_t i = 0; i < pbx_migrations_pg_count; i++) {
		if (find(res, pbx_migrations_pg[i].name) >= 0)
			continue;
		pbx_log(ctx, PBX_LOG_INFO, "applying migration %s", pbx_migrations_pg[i].name);
		if ((r = apply_one(pg, &pbx_migrations_pg[i], err)) < 0)
			goto cleanup;
	}
	PQclear(res);
	if (!(res = applied(pg, err))) {
		r = err->code;
		goto cleanup;
	}
	pbx_rows_init(&after, &pbx_schema_migration);
	if ((r = compare(res, &after, true, err)) < 0) {
		pbx_rows_free(&after);
		goto cleanup;
	}
	*ret = after;
cleanup:
	PQclear(res);
	pbx_pg_exec(pg, "SELECT pg_advisory_unlock(7242, 0)", 0, NULL, "database", NULL);
	return r;
}

int pbx_db_migrate_realtime(pbx_ctx *ctx, pbx_error *err)
{
	struct pbx_realtime *rt = pbx_ctx_realtime(ctx, err);

	if (!rt)
		return err->code;
	return pbx_realtime_migrate(rt, err);
}
