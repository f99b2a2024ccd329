/* SPDX-License-Identifier: MIT */
/*
 * An end user's own voicemail PIN change (migration 0017_b), both ends. The end user
 * (`pbxctl me voicemail pin`) seals "current\nnew" to the published sealing key and files
 * it with pbx_me_request_pin_change, then waits a few seconds for the verdict. The
 * privileged apply worker (pbx_pin_change_run) opens it with the private key, verifies the
 * current PIN against the argon2id hash, and sets the new one exactly as `user update
 * --pin` does (argon2id hash, sealed dialplan verifier, AstDB), audited with the end user's
 * login as actor; or refuses. The PINs never reach PostgreSQL in the open, the end user
 * never reads the hash, and a wrong current PIN counts towards the rate limit of 0017_b.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field pin_change_fields[] = {
	{ "request", PBX_FT_INT, PBX_FIELD_DEFAULT, "id of the PIN change request" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "queued, done, refused, superseded or failed" },
	{ "reason", PBX_FT_STRING, PBX_FIELD_DEFAULT, "why it was refused or failed" },
};

const struct pbx_schema pbx_schema_pin_change = {
	.name = "pin_change",
	.fields = pin_change_fields,
	.n_fields = sizeof(pin_change_fields) / sizeof(pin_change_fields[0]),
};

/* ---- the end user's side ----------------------------------------------------------- */

/* Current and new PIN as digits, the new one by the PIN rules; nothing sealed otherwise. */
static int check_pins(const char *current, const char *new_pin, pbx_error *err)
{
	size_t n = current ? strlen(current) : 0;

	if (n < 1 || n > PBX_SECRET_PIN_MAX || strspn(current, "0123456789") != n)
		return pbx_errorf(err, PBX_EINVALID, "me", "current_pin",
				  "the current pin must be 1 to %d digits", PBX_SECRET_PIN_MAX);
	if (pbx_secret_pin_check(new_pin, NULL, err) < 0) {
		snprintf(err->object, sizeof(err->object), "me");
		return PBX_EINVALID;
	}
	if (!strcmp(current, new_pin))
		return pbx_errorf(err, PBX_EINVALID, "me", "pin",
				  "the new pin must differ from the current one");
	return 0;
}

static int file_request(pbx_ctx *ctx, PGconn *pg, const char *current, const char *new_pin,
			char id[24], pbx_error *err)
{
	char plain[2 * PBX_SECRET_PIN_MAX + 2], *sealed = NULL;
	pbx_secret_key *key = pbx_ctx_seal_key(ctx, err);
	PGresult *res;
	int r;

	if (!key)
		return err->code;
	snprintf(plain, sizeof(plain), "%s\n%s", current, new_pin);
	r = pbx_secret_seal(key, plain, &sealed, err);
	pbx_secret_wipe(plain, sizeof(plain));
	if (r < 0)
		return r;
	res = pbx_pg_query(pg, "SELECT pbx_me_request_pin_change($1)::text", 1,
			   (const char *const *)&sealed, "me", err);
	free(sealed);
	if (!res) {
		if (!strcmp(err->sqlstate, "PBX10") || !strcmp(err->sqlstate, "22023")) {
			char m[PBX_ERR_DETAIL], *nl;
			const char *p = err->detail;

			p += !strncmp(p, "ERROR:", 6) ? 6 : 0;
			snprintf(m, sizeof(m), "%s", p + strspn(p, " "));
			if ((nl = strstr(m, " (SQLSTATE")))
				*nl = '\0';
			return pbx_errorf(err, err->sqlstate[0] == 'P' ? PBX_EBUSY : PBX_EINVALID,
					  "me", "pin", "pin: %s", m);
		}
		return err->code;
	}
	snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int pbx_me_change_pin(pbx_ctx *ctx, const char *current, const char *new_pin, int wait_ms,
		      struct pbx_operator *op, struct pbx_rows *ret, pbx_error *err)
{
	char id[24];
	PGconn *pg;
	int r;

	if ((r = pbx_me_whoami(ctx, op, err)) < 0 || (r = check_pins(current, new_pin, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = file_request(ctx, pg, current, new_pin, id, err)) < 0)
		return r;
	return me_wait_request(pg, "SELECT id::text AS request, status, reason FROM "
			       "pin_change_requests WHERE id = $1::bigint", id, wait_ms,
			       &pbx_schema_pin_change, "pin", ret, err);
}

/* ---- the privileged side (apply worker) -------------------------------------------- */

struct pin_req {
	const char *id, *sealed, *login, *user_id, *username, *ext, *slug, *hash;
	bool allowed;
};

/* The verdict on @q: 0 with *@status "done" (and the new hash and sealed verifier
 * written), or a refusal / failure in @status, @reason, *@wrong. */
static int decide(pbx_ctx *ctx, PGconn *pg, const struct pin_req *q, const char **status,
		  char *reason, size_t n, bool *wrong, pbx_error *err)
{
	char *plain = NULL, *nl, hash[PBX_SECRET_HASH_BUFSZ], *verifier = NULL;
	pbx_error e = PBX_ERROR_INIT;
	const char *p[3];
	int r;

	*status = "refused";
	*wrong = false;
	if (!q->allowed) {
		snprintf(reason, n, "too many wrong current PINs; try again in 15 minutes");
		return 0;
	}
	if (!*q->hash) {
		snprintf(reason, n, "no voicemail PIN is set yet; an admin sets the first one");
		return 0;
	}
	if (pbx_ctx_open_secret(ctx, q->sealed, &plain, &e) < 0 || !(nl = strchr(plain, '\n'))) {
		*status = "failed";
		snprintf(reason, n, "the request cannot be opened: %.300s",
			 e.code ? e.message : "not a PIN change");
		pbx_secret_free_str(plain);
		return 0;
	}
	*nl++ = '\0';
	if ((r = pbx_secret_pin_verify(q->hash, plain, &e)) == PBX_EPERM) {
		*wrong = true;
		snprintf(reason, n, "the current PIN is wrong");
	} else if (r < 0) {
		*status = "failed";
		snprintf(reason, n, "%.400s", e.message);
	} else if (pbx_secret_pin_check(nl, q->ext, &e) < 0) {
		snprintf(reason, n, "%.400s", e.message);
	} else if ((r = pbx_secret_pin_hash(nl, hash, sizeof(hash), err)) < 0 ||
		   (r = pbx_user_seal_verifier(ctx, nl, &verifier, err)) < 0) {
		pbx_secret_free_str(plain);
		return r;
	} else {
		p[0] = q->user_id;
		p[1] = hash;
		p[2] = verifier;
		r = pbx_pg_exec(pg, "UPDATE users SET pin_hash = $2, vm_pin_verifier_sealed = $3, "
				"updated_at = now() WHERE id = $1::bigint", 3, p, "user", err);
		free(verifier);
		pbx_secret_wipe(hash, sizeof(hash));
		if (r < 0) {
			pbx_secret_free_str(plain);
			return r;
		}
		*status = "done";
		reason[0] = '\0';
	}
	pbx_secret_free_str(plain);
	return 0;
}

/* Take the oldest queued request and settle it; 1 handled, 0 none left, or an error. */
static int run_one(pbx_ctx *ctx, PGconn *pg, pbx_error *err)
{
	char reason[PBX_ERR_MESSAGE], user[96], slug[32];
	const char *status, *p[6];
	struct pin_req q;
	PGresult *res;
	bool wrong, done;
	int r;

	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	res = pbx_pg_query(pg, "SELECT r.id::text, r.sealed, r.requested_by, u.id::text, "
			   "u.username, u.extension::text, t.slug, coalesce(u.pin_hash, ''), "
			   "pbx_pin_change_allowed(u.id) FROM pin_change_requests r "
			   "JOIN users u ON u.id = r.user_id JOIN tenants t ON t.id = r.tenant_id "
			   "WHERE r.status = 'queued' ORDER BY r.id LIMIT 1 "
			   "FOR UPDATE OF r, u SKIP LOCKED", 0, NULL, "pin change", err);
	if (!res) {
		pbx_pg_rollback(pg);
		return err->code;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pbx_pg_commit(pg, err);
	}
	q = (struct pin_req){ .id = PQgetvalue(res, 0, 0), .sealed = PQgetvalue(res, 0, 1),
			      .login = PQgetvalue(res, 0, 2), .user_id = PQgetvalue(res, 0, 3),
			      .username = PQgetvalue(res, 0, 4), .ext = PQgetvalue(res, 0, 5),
			      .slug = PQgetvalue(res, 0, 6), .hash = PQgetvalue(res, 0, 7),
			      .allowed = PQgetvalue(res, 0, 8)[0] == 't' };
	r = decide(ctx, pg, &q, &status, reason, sizeof(reason), &wrong, err);
	p[0] = q.id;
	p[1] = status;
	p[2] = wrong ? "true" : "false";
	p[3] = reason[0] ? reason : NULL;
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE pin_change_requests SET status = $2, wrong_pin = $3::boolean, "
				"reason = $4, sealed = NULL, finished_at = now() WHERE id = $1::bigint",
				4, p, "pin change", err);
	if (r == 0 && !strcmp(status, "done")) {
		p[0] = q.login;
		p[1] = q.slug;
		p[2] = q.user_id;
		r = pbx_pg_exec(pg, "SELECT audit_append_as($1, 'self-service', $2, 'update', 'user', "
				"$3, '{\"pin\": \"********\"}'::jsonb, "
				"'{\"pin\": \"******** (changed)\"}'::jsonb)", 3, p, "audit log", err);
	}
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0) {
		pbx_pg_rollback(pg);
		PQclear(res);
		return r;
	}
	pbx_log(ctx, PBX_LOG_INFO, "PIN change %s of %s/%s: %s%s%s", q.id, q.slug, q.username,
		status, reason[0] ? ": " : "", reason);
	snprintf(slug, sizeof(slug), "%s", q.slug);
	snprintf(user, sizeof(user), "%s", q.username);
	done = !strcmp(status, "done");
	PQclear(res);
	if (done) {
		pbx_error e = PBX_ERROR_INIT;

		/* Logs its own warning; the next apply writes AstDB otherwise. */
		pbx_selfservice_push(ctx, slug, user, &e);
	}
	return 1;
}

int pbx_pin_change_run(pbx_ctx *ctx, pbx_error *err)
{
	return me_run_requests(ctx, run_one, err);
}
