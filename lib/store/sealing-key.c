/* SPDX-License-Identifier: MIT */
/*
 * The sealing key pair in PostgreSQL and on disk: the published public key (table
 * sealing_key) and the rotation that re-seals every device and trunk secret to a new key
 * pair in one transaction. Files and rows change in an order that keeps every value
 * openable if the process dies between any two steps: the new key file is written before
 * the transaction, the files are switched only after the commit and a check that the new
 * key opens everything, and the old key is kept under its id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/sealing.h"
#include "pbx/secret.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"
#include "sealing-key.h"

static const struct pbx_field sealing_fields[] = {
	{ "key_id", PBX_FT_STRING, PBX_FIELD_DEFAULT, "id of the key secrets are sealed to" },
	{ "previous_key_id", PBX_FT_STRING, PBX_FIELD_DEFAULT, "id of the key it replaced" },
	{ "public_key", PBX_FT_STRING, 0, "the published public key" },
	{ "key_file", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the private key file" },
	{ "previous_key_file", PBX_FT_STRING, 0, "where the replaced private key is kept" },
	{ "resealed", PBX_FT_INT, PBX_FIELD_DEFAULT, "secrets re-sealed" },
	{ "resumed", PBX_FT_BOOL, 0, "an interrupted rotation was completed" },
};

const struct pbx_schema pbx_schema_sealing_key = STORE_SCHEMA("sealing_key", sealing_fields);

int pbx_sealing_key_read(PGconn *pg, char *buf, size_t n, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, "SELECT public_key FROM sealing_key", 0, NULL,
				     "sealing key", err);

	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, "sealing key", NULL,
				  "no public key is published; run `pbxctl secrets publish`");
	}
	snprintf(buf, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* The private key this operator holds, or a one-line reason why not. */
static pbx_secret_key *private_key(pbx_ctx *ctx, pbx_error *err)
{
	pbx_secret_key *key = pbx_ctx_key(ctx, err);

	if (key && !pbx_secret_key_can_open(key))
		key = NULL;
	return key;
}

/* Insert or replace the published key, with its audit row, inside the caller's transaction. */
static int publish_tx(pbx_ctx *ctx, PGconn *pg, const pbx_secret_key *key,
		      const char *before_id, long resealed, pbx_error *err)
{
	char text[PBX_SECRET_PUBLIC_BUFSZ], before[64], after[96];
	const char *p[2] = { pbx_secret_key_id(key), text };
	int r;

	if ((r = pbx_secret_key_public_text(key, text, sizeof(text), err)) < 0)
		return r;
	if ((r = pbx_pg_exec(pg, "INSERT INTO sealing_key (key_id, public_key) VALUES ($1, $2) "
			     "ON CONFLICT (singleton) DO UPDATE SET key_id = EXCLUDED.key_id, "
			     "public_key = EXCLUDED.public_key, published_by = session_user, "
			     "published_at = now()", 2, p, "sealing key", err)) < 0)
		return r;
	snprintf(before, sizeof(before), "{\"key_id\": \"%s\"}", before_id ? before_id : "");
	if (resealed >= 0)
		snprintf(after, sizeof(after), "{\"key_id\": \"%s\", \"resealed\": %ld}", p[0],
			 resealed);
	else
		snprintf(after, sizeof(after), "{\"key_id\": \"%s\"}", p[0]);
	return pbx_audit_append(ctx, pg, NULL, resealed >= 0 ? "rotate-key" : "publish",
				"sealing_key", p[0], before_id ? before : NULL, after, err);
}

static int one_row(const char *key_id, const char *prev_id, const char *pub,
		   const char *key_file, const char *prev_file, long resealed, bool resumed,
		   struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_rows rows;
	char n[24];
	int r = 0;

	snprintf(n, sizeof(n), "%ld", resealed);
	pbx_rows_init(&rows, &pbx_schema_sealing_key);
	if (pbx_rows_add(&rows) < 0 ||
	    pbx_rows_set(&rows, 0, "key_id", key_id) < 0 ||
	    pbx_rows_set(&rows, 0, "previous_key_id", prev_id) < 0 ||
	    pbx_rows_set(&rows, 0, "public_key", pub) < 0 ||
	    pbx_rows_set(&rows, 0, "key_file", key_file) < 0 ||
	    pbx_rows_set(&rows, 0, "previous_key_file", prev_file) < 0 ||
	    pbx_rows_set(&rows, 0, "resealed", resealed >= 0 ? n : NULL) < 0 ||
	    pbx_rows_set(&rows, 0, "resumed", resumed ? "true" : "false") < 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r < 0 || !ret)
		pbx_rows_free(&rows);
	else
		*ret = rows;
	return r;
}

int pbx_sealing_publish(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	char text[PBX_SECRET_PUBLIC_BUFSZ], before[PBX_SECRET_KEY_ID_BUFSZ + 1] = "";
	pbx_secret_key *key = private_key(ctx, err);
	PGconn *pg;
	PGresult *res;
	int r;

	if (!key)
		return err->code ? err->code : PBX_EINVALID;
	if (pbx_secret_key_is_legacy(key))
		return pbx_errorf(err, PBX_EINVALID, "sealing key", NULL,
				  "key file %s holds a legacy key (pbxctl-key-v1) with no public half; "
				  "run `pbxctl secrets rotate-key`", pbx_ctx_config(ctx)->key_file);
	if ((r = pbx_secret_key_public_text(key, text, sizeof(text), err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	res = pbx_pg_query(pg, "SELECT key_id FROM sealing_key FOR UPDATE", 0, NULL, "sealing key",
			   err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	if (PQntuples(res) == 1)
		snprintf(before, sizeof(before), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((r = publish_tx(ctx, pg, key, *before ? before : NULL, -1, err)) < 0 ||
	    (r = pbx_pg_commit(pg, err)) < 0)
		goto fail;
	pbx_secret_key_free(ctx->seal_key);
	ctx->seal_key = NULL;
	return one_row(pbx_secret_key_id(key), *before ? before : NULL, text,
		       pbx_ctx_config(ctx)->key_file, NULL, -1, false, ret, err);
fail:
	pbx_pg_rollback(pg);
	return r;
}

/* For tests of an interrupted rotation: end the process here, as a kill would. */
static void abort_point(const char *step)
{
	const char *s = getenv("PBXCTL_TEST_ROTATE_ABORT");

	if (s && !strcmp(s, step))
		_exit(99);
}

/* Every sealed value with the name of its owner; one statement so the check sees all. */
#define ALL_SEALED \
	"SELECT 'device ' || sip_username, secret_sealed FROM devices " \
	"UNION ALL SELECT 'trunk ' || name, secret_sealed FROM trunks " \
	"WHERE secret_sealed IS NOT NULL"

/* Open every secret with @key alone: the proof that the old key may be put away. */
static int opens_all(PGconn *pg, const pbx_secret_key *key, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, ALL_SEALED, 0, NULL, "sealing key", err);
	int r = 0;

	if (!res)
		return err->code;
	for (int i = 0; i < PQntuples(res) && r == 0; i++) {
		char *plain = NULL;

		if ((r = pbx_secret_open(key, PQgetvalue(res, i, 1), &plain, err)) < 0)
			snprintf(err->object, sizeof(err->object), "%s", PQgetvalue(res, i, 0));
		pbx_secret_free_str(plain);
	}
	PQclear(res);
	return r;
}

/* Re-seal every secret of one table to @key in one UPDATE. @select returns id, owner name,
 * sealed value. */
static int reseal_table(pbx_ctx *ctx, PGconn *pg, const char *select, const char *update,
			const pbx_secret_key *key, long *count, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, select, 0, NULL, "sealing key", err);
	struct pbx_pg_array ids, vals;
	const char *p[2];
	int r = 0, n;

	if (!res)
		return err->code;
	n = PQntuples(res);
	if ((pbx_pg_array_open(&ids) | pbx_pg_array_open(&vals)) != 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (int i = 0; i < n && r == 0; i++) {
		char *plain = NULL, *sealed = NULL;

		if ((r = pbx_ctx_open_secret(ctx, PQgetvalue(res, i, 2), &plain, err)) < 0) {
			snprintf(err->object, sizeof(err->object), "%s", PQgetvalue(res, i, 1));
			pbx_error_set_hint(err, "Nothing was re-sealed. Rotate the secret of %s, or "
					   "put the key it was sealed with next to the key file.",
					   PQgetvalue(res, i, 1));
			break;
		}
		r = pbx_secret_seal(key, plain, &sealed, err);
		pbx_secret_free_str(plain);
		if (r == 0) {
			pbx_pg_array_add(&ids, PQgetvalue(res, i, 0));
			pbx_pg_array_add(&vals, sealed);
		}
		free(sealed);
	}
	if ((pbx_pg_array_close(&ids) | pbx_pg_array_close(&vals)) != 0 && r == 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	p[0] = ids.text;
	p[1] = vals.text;
	if (r == 0 && n > 0)
		r = pbx_pg_exec(pg, update, 2, p, "sealing key", err);
	if (r == 0)
		*count += n;
	PQclear(res);
	free(ids.text);
	free(vals.text);
	return r;
}

/* Re-seal everything and publish @key: the one transaction of a rotation. */
static int reseal_all(pbx_ctx *ctx, PGconn *pg, const pbx_secret_key *key, const char *old_id,
		      long *ret_count, pbx_error *err)
{
	long count = 0;
	int r;

	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	/* Reads go on; a device or trunk created meanwhile waits for the commit. One sealed to
	 * the old key meanwhile still opens: the old key is kept under its id. */
	r = pbx_pg_exec(pg, "LOCK TABLE sealing_key, devices, trunks IN SHARE ROW EXCLUSIVE MODE",
			0, NULL, "sealing key", err);
	if (r == 0)
		r = reseal_table(ctx, pg, "SELECT id::text, 'device ' || sip_username, secret_sealed "
				 "FROM devices ORDER BY id",
				 "UPDATE devices d SET secret_sealed = v.s FROM "
				 "unnest($1::bigint[], $2::text[]) AS v(id, s) WHERE d.id = v.id",
				 key, &count, err);
	if (r == 0)
		r = reseal_table(ctx, pg, "SELECT id::text, 'trunk ' || name, secret_sealed "
				 "FROM trunks WHERE secret_sealed IS NOT NULL ORDER BY id",
				 "UPDATE trunks t SET secret_sealed = v.s FROM "
				 "unnest($1::bigint[], $2::text[]) AS v(id, s) WHERE t.id = v.id",
				 key, &count, err);
	if (r == 0)
		r = publish_tx(ctx, pg, key, old_id, count, err);
	if (r == 0) {
		abort_point("before-commit");
		r = pbx_pg_commit(pg, err);
	}
	if (r < 0) {
		pbx_pg_rollback(pg);
		return r;
	}
	*ret_count = count;
	return 0;
}

/* "<key_file>.<id>" into a new string; NULL when out of memory. */
static char *kept_path(const char *key_file, const char *id)
{
	char *s = NULL;

	return asprintf(&s, "%s.%s", key_file, id) < 0 ? NULL : s;
}

/*
 * Keep the old key under its id (a hard link, so key_file never goes missing), then move
 * the new key over key_file in one rename.
 */
static int switch_files(const char *key_file, const char *old_path, const char *new_path,
			pbx_error *err)
{
	int r;

	if ((r = pbx_secret_key_keep(key_file, old_path, err)) < 0)
		return r;
	abort_point("after-keep-old");
	return pbx_secret_key_replace(new_path, key_file, err);
}

/* The published key id, or "" when none is published. */
static int published_id(PGconn *pg, char *buf, size_t n, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, "SELECT key_id FROM sealing_key", 0, NULL, "sealing key",
				     err);

	if (!res)
		return err->code;
	snprintf(buf, n, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return 0;
}

int pbx_sealing_rotate(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	const char *key_file = pbx_ctx_config(ctx)->key_file;
	char pub_id[PBX_SECRET_KEY_ID_BUFSZ + 8], old_id[PBX_SECRET_KEY_ID_BUFSZ];
	char text[PBX_SECRET_PUBLIC_BUFSZ];
	char *old_path = NULL, *new_path = NULL;
	pbx_secret_key *old = private_key(ctx, err), *new = NULL;
	bool resumed = false, committed = false, wrote = false;
	long count = -1;
	PGconn *pg;
	int r;

	if (!old)
		return err->code ? err->code : PBX_EINVALID;
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	snprintf(old_id, sizeof(old_id), "%s", pbx_secret_key_id(old));
	if ((r = published_id(pg, pub_id, sizeof(pub_id), err)) < 0)
		return r;
	if (!(old_path = kept_path(key_file, old_id)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");

	/* A rotation that committed but died before switching files left its key under its id. */
	if (*pub_id && strcmp(pub_id, old_id) != 0) {
		pbx_error e = PBX_ERROR_INIT;

		if (!(new_path = kept_path(key_file, pub_id))) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto cleanup;
		}
		if (pbx_secret_key_load(new_path, &new, &e) == 0)
			resumed = committed = true;
		free(new_path);
		new_path = NULL;
	}
	if (!new) {
		if ((r = pbx_secret_key_generate(&new, err)) < 0)
			goto cleanup;
	}
	if (!(new_path = kept_path(key_file, pbx_secret_key_id(new)))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	if (!resumed) {
		if ((r = pbx_secret_key_save(new, new_path, err)) < 0)
			goto cleanup;
		wrote = true;
		abort_point("new-key");
		if ((r = reseal_all(ctx, pg, new, *pub_id ? pub_id : NULL, &count, err)) < 0)
			goto cleanup;
		committed = true;
		abort_point("after-commit");
	}
	if ((r = opens_all(pg, new, err)) < 0) {
		pbx_error_set_hint(err, "Both keys are kept (%s and %s); run `pbxctl secrets rotate-key` "
				   "again to finish", key_file, new_path);
		goto cleanup;
	}
	abort_point("after-verify");
	if ((r = switch_files(key_file, old_path, new_path, err)) < 0)
		goto cleanup;
	/* The context's keys are the old ones; let it load the new one when next asked. */
	pbx_secret_key_free(ctx->key);
	pbx_secret_key_free(ctx->seal_key);
	ctx->key = ctx->seal_key = NULL;
	if ((r = pbx_secret_key_public_text(new, text, sizeof(text), err)) == 0)
		r = one_row(pbx_secret_key_id(new), old_id, text, key_file, old_path, count,
			    resumed, ret, err);

cleanup:
	/* Before the commit nothing refers to the new key: do not leave it lying about. */
	if (r < 0 && wrote && !committed)
		unlink(new_path);
	pbx_secret_key_free(new);
	free(old_path);
	free(new_path);
	return r;
}
