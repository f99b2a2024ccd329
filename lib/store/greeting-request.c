/* SPDX-License-Identifier: MIT */
/*
 * An end user's own voicemail greeting (migration 0017_c), both ends. The end user's side
 * (`pbxctl me voicemail greeting FILE | --delete`) checks and converts the file exactly as
 * `user greeting set` does (pbx_greeting_load: every bad kind refused before anything is
 * filed) and files the 8 kHz samples; the privileged apply worker (pbx_greeting_request_run)
 * writes them into the voicemail spool with pbx_greeting_write, or removes the greeting,
 * audited with the end user's login as actor. The end user needs no right on the spool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/greeting.h"
#include "pbx/selfservice.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field request_fields[] = {
	{ "request", PBX_FT_INT, PBX_FIELD_DEFAULT, "id of the greeting request" },
	{ "action", PBX_FT_STRING, PBX_FIELD_DEFAULT, "set or delete" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "queued, done, refused, superseded or failed" },
	{ "reason", PBX_FT_STRING, PBX_FIELD_DEFAULT, "why it was refused or failed" },
};

const struct pbx_schema pbx_schema_greeting_request = {
	.name = "greeting_request",
	.fields = request_fields,
	.n_fields = sizeof(request_fields) / sizeof(request_fields[0]),
};

/* "\x" and the samples as little-endian 16-bit hex: a bytea literal (malloc'd). */
static char *pcm_hex(const struct pbx_greeting_audio *a)
{
	static const char hex[] = "0123456789abcdef";
	char *s = malloc(a->frames * 4 + 3), *p = s;

	if (!s)
		return NULL;
	*p++ = '\\';
	*p++ = 'x';
	for (size_t i = 0; i < a->frames; i++) {
		unsigned v = (unsigned short)a->pcm[i];

		*p++ = hex[(v >> 4) & 15];
		*p++ = hex[v & 15];
		*p++ = hex[(v >> 12) & 15];
		*p++ = hex[(v >> 8) & 15];
	}
	*p = '\0';
	return s;
}

int pbx_me_greeting(pbx_ctx *ctx, const char *path, int wait_ms, struct pbx_operator *op,
		    struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_greeting_audio a = { .pcm = NULL };
	const char *p[2];
	char *pcm = NULL, id[24];
	PGresult *res;
	PGconn *pg;
	int r;

	if ((r = pbx_me_whoami(ctx, op, err)) < 0)
		return r;
	if (path && (r = pbx_greeting_load(path, "me", &a, err)) < 0)
		return r;
	if (path && !(pcm = pcm_hex(&a))) {
		pbx_greeting_audio_free(&a);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	pbx_greeting_audio_free(&a);
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		free(pcm);
		return err->code;
	}
	p[0] = path ? "set" : "delete";
	p[1] = pcm;
	res = pbx_pg_query(pg, "SELECT pbx_me_request_greeting($1, $2::bytea)::text", 2, p, "me", err);
	free(pcm);
	if (!res)
		return err->code;
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return me_wait_request(pg, "SELECT id::text AS request, action, status, reason FROM "
			       "greeting_requests WHERE id = $1::bigint", id, wait_ms,
			       &pbx_schema_greeting_request, "greeting", ret, err);
}

/* Samples from a bytea in PostgreSQL's hex output. */
static int pcm_from(const char *text, struct pbx_greeting_audio *a)
{
	size_t n = 0;
	unsigned char *bin = PQunescapeBytea((const unsigned char *)text, &n);

	if (!bin || n < 2 || !(a->pcm = malloc(n / 2 * sizeof(short)))) {
		PQfreemem(bin);
		return -1;
	}
	for (size_t i = 0; i < n / 2; i++)
		a->pcm[i] = (short)(unsigned short)(bin[2 * i] | bin[2 * i + 1] << 8);
	a->frames = n / 2;
	a->format = "wav";
	PQfreemem(bin);
	return 0;
}

/* Store or remove the greeting of request row 0 of @res; the reason of a failure in @why. */
static const char *settle(pbx_ctx *ctx, const PGresult *res, char *why, size_t n)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_greeting_audio a = { .pcm = NULL };
	pbx_error e = PBX_ERROR_INIT;
	char dir[4096], file[4200];

	/* slug and extension are validated identifiers: no path can escape the spool. */
	snprintf(dir, sizeof(dir), "%s/%s/%s", cfg->voicemail_spool, PQgetvalue(res, 0, 3),
		 PQgetvalue(res, 0, 4));
	if (PQgetvalue(res, 0, 5)[0] != 't') {
		snprintf(why, n, "the user has no voicemail box any more");
		return "refused";
	}
	if (!strcmp(PQgetvalue(res, 0, 1), "delete")) {
		snprintf(file, sizeof(file), "%s/" PBX_GREETING_FILE, dir);
		if (unlink(file) < 0 && errno != ENOENT) {
			snprintf(why, n, "cannot remove %.300s: %.100s", file, strerror(errno));
			return "failed";
		}
		return "done";
	}
	if (pcm_from(PQgetvalue(res, 0, 2), &a) < 0) {
		snprintf(why, n, "the samples cannot be read");
		return "failed";
	}
	if (pbx_greeting_write(dir, cfg->voicemail_owner, &a, &e) < 0) {
		snprintf(why, n, "%.400s", e.message);
		pbx_greeting_audio_free(&a);
		return "failed";
	}
	pbx_greeting_audio_free(&a);
	return "done";
}

/* Settle the oldest queued request: 1, 0 when none is left, or an error. */
static int run_one(pbx_ctx *ctx, PGconn *pg, pbx_error *err)
{
	char why[PBX_ERR_MESSAGE] = "", after[96];
	const char *status, *p[5];
	PGresult *res;
	int r;

	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	res = pbx_pg_query(pg, "SELECT r.id::text, r.action, r.pcm, t.slug, u.extension::text, "
			   "(u.voicemail AND u.status <> 'deleted')::text, r.requested_by, "
			   "u.id::text, coalesce(octet_length(r.pcm) / 16, 0)::text "
			   "FROM greeting_requests r JOIN users u ON u.id = r.user_id "
			   "JOIN tenants t ON t.id = r.tenant_id WHERE r.status = 'queued' "
			   "ORDER BY r.id LIMIT 1 FOR UPDATE OF r SKIP LOCKED", 0, NULL,
			   "greeting request", err);
	if (!res) {
		pbx_pg_rollback(pg);
		return err->code;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pbx_pg_commit(pg, err);
	}
	status = settle(ctx, res, why, sizeof(why));
	p[0] = PQgetvalue(res, 0, 0);
	p[1] = status;
	p[2] = why[0] ? why : NULL;
	r = pbx_pg_exec(pg, "UPDATE greeting_requests SET status = $2, reason = $3, pcm = NULL, "
			"finished_at = now() WHERE id = $1::bigint", 3, p, "greeting request", err);
	if (r == 0 && !strcmp(status, "done")) {
		bool set = !strcmp(PQgetvalue(res, 0, 1), "set");

		snprintf(after, sizeof(after), set ? "{\"greeting\": {\"format\": \"wav\", "
			 "\"duration_ms\": %s}}" : "{\"greeting\": null}", PQgetvalue(res, 0, 8));
		p[0] = PQgetvalue(res, 0, 6);
		p[1] = PQgetvalue(res, 0, 3);
		p[2] = set ? "greeting" : "greeting-delete";
		p[3] = PQgetvalue(res, 0, 7);
		p[4] = after;
		r = pbx_pg_exec(pg, "SELECT audit_append_as($1, 'self-service', $2, $3, 'user', $4, "
				"NULL, $5::jsonb)", 5, p, "audit log", err);
	}
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0)
		pbx_pg_rollback(pg);
	else
		pbx_log(ctx, PBX_LOG_INFO, "greeting request %s of %s/%s: %s%s%s",
			PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), status,
			why[0] ? ": " : "", why);
	PQclear(res);
	return r < 0 ? r : 1;
}

int pbx_greeting_request_run(pbx_ctx *ctx, pbx_error *err)
{
	return me_run_requests(ctx, run_one, err);
}
