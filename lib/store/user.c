/* SPDX-License-Identifier: MIT */
/*
 * Users in PostgreSQL: the field rules, and create with extension allocation under a row
 * lock on the tenant. The create and its audit row share one transaction; the PIN is hashed
 * before the transaction starts so that the tenant's lock is held only for a few
 * statements. A plain create (no PIN, nothing taken) is one statement sent with its BEGIN
 * and COMMIT (user-query.c); the steps here handle every other case and report every
 * refusal. Changes to an existing user are in user-update.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "pbx/user.h"
#include "pbx/valid.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

int pbx_user_check_username(const char *object, const char *username, pbx_error *err)
{
	if (!pbx_valid_username(username))
		return pbx_errorf(err, PBX_EINVALID, object, "username",
				  "username \"%s\" must match [a-z][a-z0-9._-]{0,31}",
				  username ? username : "");
	return 0;
}

int pbx_user_check_callerid(const char *object, const char *callerid, pbx_error *err)
{
	size_t n = callerid ? strlen(callerid) : 0;

	/* What the dialplan can set (pbx_valid_callerid): one digit used to pass here and fail
	 * every apply of the tenant. */
	if (pbx_valid_e164(callerid) || (n >= 2 && n <= 20 && strspn(callerid, "0123456789") == n))
		return 0;
	return pbx_errorf(err, PBX_EINVALID, object, "outbound_callerid",
			  "caller ID \"%.24s\" must be +E164 or 2 to 20 digits", callerid ? callerid : "");
}

/* The checks that need no database. */
int pbx_user_check_spec(const char *object, const struct pbx_user_spec *s, bool create,
			pbx_error *err)
{
	int r;

	if (create && !s->username)
		return pbx_errorf(err, PBX_EINVALID, object, "username", "a username is required");
	if (s->username && (r = pbx_user_check_username(object, s->username, err)) < 0)
		return r;
	if (s->name && !pbx_valid_text(s->name, 128))
		return pbx_errorf(err, PBX_EINVALID, object, "name",
				  "name must be 1 to 128 characters without control characters");
	if (s->email && (create || *s->email) && !pbx_valid_email(s->email))
		return pbx_errorf(err, PBX_EINVALID, object, "email",
				  "email \"%s\" is not an address like name@example.com", s->email);
	if (s->extension && !pbx_valid_extension(s->extension))
		return pbx_errorf(err, PBX_EINVALID, object, "extension",
				  "extension \"%s\" must be 2 to 8 digits without a leading zero",
				  s->extension);
	if (s->outbound_callerid && (create || *s->outbound_callerid) &&
	    (r = pbx_user_check_callerid(object, s->outbound_callerid, err)) < 0)
		return r;
	if (s->forward_to && (create || *s->forward_to) && !pbx_valid_e164(s->forward_to) &&
	    !pbx_valid_extension(s->forward_to) &&
	    (create || pbx_policy_check_number(object, s->forward_to, err) < 0))
		return pbx_errorf(err, PBX_EINVALID, object, "forward_to",
				  "forward destination \"%s\" must be an extension of the tenant or +E164%s",
				  s->forward_to, create ? "" : " (or a number the outbound policy allows)");
	return 0;
}

int pbx_user_check_range(const char *object, const struct pbx_tenant_ref *t, const char *ext,
			 pbx_error *err)
{
	long e = strtol(ext, NULL, 10);

	if (e < t->ext_min || e > t->ext_max)
		return pbx_errorf(err, PBX_EINVALID, object, "extension",
				  "extension %s is outside %s's range %ld-%ld", ext, t->slug,
				  t->ext_min, t->ext_max);
	return 0;
}

/* A forward to an extension must stay inside the tenant and not point back at the user. */
int pbx_user_check_forward(const char *object, const struct pbx_tenant_ref *t, const char *fwd,
			   const char *ext, pbx_error *err)
{
	long f;

	if (!fwd || !*fwd || fwd[0] == '+')
		return 0;
	f = strtol(fwd, NULL, 10);
	if (f < t->ext_min || f > t->ext_max)
		return pbx_errorf(err, PBX_EINVALID, object, "forward_to",
				  "forward destination %s is outside %s's range %ld-%ld", fwd,
				  t->slug, t->ext_min, t->ext_max);
	if (!strcmp(fwd, ext))
		return pbx_errorf(err, PBX_EINVALID, object, "forward_to",
				  "a user cannot forward to its own extension %s", ext);
	return 0;
}

/* Check and hash a new PIN before any transaction (argon2id takes tens of milliseconds). */
int pbx_user_hash_pin(const char *object, const char *pin, const char *ext, char *hash, size_t n,
		      pbx_error *err)
{
	int r = pbx_secret_pin_check(pin, ext, err);

	if (r == 0)
		r = pbx_secret_pin_hash(pin, hash, n, err);
	if (r < 0)
		snprintf(err->object, sizeof(err->object), "%s", object);
	return r;
}

/* The PIN must not become the extension, neither a new PIN nor the stored one. */
int pbx_user_check_pin_vs_ext(const char *object, const char *pin, const char *pin_hash,
			      const char *ext, pbx_error *err)
{
	pbx_error ignored = PBX_ERROR_INIT;

	if (pin && *pin) {
		if (!strcmp(pin, ext))
			return pbx_errorf(err, PBX_EINVALID, object, "pin",
					  "pin must not equal the extension");
	} else if (!pin && pin_hash && *pin_hash &&
		   pbx_secret_pin_verify(pin_hash, ext, &ignored) == 0) {
		return pbx_errorf(err, PBX_EINVALID, object, "pin",
				  "the user's pin equals extension %s; set another pin with --pin too",
				  ext);
	}
	return 0;
}

/*
 * No user of tenant $1, not even a deleted one, holds extension E (a range with ORDER BY
 * rather than '=' keeps to the extension's index: see migrations/0006_fast_create.sql).
 */
#define EXT_FREE(E) \
	"(SELECT v.extension FROM users v WHERE v.tenant_id = $1::bigint AND v.extension >= " E \
	" AND v.extension <= " E " ORDER BY v.extension LIMIT 1) IS NULL"

/*
 * Pick an extension for a new user of the locked tenant @t. First from ext_next upwards,
 * skipping extensions held by any user (deleted ones too: freed extensions are not handed
 * out again while the range has room); when that reaches the end, the lowest extension no
 * live user holds. Both are gap queries over the users' extensions, never over the range.
 * *@ret_next is the new ext_next (or NULL when it stays).
 */
static int allocate(PGconn *pg, const char *object, const struct pbx_tenant_ref *t, char ext[24],
		    char next[24], bool *ret_move, pbx_error *err)
{
	char a[24], b[24];
	const char *p[3] = { t->id, a, b };
	PGresult *res;

	snprintf(b, sizeof(b), "%ld", t->ext_max);
	*ret_move = false;
	if (t->ext_next <= t->ext_max) {
		snprintf(a, sizeof(a), "%ld", t->ext_next);
		res = store_stmt(pg, STMT_USER_ALLOC_NEXT,
			"SELECT CASE WHEN c.e <= $3::int THEN c.e::text END FROM (SELECT CASE "
			"WHEN " EXT_FREE("$2::int") " THEN $2::int "
			"ELSE (SELECT u.extension + 1 FROM users u WHERE u.tenant_id = $1::bigint "
			"AND u.extension >= $2::int AND " EXT_FREE("u.extension + 1") " "
			"ORDER BY u.extension LIMIT 1) END AS e) c",
			3, p, object, err);
		if (!res)
			return err->code;
		*ret_move = true;
		if (!PQgetisnull(res, 0, 0)) {
			snprintf(ext, 24, "%s", PQgetvalue(res, 0, 0));
			snprintf(next, 24, "%ld", strtol(ext, NULL, 10) + 1);
			PQclear(res);
			return 0;
		}
		PQclear(res);
		/* Everything from the pointer to the end is taken: it never needs to look again. */
		snprintf(next, 24, "%ld", t->ext_max + 1);
	}
	snprintf(a, sizeof(a), "%ld", t->ext_min);
	res = pbx_pg_query(pg,
		"SELECT min(c.e)::text FROM (SELECT $2::int AS e UNION ALL "
		"SELECT u.extension + 1 FROM users u WHERE u.tenant_id = $1::bigint "
		"AND u.status <> 'deleted' AND u.extension >= $2::int) c "
		"WHERE c.e <= $3::int AND NOT EXISTS (SELECT 1 FROM users u "
		"WHERE u.tenant_id = $1::bigint AND u.status <> 'deleted' AND u.extension = c.e)",
		3, p, object, err);
	if (!res)
		return err->code;
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		pbx_errorf(err, PBX_ECONFLICT, object, "extension",
			   "no free extension is left in %s's range %ld-%ld", t->slug, t->ext_min,
			   t->ext_max);
		pbx_error_set_hint(err, "Widen the range with `pbxctl tenant update %s --extensions "
				   "MIN-MAX`, or purge deleted users.", t->slug);
		return PBX_ECONFLICT;
	}
	snprintf(ext, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int pbx_user_check_new(const struct pbx_user_spec *spec, char *hash, size_t n, pbx_error *err)
{
	char object[96];
	int r;

	snprintf(object, sizeof(object), "user %s", spec->username ? spec->username : "");
	if ((r = pbx_user_check_spec(object, spec, true, err)) < 0)
		return r;
	hash[0] = '\0';
	if (spec->pin)
		return pbx_user_hash_pin(object, spec->pin, spec->extension, hash, n, err);
	return 0;
}

int pbx_user_create_tx(pbx_ctx *ctx, PGconn *pg, const char *tenant,
		       const struct pbx_user_spec *spec, const char *hash,
		       struct pbx_tenant_ref *ret_t, struct pbx_rows *ret, pbx_error *err)
{
	char object[96], ext[24] = "", next[24] = "", vm[8], dnd[8];
	struct pbx_tenant_ref t;
	bool move = false;
	const char *p[13];
	PGresult *res;
	int r;

	snprintf(object, sizeof(object), "user %s", spec->username);
	/* The tenant's row lock serialises allocation: concurrent creates queue here. */
	p[0] = tenant;
	p[1] = spec->username;
	p[2] = spec->extension;
	res = store_stmt(pg, STMT_USER_CREATE_LOCK,
		"SELECT t.id::text, t.slug, t.ext_min, t.ext_max, t.ext_next, "
		"(SELECT status FROM users WHERE tenant_id = t.id AND username = $2), "
		"(SELECT username FROM users WHERE tenant_id = t.id AND extension = $3::int "
		"AND status <> 'deleted') "
		"FROM tenants t WHERE " TENANT_MATCH("$1") " FOR UPDATE OF t", 3, p,
		object, err);
	if (!res)
		return err->code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	snprintf(t.id, sizeof(t.id), "%s", PQgetvalue(res, 0, 0));
	snprintf(t.slug, sizeof(t.slug), "%s", PQgetvalue(res, 0, 1));
	t.ext_min = strtol(PQgetvalue(res, 0, 2), NULL, 10);
	t.ext_max = strtol(PQgetvalue(res, 0, 3), NULL, 10);
	t.ext_next = strtol(PQgetvalue(res, 0, 4), NULL, 10);
	if (!PQgetisnull(res, 0, 5)) {
		bool deleted = !strcmp(PQgetvalue(res, 0, 5), "deleted");

		PQclear(res);
		return pbx_errorf(err, PBX_ECONFLICT, object, "username",
				  deleted ? "username %s belongs to a deleted user of %s; restore it or purge it"
					  : "username %s is already used in %s", spec->username, t.slug);
	}
	if (spec->extension && (r = pbx_user_check_range(object, &t, spec->extension, err)) < 0) {
		PQclear(res);
		return r;
	}
	if (!PQgetisnull(res, 0, 6)) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "extension",
			       "extension %s is already %s's", spec->extension, PQgetvalue(res, 0, 6));
		PQclear(res);
		return r;
	}
	PQclear(res);
	if (spec->extension)
		snprintf(ext, sizeof(ext), "%s", spec->extension);
	else if ((r = allocate(pg, object, &t, ext, next, &move, err)) < 0)
		return r;
	if ((r = pbx_user_check_forward(object, &t, spec->forward_to, ext, err)) < 0 ||
	    (r = pbx_user_check_pin_vs_ext(object, spec->pin, NULL, ext, err)) < 0)
		return r;
	snprintf(vm, sizeof(vm), "%s", spec->voicemail > 0 ? "true" : "false");
	snprintf(dnd, sizeof(dnd), "%s", spec->dnd > 0 ? "true" : "false");
	p[0] = t.id;
	p[1] = spec->username;
	p[2] = spec->name ? spec->name : spec->username;
	p[3] = spec->email && *spec->email ? spec->email : NULL;
	p[4] = ext;
	p[5] = spec->outbound_callerid && *spec->outbound_callerid ? spec->outbound_callerid : NULL;
	p[6] = vm;
	p[7] = hash && hash[0] ? hash : NULL;
	p[8] = dnd;
	p[9] = spec->forward_to && *spec->forward_to ? spec->forward_to : NULL;
	p[10] = move ? next : NULL;
	p[11] = pbx_ctx_source(ctx);
	p[12] = t.slug;
	/* Insert, move the pointer, read the result and append its audit row: one round trip. */
	res = store_stmt(pg, STMT_USER_INSERT,
		"WITH ins AS (INSERT INTO users (tenant_id, username, display_name, email, extension, "
		"outbound_callerid, voicemail, pin_hash, dnd, forward_to) VALUES ($1::bigint, $2, $3, "
		"$4, $5::int, $6, $7::boolean, $8, $9::boolean, $10) RETURNING *), "
		"ptr AS (UPDATE tenants SET ext_next = $11::int WHERE id = $1::bigint "
		"AND $11::int IS NOT NULL AND ext_next < $11::int) "
		"SELECT x.*, audit_append($12, $13, 'create', 'user', x.id, NULL, to_jsonb(x)) AS _audit "
		"FROM (SELECT " USER_COLUMNS "FROM ins u JOIN tenants t ON t.id = u.tenant_id) x",
		13, p, object, err);
	if (!res)
		return err->code;
	pbx_rows_init(ret, &pbx_schema_user);
	r = PQntuples(res) == 1 ? pbx_pg_fill(res, ret, err) :
		pbx_errorf(err, PBX_ERROR, object, NULL, "the new user vanished");
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(ret);
		return r;
	}
	if (ret_t)
		*ret_t = t;
	return 0;
}

int pbx_user_create(pbx_ctx *ctx, const char *tenant, const struct pbx_user_spec *spec,
		    struct pbx_rows *ret, pbx_error *err)
{
	char hash[PBX_SECRET_HASH_BUFSZ] = "", *sealed = NULL;
	struct pbx_rows rows;
	PGconn *pg;
	int r;

	pbx_rows_init(&rows, &pbx_schema_user);
	if ((r = pbx_user_check_new(spec, hash, sizeof(hash), err)) < 0)
		goto cleanup;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		r = err->code;
		goto cleanup;
	}
	/* The plain case in one round trip; anything else, or any doubt, takes the steps below. */
	if ((r = pbx_user_create_plain(ctx, pg, tenant, spec, hash, &rows, err)) <= 0)
		goto done;
	if (spec->pin && (r = pbx_user_seal_verifier(ctx, spec->pin, &sealed, err)) < 0)
		goto cleanup;
	if ((r = store_tx_begin(pg, err)) < 0)
		goto cleanup;
	if ((r = pbx_user_create_tx(ctx, pg, tenant, spec, hash, NULL, &rows, err)) < 0 ||
	    (sealed && (r = pbx_user_store_verifier(pg, pbx_rows_get(&rows, 0, "id"), sealed,
						    err)) < 0) ||
	    (r = pbx_pg_commit(pg, err)) < 0) {
		pbx_pg_rollback(pg);
		goto cleanup;
	}
done:
	if (r == 0 && ret) {
		*ret = rows;
		pbx_rows_init(&rows, &pbx_schema_user);
	}
cleanup:
	pbx_rows_free(&rows);
	pbx_secret_wipe(hash, sizeof(hash));
	free(sealed);
	return r;
}
