/* SPDX-License-Identifier: MIT */
/*
 * Apply jobs in PostgreSQL: the lock, creation, status transitions, recovery of jobs a
 * crashed process left behind, listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/apply.h"
#include "change.h"
#include "apply-job.h"
#include "ctx.h"
#include "pg.h"

static const struct pbx_field job_fields[] = {
	{ "id", PBX_FT_INT, PBX_FIELD_DEFAULT, "job number" },
	{ "marker", PBX_FT_STRING, 0, "the id written into the dialplan marker" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant applied, or null for all" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "PENDING, RUNNING, SUCCESS, FAILED or ROLLED_BACK" },
	{ "rollback_failed", PBX_FT_BOOL, 0, "the rollback failed too" },
	{ "actor", PBX_FT_STRING, PBX_FIELD_DEFAULT, "PostgreSQL role" },
	{ "source", PBX_FT_STRING, 0, "OS user@host" },
	PBX_JOB_TIME_FIELDS("when it was requested", "when it started writing"),
	{ "error", PBX_FT_STRING, 0, "why it failed" },
	{ "diff_summary", PBX_FT_STRING, PBX_FIELD_DEFAULT, "what changed" },
	{ "files", PBX_FT_LIST, 0, "files written" },
	{ "backup_dir", PBX_FT_STRING, 0, "where the backup is" },
	{ "reloaded", PBX_FT_BOOL, 0, "Asterisk was reloaded" },
	{ "transitions", PBX_FT_JSON, 0, "status changes with times" },
};

const struct pbx_schema pbx_schema_apply_job = STORE_SCHEMA("job", job_fields);

#define JOB_SELECT \
	"SELECT id::text AS id, marker, tenant, status, rollback_failed::text AS rollback_failed, " \
	"actor, source, " PBX_JOB_TIME_COLUMNS ", error, diff_summary, array_to_string(files, ',') AS files, backup_dir, " \
	"reloaded::text AS reloaded, transitions::text AS transitions FROM apply_jobs "

/*
 * The apply lock is a session advisory lock held by a connection of its own, which is never
 * replaced: when it drops, the server releases the lock, and an apply that reconnected
 * silently would go on writing while a second apply runs. pbx_job_lock_check notices instead.
 */
int pbx_job_lock(pbx_ctx *ctx, int wait_seconds, pbx_error *err)
{
	time_t until = time(NULL) + wait_seconds;
	int r;

	if (ctx->lock_pg)
		PBX_BUG("pbx_job_lock: the apply lock is already held");
	if ((r = pbx_pg_connect(ctx, &ctx->lock_pg, err)) < 0)
		return r;
	for (;;) {
		PGresult *res = pbx_pg_query(ctx->lock_pg,
					     "SELECT pg_try_advisory_lock(7242, 2)", 0, NULL,
					     "apply", err);
		bool got;

		if (!res) {
			pbx_job_unlock(ctx);
			return err->code;
		}
		got = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (got)
			return 0;
		if (time(NULL) >= until)
			break;
		{
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	pbx_job_unlock(ctx);
	return pbx_errorf(err, PBX_EBUSY, "apply", NULL,
			  "another apply is running; try again, or wait for it with --wait SECONDS");
}

int pbx_job_lock_check(pbx_ctx *ctx, pbx_error *err)
{
	PGresult *res = NULL;
	bool held = false;

	if (ctx->lock_pg && PQstatus(ctx->lock_pg) == CONNECTION_OK) {
		/* A round trip: a terminated backend is only noticed when the socket is used. */
		res = PQexecParams(ctx->lock_pg,
				   "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
				   "AND classid = 7242 AND objid = 2 AND objsubid = 2 AND granted "
				   "AND pid = pg_backend_pid()", 0, NULL, NULL, NULL, NULL, 0);
		held = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		       strcmp(PQgetvalue(res, 0, 0), "0") != 0;
		PQclear(res);
	}
	if (held)
		return 0;
	pbx_errorf(err, PBX_ERROR, "apply", NULL,
		   "the apply lock was lost (its PostgreSQL connection ended): another apply may run; "
		   "this one stops");
	if (ctx->lock_pg && PQstatus(ctx->lock_pg) != CONNECTION_OK)
		pbx_error_set_detail(err, "%s", PQerrorMessage(ctx->lock_pg));
	return PBX_ERROR;
}

void pbx_job_unlock(pbx_ctx *ctx)
{
	if (!ctx->lock_pg)
		return;
	/* Closing the session releases the lock; unlock first when it is still alive. */
	if (PQstatus(ctx->lock_pg) == CONNECTION_OK)
		PQclear(PQexec(ctx->lock_pg, "SELECT pg_advisory_unlock(7242, 2)"));
	PQfinish(ctx->lock_pg);
	ctx->lock_pg = NULL;
}

int pbx_job_recover(pbx_ctx *ctx, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	PGresult *res;
	int n;

	if (!pg)
		return err->code;
	res = pbx_pg_query(pg,
		"UPDATE apply_jobs SET status = 'FAILED', finished_at = now(), "
		"error = coalesce(error || '; ', '') || 'interrupted: the process running it ended', "
		"transitions = transitions || jsonb_build_array(jsonb_build_object('status', 'FAILED', "
		"'at', now(), 'note', 'interrupted')) "
		"WHERE status IN ('PENDING', 'RUNNING') RETURNING id", 0, NULL, "apply", err);
	if (!res)
		return err->code;
	n = PQntuples(res);
	PQclear(res);
	return n;
}

int pbx_job_create(pbx_ctx *ctx, const char *tenant, long *ret_id, char *marker,
		   pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	const char *p[2] = { tenant, pbx_ctx_source(ctx) };
	PGresult *res;

	if (!pg)
		return err->code;
	res = pbx_pg_query(pg,
		"WITH n AS (SELECT nextval('apply_jobs_id_seq') AS id) "
		"INSERT INTO apply_jobs (id, marker, tenant, source, transitions) "
		"SELECT id, 'job-' || id || '-' || substr(md5(random()::text || clock_timestamp()::text), 1, 6), "
		"$1, $2, jsonb_build_array(jsonb_build_object('status', 'PENDING', 'at', now())) FROM n "
		"RETURNING id, marker", 2, p, "apply", err);
	if (!res)
		return err->code;
	*ret_id = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(marker, 72, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int pbx_job_update(pbx_ctx *ctx, long id, const char *status, const char *error,
		   const char *summary, const char *files_json, const char *backup_dir,
		   bool reloaded, bool rollback_failed, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	char sid[24];
	const char *p[8] = { sid, status, error, summary, files_json, backup_dir,
			     reloaded ? "true" : "false", rollback_failed ? "true" : "false" };

	if (!pg)
		return err->code;
	snprintf(sid, sizeof(sid), "%ld", id);
	return pbx_pg_exec(pg,
		"UPDATE apply_jobs SET status = coalesce($2, status), error = coalesce($3, error), "
		"diff_summary = coalesce($4, diff_summary), "
		"files = CASE WHEN $5::text IS NULL THEN files ELSE "
		"ARRAY(SELECT jsonb_array_elements_text($5::jsonb)) END, "
		"backup_dir = coalesce($6, backup_dir), reloaded = reloaded OR $7::boolean, "
		"rollback_failed = rollback_failed OR $8::boolean, "
		"started_at = CASE WHEN $2 = 'RUNNING' THEN now() ELSE started_at END, "
		"finished_at = CASE WHEN $2 IN ('SUCCESS', 'FAILED', 'ROLLED_BACK') THEN now() "
		"ELSE finished_at END, "
		"transitions = CASE WHEN $2::text IS NULL OR $2 = status THEN transitions ELSE "
		"transitions || jsonb_build_array(jsonb_build_object('status', $2::text, 'at', now())) END "
		"WHERE id = $1::bigint", 8, p, "apply job", err);
}

static int fill(PGresult *res, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;
	int r;

	pbx_rows_init(&rows, &pbx_schema_apply_job);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

static const struct pbx_field job_backup_fields[] = {
	{ "marker", PBX_FT_STRING, 0, "" },
	{ "tenant", PBX_FT_STRING, 0, "" },
	{ "status", PBX_FT_STRING, 0, "" },
	{ "needed", PBX_FT_BOOL, 0, "" },
};

static const struct pbx_schema job_backup_schema = STORE_SCHEMA("job_backup", job_backup_fields);

int pbx_job_backups(pbx_ctx *ctx, const char *markers, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { markers };
	PGconn *pg = pbx_ctx_pg(ctx, err);

	if (!pg)
		return err->code;
	/* A failed job's backup is what a repair restores, until a later apply over the same
	 * scope succeeded. */
	return pbx_pg_select(pg,
		"SELECT j.marker, j.tenant, j.status, (j.status IN ('PENDING', 'RUNNING') OR "
		"(j.status = 'FAILED' AND NOT EXISTS (SELECT 1 FROM apply_jobs k WHERE k.id > j.id "
		"AND k.status = 'SUCCESS' AND (k.tenant IS NULL OR k.tenant = j.tenant))))::text AS needed "
		"FROM apply_jobs j WHERE j.marker = ANY($1::text[])", 1, p, "apply job",
		&job_backup_schema, ret, err);
}

int pbx_job_load(pbx_ctx *ctx, long id, struct pbx_rows *ret, pbx_error *err)
{
	char sid[24];
	const char *p[1] = { sid };
	PGconn *pg = pbx_ctx_pg(ctx, err);
	PGresult *res;

	if (!pg)
		return err->code;
	snprintf(sid, sizeof(sid), "%ld", id);
	if (!(res = pbx_pg_query(pg, JOB_SELECT "WHERE id = $1::bigint", 1, p, "apply job", err)))
		return err->code;
	return fill(res, ret, err);
}

int pbx_job_list(pbx_ctx *ctx, const char *sql, int n_params, const char *object,
		 const char *const *statuses, const char *status, const char *extra, long limit,
		 const struct pbx_schema *schema, struct pbx_rows *ret, pbx_error *err)
{
	char lim[24], allowed[160] = "";
	const char *p[3] = { status, lim, extra };
	bool known = !status;
	size_t n = 0;
	PGconn *pg;

	for (; statuses[n]; n++)
		known = known || !strcmp(status, statuses[n]);
	if (!known) {
		for (size_t i = 0; i < n; i++)
			snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
				 i == 0 ? "" : i + 1 == n ? " or " : ", ", statuses[i]);
		return pbx_errorf(err, PBX_EINVALID, object, "status", "status must be %s", allowed);
	}
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 50);
	return pbx_pg_select(pg, sql, n_params, p, object, schema, ret, err);
}

int pbx_apply_jobs(pbx_ctx *ctx, const char *status, const char *tenant, long limit,
		   struct pbx_rows *ret, pbx_error *err)
{
	static const char *const statuses[] = { "PENDING", "RUNNING", "SUCCESS", "FAILED",
						"ROLLED_BACK", NULL };

	return pbx_job_list(ctx, JOB_SELECT "WHERE ($1::text IS NULL OR status = $1) "
			    "AND ($3::text IS NULL OR tenant = $3) ORDER BY apply_jobs.id DESC "
			    "LIMIT $2::int", 3, "apply job", statuses, status, tenant, limit,
			    &pbx_schema_apply_job, ret, err);
}

int pbx_apply_job_show(pbx_ctx *ctx, const char *job, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { job };
	PGconn *pg = pbx_ctx_pg(ctx, err);
	PGresult *res;

	if (!pg)
		return err->code;
	res = pbx_pg_query(pg, JOB_SELECT "WHERE id::text = $1 OR marker = $1", 1, p, "apply job",
			   err);
	if (!res)
		return err->code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "apply job %s does not exist", job);
	}
	return fill(res, ret, err);
}
