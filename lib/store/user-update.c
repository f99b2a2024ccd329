/* SPDX-License-Identifier: MIT */
/*
 * Users in PostgreSQL, every change to an existing user: update, suspend and resume, soft
 * delete (its devices go with it), purge and restore. Each starts by finding the user and
 * locking its row, checks the new values by the rules of user.c, and ends through
 * store_finish_prepared: the result and its audit row in one round trip, committed, or
 * rolled back when nothing changed.
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

/* Load and lock a user; the image is the audit "before". */
#define USER_LOCK \
	"SELECT x.*, to_jsonb(x)::text AS _json, " \
	"(SELECT pin_hash FROM users WHERE id = $1::bigint) AS _pin FROM (" USER_SELECT \
	"WHERE u.id = $1::bigint FOR UPDATE OF u) x"

/* The end of a user change: the result, and its audit row in the same round trip. */
#define USER_FINISH \
	"SELECT x.*, audit_append($2, $3, $4, 'user', x.id, $5::jsonb, to_jsonb(x)) AS _audit " \
	"FROM (" USER_SELECT "WHERE u.id = $1::bigint) x"

/* Lock and load the user found as @u; on success the caller owns @cur, @before and @pin. */
static int lock_user(PGconn *pg, const struct pbx_user_ref *u, const char *object,
		     struct pbx_rows *cur, char **before, char **pin, pbx_error *err)
{
	const char *p[1] = { u->id };
	PGresult *res = pbx_pg_query(pg, USER_LOCK, 1, p, object, err);
	int r = 0;

	pbx_rows_init(cur, &pbx_schema_user);
	*before = *pin = NULL;
	if (!res)
		return err->code;
	if (PQntuples(res) != 1)
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "%s does not exist any more", object);
	else if ((r = pbx_pg_fill(res, cur, err)) == 0 &&
		 (!(*before = strdup(PQgetvalue(res, 0, PQfnumber(res, "_json")))) ||
		  !(*pin = strdup(PQgetvalue(res, 0, PQfnumber(res, "_pin"))))))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(cur);
		free(*before);
		free(*pin);
		*before = *pin = NULL;
	}
	return r;
}

/*
 * The common start of a change to one existing user: find it, begin, lock and load.
 * On success the transaction is open and the caller owns @cur, @before and @pin.
 */
static int begin_change(pbx_ctx *ctx, const char *tenant, const char *user, PGconn **ret_pg,
			struct pbx_tenant_ref *t, struct pbx_user_ref *u, char object[96],
			struct pbx_rows *cur, char **before, char **pin, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	int r;

	snprintf(object, 96, "user %s", user);
	if (!pg)
		return err->code;
	if ((r = store_tx_begin(pg, err)) < 0)
		return r;
	if ((r = pbx_user_find(pg, tenant, user, t, u, err)) < 0)
		goto fail;
	snprintf(object, 96, "user %s", u->username);
	if ((r = lock_user(pg, u, object, cur, before, pin, err)) < 0)
		goto fail;
	*ret_pg = pg;
	return 0;
fail:
	pbx_pg_rollback(pg);
	return r;
}

/*
 * The end of a status change to one user: @sql (parameters @p, the user's id first) writes
 * its row, then the after-image and the audit row @action commit the change. A failed write
 * rolls back; store_finish_prepared ends the transaction either way.
 */
static int write_status(pbx_ctx *ctx, PGconn *pg, const char *sql, int n, const char *const *p,
			const char *slug, const char *action, const char *before,
			const char *object, struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	int r = pbx_pg_exec(pg, sql, n, p, object, err);

	if (r < 0) {
		pbx_pg_rollback(pg);
		return r;
	}
	return store_finish_prepared(ctx, pg, STMT_USER_FINISH, USER_FINISH, &pbx_schema_user, p[0],
				     slug, action, before, NULL, true, ret, ret_changed, err);
}

/* Remove every device of user @user_id, each with its own audit row. */
static int remove_devices(pbx_ctx *ctx, PGconn *pg, const char *slug, const char *user_id,
			  pbx_error *err)
{
	const char *p[3] = { user_id, pbx_ctx_source(ctx), slug };
	int r;

	r = pbx_pg_exec(pg, "SELECT audit_append($2, $3, 'delete', 'device', x.id, to_jsonb(x), NULL) "
			"FROM (" DEVICE_SELECT "WHERE d.user_id = $1::bigint ORDER BY d.id) x", 3, p,
			"device", err);
	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM devices WHERE user_id = $1::bigint", 1, p, "device",
				err);
	return r;
}

static bool is_deleted(const struct pbx_rows *cur)
{
	return !strcmp(pbx_rows_get(cur, 0, "status"), "deleted");
}

/* Which live user other than @self holds @ext, and is @username used by another user. */
static int check_taken(PGconn *pg, const struct pbx_tenant_ref *t, const char *self,
		       const char *object, const char *ext, const char *username, pbx_error *err)
{
	const char *p[4] = { t->id, ext, username, self };
	PGresult *res = pbx_pg_query(pg,
		"SELECT (SELECT username FROM users WHERE tenant_id = $1::bigint "
		"AND extension = $2::int AND status <> 'deleted' AND id <> $4::bigint), "
		"(SELECT status FROM users WHERE tenant_id = $1::bigint AND username = $3 "
		"AND id <> $4::bigint)", 4, p, object, err);
	int r = 0;

	if (!res)
		return err->code;
	if (!PQgetisnull(res, 0, 0))
		r = pbx_errorf(err, PBX_ECONFLICT, object, "extension", "extension %s is already %s's",
			       ext, PQgetvalue(res, 0, 0));
	else if (!PQgetisnull(res, 0, 1))
		r = pbx_errorf(err, PBX_ECONFLICT, object, "username",
			       "username %s is already used in %s%s", username, t->slug,
			       strcmp(PQgetvalue(res, 0, 1), "deleted") ? "" : " by a deleted user");
	PQclear(res);
	return r;
}

int pbx_user_update(pbx_ctx *ctx, const char *tenant, const char *user,
		    const struct pbx_user_spec *spec, struct pbx_rows *ret, bool *ret_changed,
		    pbx_error *err)
{
	char object[96], hash[PBX_SECRET_HASH_BUFSZ] = "", vm[8], dnd[8];
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows cur;
	char *before = NULL, *pin = NULL, *sealed = NULL;
	const char *ext, *fwd, *p[11];
	PGconn *pg = NULL;
	int r;

	snprintf(object, sizeof(object), "user %s", user);
	pbx_rows_init(&cur, &pbx_schema_user);
	if ((r = pbx_user_check_spec(object, spec, false, err)) < 0)
		return r;
	if (spec->pin && *spec->pin &&
	    ((r = pbx_user_hash_pin(object, spec->pin, spec->extension, hash, sizeof(hash), err)) < 0 ||
	     (r = pbx_user_seal_verifier(ctx, spec->pin, &sealed, err)) < 0))
		goto cleanup;
	/* A number rather than an extension: the user's outbound policy must allow it. */
	if (spec->forward_to && *spec->forward_to && !pbx_valid_extension(spec->forward_to) &&
	    (r = pbx_selfservice_check_forward(ctx, tenant, user, spec->forward_to, err)) < 0)
		goto cleanup;
	r = begin_change(ctx, tenant, user, &pg, &t, &u, object, &cur, &before, &pin, err);
	if (r < 0)
		goto cleanup;
	if (is_deleted(&cur)) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "status",
			       "%s is deleted; restore it with `pbxctl user restore` first", object);
		goto fail;
	}
	ext = spec->extension ? spec->extension : pbx_rows_get(&cur, 0, "extension");
	fwd = spec->forward_to ? spec->forward_to : pbx_rows_get(&cur, 0, "forward_to");
	if ((spec->extension && (r = pbx_user_check_range(object, &t, ext, err)) < 0) ||
	    (r = pbx_user_check_forward(object, &t, fwd, ext, err)) < 0 ||
	    ((spec->extension || (spec->pin && *spec->pin)) &&
	     (r = pbx_user_check_pin_vs_ext(object, spec->pin, pin, ext, err)) < 0))
		goto fail;
	if ((spec->extension || spec->username) &&
	    (r = check_taken(pg, &t, u.id, object, ext, spec->username ? spec->username : "", err)) < 0)
		goto fail;
	snprintf(vm, sizeof(vm), "%s", spec->voicemail > 0 ? "true" : "false");
	snprintf(dnd, sizeof(dnd), "%s", spec->dnd > 0 ? "true" : "false");
	p[0] = u.id;
	p[1] = spec->username;
	p[2] = spec->name;
	p[3] = spec->email;
	p[4] = spec->extension;
	p[5] = spec->outbound_callerid;
	p[6] = spec->voicemail == PBX_UNSET ? NULL : vm;
	p[7] = spec->pin ? hash : NULL;   /* "" clears */
	p[8] = spec->dnd == PBX_UNSET ? NULL : dnd;
	p[9] = spec->forward_to;
	p[10] = sealed;
	r = pbx_pg_exec(pg,
		"UPDATE users SET username = coalesce($2, username), "
		"display_name = coalesce($3, display_name), "
		"email = CASE WHEN $4::text IS NULL THEN email WHEN $4 = '' THEN NULL ELSE $4 END, "
		"extension = coalesce($5::int, extension), "
		"outbound_callerid = CASE WHEN $6::text IS NULL THEN outbound_callerid "
		"WHEN $6 = '' THEN NULL ELSE $6 END, "
		"voicemail = coalesce($7::boolean, voicemail), "
		"pin_hash = CASE WHEN $8::text IS NULL THEN pin_hash WHEN $8 = '' THEN NULL ELSE $8 END, "
		"vm_pin_verifier_sealed = CASE WHEN $8::text IS NULL THEN vm_pin_verifier_sealed "
		"WHEN $8 = '' THEN NULL ELSE nullif($11, '') END, "
		"dnd = coalesce($9::boolean, dnd), "
		"forward_to = CASE WHEN $10::text IS NULL THEN forward_to WHEN $10 = '' THEN NULL "
		"ELSE $10 END, updated_at = now() WHERE id = $1::bigint", 11, p, object, err);
	if (r < 0)
		goto fail;
	/* A new PIN changes the hash even when the masked image looks the same. */
	r = store_finish_prepared(ctx, pg, STMT_USER_FINISH, USER_FINISH, &pbx_schema_user, u.id,
				  t.slug, "update", before, &cur, spec->pin && *spec->pin, ret,
				  ret_changed, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_secret_wipe(hash, sizeof(hash));
	pbx_rows_free(&cur);
	free(before);
	free(pin);
	free(sealed);
	return r;
}

int pbx_user_set_status(pbx_ctx *ctx, const char *tenant, const char *user, const char *status,
			struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows cur;
	char object[96], *before = NULL, *pin = NULL;
	const char *p[2];
	PGconn *pg = NULL;
	int r;

	snprintf(object, sizeof(object), "user %s", user);
	if (strcmp(status, "active") && strcmp(status, "suspended"))
		return pbx_errorf(err, PBX_EINVALID, object, "status",
				  "status must be active or suspended");
	r = begin_change(ctx, tenant, user, &pg, &t, &u, object, &cur, &before, &pin, err);
	if (r < 0)
		return r;
	if (is_deleted(&cur)) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "status",
			       "%s is deleted; restore it with `pbxctl user restore` first", object);
		goto fail;
	}
	if (!strcmp(pbx_rows_get(&cur, 0, "status"), status)) {
		store_unchanged(pg, &cur, ret, ret_changed);
		r = 0;
		goto cleanup;
	}
	p[0] = u.id;
	p[1] = status;
	r = write_status(ctx, pg, "UPDATE users SET status = $2, updated_at = now() "
			 "WHERE id = $1::bigint", 2, p, t.slug,
			 strcmp(status, "active") ? "suspend" : "resume", before, object, ret,
			 ret_changed, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	free(pin);
	return r;
}

int pbx_user_delete(pbx_ctx *ctx, const char *tenant, const char *user, bool purge,
		    struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows cur;
	char object[96], *before = NULL, *pin = NULL;
	const char *p[1];
	PGconn *pg = NULL;
	int r;

	r = begin_change(ctx, tenant, user, &pg, &t, &u, object, &cur, &before, &pin, err);
	if (r < 0)
		return r;
	if (!purge && is_deleted(&cur)) {
		store_unchanged(pg, &cur, ret, ret_changed);
		r = 0;
		goto cleanup;
	}
	/* A deleted user keeps no devices: each goes with its own audit row. */
	if ((r = remove_devices(ctx, pg, t.slug, u.id, err)) < 0)
		goto fail;
	p[0] = u.id;
	if (purge) {
		if ((r = store_remove(ctx, pg, t.slug, "purge", "user", u.id, before,
				      "DELETE FROM users WHERE id = $1::bigint", object, err)) < 0)
			goto fail;
		if (ret_changed)
			*ret_changed = true;
		if (ret)
			pbx_rows_init(ret, &pbx_schema_user);
		goto cleanup;
	}
	r = write_status(ctx, pg, "UPDATE users SET status = 'deleted', updated_at = now() "
			 "WHERE id = $1::bigint", 1, p, t.slug, "delete", before, object, ret,
			 ret_changed, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	free(pin);
	return r;
}

int pbx_user_restore(pbx_ctx *ctx, const char *tenant, const char *user, const char *extension,
		     struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	struct pbx_rows cur;
	char object[96], *before = NULL, *pin = NULL;
	const char *ext, *p[3];
	PGresult *res;
	PGconn *pg = NULL;
	int r;

	snprintf(object, sizeof(object), "user %s", user);
	if (extension && !pbx_valid_extension(extension))
		return pbx_errorf(err, PBX_EINVALID, object, "extension",
				  "extension \"%s\" must be 2 to 8 digits without a leading zero",
				  extension);
	r = begin_change(ctx, tenant, user, &pg, &t, &u, object, &cur, &before, &pin, err);
	if (r < 0)
		return r;
	if (!is_deleted(&cur)) {
		store_unchanged(pg, &cur, ret, ret_changed);
		r = 0;
		goto cleanup;
	}
	ext = extension ? extension : pbx_rows_get(&cur, 0, "extension");
	if ((r = pbx_user_check_range(object, &t, ext, err)) < 0 ||
	    (extension && (r = pbx_user_check_pin_vs_ext(object, NULL, pin, ext, err)) < 0) ||
	    (r = pbx_user_check_forward(object, &t, pbx_rows_get(&cur, 0, "forward_to"), ext, err)) < 0)
		goto fail;
	p[0] = t.id;
	p[1] = ext;
	p[2] = u.id;
	res = pbx_pg_query(pg, "SELECT username FROM users WHERE tenant_id = $1::bigint "
			   "AND extension = $2::int AND status <> 'deleted' AND id <> $3::bigint",
			   3, p, object, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) > 0) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "extension",
			       "extension %s was given to %s meanwhile; restore with --extension N",
			       ext, PQgetvalue(res, 0, 0));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	p[0] = u.id;
	p[1] = ext;
	r = write_status(ctx, pg, "UPDATE users SET status = 'active', extension = $2::int, "
			 "updated_at = now() WHERE id = $1::bigint", 2, p, t.slug, "restore", before,
			 object, ret, ret_changed, err);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	free(pin);
	return r;
}
