/* SPDX-License-Identifier: MIT */
/*
 * The apply queue in PostgreSQL (table apply_requests, migration 0008b): queueing a request
 * with NOTIFY, waiting for its result through LISTEN, and the worker's side: the
 * one-worker lock, claiming the next request, recording results, and marking requests a
 * dead worker left running.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/apply-queue.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"
#include "apply-queue.h"
#include "apply-job.h"

static const struct pbx_field request_fields[] = {
	{ "id", PBX_FT_INT, PBX_FIELD_DEFAULT, "request number" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant to apply, or null for all" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "queued, running, done or failed" },
	{ "requested_by", PBX_FT_STRING, PBX_FIELD_DEFAULT, "PostgreSQL role that asked" },
	{ "source", PBX_FT_STRING, 0, "OS user@host that asked" },
	{ "worker", PBX_FT_STRING, 0, "OS user@host of the worker that ran it" },
	{ "job", PBX_FT_INT, PBX_FIELD_DEFAULT, "the apply job it ran (pbxctl apply show JOB)" },
	{ "repair_of", PBX_FT_INT, 0, "the interrupted request this one repairs" },
	{ "code", PBX_FT_STRING, PBX_FIELD_DEFAULT, "outcome: ok, invalid, busy, rolled_back, ..." },
	{ "changed", PBX_FT_BOOL, 0, "something was written" },
	{ "summary", PBX_FT_STRING, 0, "what changed" },
	{ "error", PBX_FT_STRING, 0, "why it failed" },
	PBX_JOB_TIME_FIELDS("when it was queued", "when a worker took it"),
};

const struct pbx_schema pbx_schema_apply_request = STORE_SCHEMA("request", request_fields);

#define REQUEST_SELECT \
	"SELECT id::text AS id, tenant, status, requested_by, source, worker, job_id::text AS job, " \
	"repair_of::text AS repair_of, result->>'code_name' AS code, " \
	"(result->'changed')::text AS changed, result->>'summary' AS summary, " \
	"result->>'message' AS error, " PBX_JOB_TIME_COLUMNS " FROM apply_requests "

int pbx_queue_role(PGconn *pg, char *buf, size_t n, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, "SELECT pbx_apply_requester_role()", 0, NULL, "apply",
				     err);

	if (!res)
		return err->code;
	snprintf(buf, n, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * Under the operators contract a tenant admin applies its own tenant only (the default
 * when it names none), and support and end users apply nothing; row-level security on
 * apply_requests is the server's half of the same rule.
 */
static int requester_scope(PGconn *pg, const char **tenant, char *own, size_t n,
			   pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, "SELECT coalesce(pbx_apply_requester_role(), ''), "
				     "coalesce(pbx_apply_requester_tenant(), '')", 0, NULL, "apply",
				     err);
	int r = 0;

	if (!res)
		return err->code;
	snprintf(own, n, "%s", PQgetvalue(res, 0, 1));
	if (!strcmp(PQgetvalue(res, 0, 0), "support") || !strcmp(PQgetvalue(res, 0, 0), "end_user"))
		r = pbx_errorf(err, PBX_EPERM, "apply", NULL, "role %s may not apply",
			       PQgetvalue(res, 0, 0));
	else if (!strcmp(PQgetvalue(res, 0, 0), "tenant_admin") && !*tenant)
		*tenant = own;
	else if (!strcmp(PQgetvalue(res, 0, 0), "tenant_admin") && strcmp(*tenant, own) != 0)
		r = pbx_errorf(err, PBX_EPERM, "apply", "tenant",
			       "a tenant admin of %s may apply only %s, not %s", own, own, *tenant);
	PQclear(res);
	return r;
}

int pbx_queue_insert(pbx_ctx *ctx, PGconn *pg, const char *tenant, long *ret_id, pbx_error *err)
{
	const char *p[2] = { tenant, pbx_ctx_source(ctx) };
	char own[64];
	PGresult *res;

	if (requester_scope(pg, &tenant, own, sizeof(own), err) < 0)
		return err->code;
	p[0] = tenant;

	/* LISTEN first, so the worker's answer cannot come before we listen. */
	if (pbx_pg_exec(pg, "LISTEN pbxctl_apply_request", 0, NULL, "apply", err) < 0)
		return err->code;
	res = pbx_pg_query(pg,
		"WITH t AS (SELECT id, slug FROM tenants WHERE slug = $1), "
		"ins AS (INSERT INTO apply_requests (tenant_id, tenant, source) "
		"SELECT t.id, t.slug, $2 FROM (SELECT 1) one LEFT JOIN t ON true "
		"WHERE $1::text IS NULL OR t.id IS NOT NULL RETURNING id) "
		"SELECT id, pg_notify('pbxctl_apply_queue', id::text) FROM ins", 2, p, "apply", err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	*ret_id = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int pbx_apply_request_show(pbx_ctx *ctx, const char *id, struct pbx_rows *ret, pbx_error *err)
{
	const char *p[1] = { id };
	PGconn *pg = pbx_ctx_pg(ctx, err);
	struct pbx_rows rows;
	int r;

	if (!pg)
		return err->code;
	r = pbx_pg_select(pg, REQUEST_SELECT "WHERE id::text = $1", 1, p, "apply request",
			  &pbx_schema_apply_request, &rows, err);
	if (r < 0)
		return r;
	if (rows.n_rows != 1) {
		pbx_rows_free(&rows);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "apply request %.40s does not exist",
				  id);
	}
	*ret = rows;
	return 0;
}

int pbx_apply_requests(pbx_ctx *ctx, const char *status, long limit, struct pbx_rows *ret,
		       pbx_error *err)
{
	static const char *const statuses[] = { "queued", "running", "done", "failed", NULL };

	return pbx_job_list(ctx, REQUEST_SELECT "WHERE $1::text IS NULL OR status = $1 "
			    "ORDER BY id DESC LIMIT $2::int", 2, "apply request", statuses, status,
			    NULL, limit, &pbx_schema_apply_request, ret, err);
}

/* Wait up to @ms for a notification on @pg; drains them. 0, or PBX_EUNAVAILABLE. */
int pbx_queue_sleep(PGconn *pg, int ms, pbx_error *err)
{
	struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN };
	PGnotify *n;

	if (pfd.fd < 0 || (poll(&pfd, 1, ms) < 0 && errno != EINTR) || !PQconsumeInput(pg))
		return pbx_errorf(err, PBX_EUNAVAILABLE, "apply", NULL,
				  "lost the PostgreSQL connection while waiting");
	while ((n = PQnotifies(pg)))
		PQfreemem(n);
	return 0;
}

int pbx_queue_outcome(PGconn *pg, long id, char *status, size_t n, pbx_error *apply_err,
		      pbx_error *err)
{
	char sid[24];
	const char *p[1] = { sid };
	PGresult *res;

	snprintf(sid, sizeof(sid), "%ld", id);
	res = pbx_pg_query(pg, "SELECT status, (result->>'code')::int, result->>'object', "
			   "result->>'field', result->>'message', result->>'hint' "
			   "FROM apply_requests WHERE id = $1::bigint", 1, p, "apply request", err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "apply request %ld does not exist",
				  id);
	}
	snprintf(status, n, "%s", PQgetvalue(res, 0, 0));
	*apply_err = (pbx_error)PBX_ERROR_INIT;
	if (!PQgetisnull(res, 0, 1) && atoi(PQgetvalue(res, 0, 1)) < 0) {
		pbx_errorf(apply_err, atoi(PQgetvalue(res, 0, 1)), PQgetvalue(res, 0, 2),
			   PQgetvalue(res, 0, 3), "%s", PQgetvalue(res, 0, 4));
		if (*PQgetvalue(res, 0, 5))
			pbx_error_set_hint(apply_err, "%s", PQgetvalue(res, 0, 5));
	}
	PQclear(res);
	return 0;
}

int pbx_queue_worker_lock(PGconn *pg, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, "SELECT pg_try_advisory_lock(7242, 3)", 0, NULL,
				     "apply worker", err);
	bool got;

	if (!res)
		return err->code;
	got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!got)
		return pbx_errorf(err, PBX_EBUSY, "apply worker", NULL,
				  "another apply worker is running; one runs the queue at a time");
	return pbx_pg_exec(pg, "LISTEN pbxctl_apply_queue", 0, NULL, "apply worker", err);
}

int pbx_queue_repair(PGconn *pg, const char *worker, pbx_error *err)
{
	const char *p[1] = { worker };
	PGresult *res;
	int n;

	/* The caller holds the worker lock: nobody runs these any more. */
	res = pbx_pg_query(pg,
		"WITH dead AS (UPDATE apply_requests SET status = 'failed', finished_at = now(), "
		"result = jsonb_build_object('code', -1, 'code_name', 'error', 'object', 'apply', "
		"'message', 'interrupted: the worker running it ended; a repair request follows') "
		"WHERE status = 'running' RETURNING id, tenant_id, tenant, requested_by), "
		"rep AS (INSERT INTO apply_requests (tenant_id, tenant, requested_by, source, repair_of) "
		"SELECT tenant_id, tenant, requested_by, $1, id FROM dead RETURNING repair_of) "
		"SELECT repair_of, pg_notify('pbxctl_apply_request', repair_of::text) FROM rep",
		1, p, "apply worker", err);
	if (!res)
		return err->code;
	n = PQntuples(res);
	PQclear(res);
	return n;
}

int pbx_queue_claim(PGconn *pg, const char *worker, long *ret_id, char **ret_tenant,
		    pbx_error *err)
{
	const char *p[1] = { worker };
	PGresult *res = pbx_pg_query(pg,
		"UPDATE apply_requests SET status = 'running', started_at = now(), worker = $1 "
		"WHERE id = (SELECT id FROM apply_requests WHERE status = 'queued' "
		"ORDER BY repair_of IS NULL, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		"RETURNING id, tenant, pg_notify('pbxctl_apply_request', id::text)", 1, p,
		"apply worker", err);

	if (!res)
		return err->code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	*ret_id = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	*ret_tenant = PQgetisnull(res, 0, 1) ? NULL : strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 1;
}

int pbx_queue_finish(PGconn *pg, long id, const char *job, int code, const pbx_error *e,
		     bool changed, const char *summary, pbx_error *err)
{
	char sid[24], scode[16];
	const char *p[10] = { sid, job, scode, pbx_code_name(code), code ? e->object : NULL,
			      code ? e->field : NULL, code ? e->message : NULL,
			      code && e->hint[0] ? e->hint : NULL, changed ? "true" : "false",
			      summary };

	snprintf(sid, sizeof(sid), "%ld", id);
	snprintf(scode, sizeof(scode), "%d", code);
	return pbx_pg_exec(pg,
		"WITH u AS (UPDATE apply_requests SET status = CASE WHEN $3::int = 0 THEN 'done' "
		"ELSE 'failed' END, finished_at = now(), job_id = $2::bigint, "
		"result = jsonb_strip_nulls(jsonb_build_object('code', $3::int, 'code_name', $4::text, "
		"'object', nullif($5::text, ''), 'field', nullif($6::text, ''), 'message', $7::text, "
		"'hint', $8::text, 'changed', $9::boolean, 'summary', $10::text)) "
		"WHERE id = $1::bigint RETURNING id) "
		"SELECT pg_notify('pbxctl_apply_request', id::text) FROM u", 10, p, "apply worker", err);
}
