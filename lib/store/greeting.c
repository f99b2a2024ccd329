/* SPDX-License-Identifier: MIT */
/*
 * Greetings in the voicemail spool (pbx/greeting.h): finding the box of a user, writing or
 * removing its unavailable greeting, and the audit row of each change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbx/greeting.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

static const struct pbx_field greeting_fields[] = {
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant slug" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT, "username" },
	{ "extension", PBX_FT_INT, PBX_FIELD_DEFAULT, "the mailbox" },
	{ "present", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "a greeting of pbxctl's is in place" },
	{ "duration_ms", PBX_FT_INT, PBX_FIELD_DEFAULT, "length in milliseconds, or null" },
	{ "bytes", PBX_FT_INT, 0, "size of the stored 8 kHz WAV, or null" },
	{ "path", PBX_FT_STRING, 0, "the file Asterisk plays" },
	{ "updated_at", PBX_FT_TIME, 0, "when the file was written, or null" },
};

const struct pbx_schema pbx_schema_greeting = {
	.name = "greeting",
	.fields = greeting_fields,
	.n_fields = sizeof(greeting_fields) / sizeof(greeting_fields[0]),
};

struct box {
	char id[24], slug[32], username[40], ext[16];
	char dir[4096], file[4200];
	bool voicemail;
};

static int find_box(pbx_ctx *ctx, PGconn *pg, const char *tenant, const char *user,
		    struct box *b, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_tenant_ref t;
	struct pbx_user_ref u;
	const char *p[1];
	PGresult *res;
	int r;

	if ((r = pbx_user_find(pg, tenant, user, &t, &u, err)) < 0)
		return r;
	p[0] = u.id;
	res = pbx_pg_query(pg, "SELECT voicemail::text FROM users WHERE id = $1::bigint", 1, p,
			   "user", err);
	if (!res)
		return err->code;
	b->voicemail = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	snprintf(b->id, sizeof(b->id), "%s", u.id);
	snprintf(b->slug, sizeof(b->slug), "%s", t.slug);
	snprintf(b->username, sizeof(b->username), "%s", u.username);
	snprintf(b->ext, sizeof(b->ext), "%s", u.extension);
	/* slug and extension are validated identifiers: no path can escape the spool. */
	snprintf(b->dir, sizeof(b->dir), "%s/%s/%s", cfg->voicemail_spool, t.slug, u.extension);
	snprintf(b->file, sizeof(b->file), "%s/" PBX_GREETING_FILE, b->dir);
	return 0;
}

/* One row describing what is on disk now. */
static int describe(const struct box *b, struct pbx_rows *ret, pbx_error *err)
{
	struct stat st;
	char n[32], when[32];
	bool present = stat(b->file, &st) == 0 && S_ISREG(st.st_mode);
	int r;

	pbx_rows_init(ret, &pbx_schema_greeting);
	if (pbx_rows_add(ret) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	r = pbx_rows_set(ret, 0, "tenant", b->slug) | pbx_rows_set(ret, 0, "user", b->username) |
	    pbx_rows_set(ret, 0, "extension", b->ext) |
	    pbx_rows_set(ret, 0, "present", present ? "true" : "false") |
	    pbx_rows_set(ret, 0, "path", b->file);
	if (present) {
		/* A 16-bit mono 8 kHz WAV: 16 bytes per millisecond after its 44-byte header. */
		snprintf(n, sizeof(n), "%lld", st.st_size > 44 ? (long long)(st.st_size - 44) / 16 : 0);
		r |= pbx_rows_set(ret, 0, "duration_ms", n);
		snprintf(n, sizeof(n), "%lld", (long long)st.st_size);
		r |= pbx_rows_set(ret, 0, "bytes", n);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&st.st_mtime));
		r |= pbx_rows_set(ret, 0, "updated_at", when);
	}
	if (r) {
		pbx_rows_free(ret);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	return 0;
}

/* Read @path whole, refusing more than the limit before reading it. */
static int slurp(const char *path, const char *object, unsigned char **ret, size_t *ret_len,
		 pbx_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	size_t n = 0;
	ssize_t k;

	if (fd < 0)
		return pbx_errorf(err, errno == ENOENT ? PBX_ENOTFOUND : PBX_EINVALID, object,
				  "file", "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pbx_errorf(err, PBX_EINVALID, object, "file", "%s is not a regular file", path);
	}
	if (st.st_size > PBX_GREETING_MAX_BYTES) {
		close(fd);
		return pbx_errorf(err, PBX_EINVALID, object, "file",
				  "the file has %lld bytes; a greeting may have at most %d (5 MB)",
				  (long long)st.st_size, PBX_GREETING_MAX_BYTES);
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	while (n < (size_t)st.st_size && (k = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)k;
	close(fd);
	*ret = buf;
	*ret_len = n;
	return 0;
}

static int audit(pbx_ctx *ctx, PGconn *pg, const struct box *b, const char *action,
		 const char *after, pbx_error *err)
{
	int r = pbx_pg_begin(pg, err);

	if (r == 0)
		r = pbx_audit_append(ctx, pg, b->slug, action, "user", b->id, NULL, after, err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r < 0)
		pbx_pg_rollback(pg);
	return r;
}

int pbx_greeting_load(const char *path, const char *object, struct pbx_greeting_audio *ret,
		      pbx_error *err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = slurp(path, object, &data, &len, err)) == 0)
		r = pbx_greeting_convert(data, len, object, ret, err);
	free(data);
	return r;
}

int pbx_greeting_set(pbx_ctx *ctx, const char *tenant, const char *user, const char *path,
		     struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_greeting_audio a = { .pcm = NULL };
	PGconn *pg = pbx_ctx_pg(ctx, err);
	char object[96], after[160];
	struct box b;
	int r;

	if (!pg)
		return err->code;
	if ((r = find_box(ctx, pg, tenant, user, &b, err)) < 0)
		return r;
	snprintf(object, sizeof(object), "user %s", b.username);
	if (!b.voicemail)
		return pbx_errorf(err, PBX_ECONFLICT, object, "voicemail",
				  "%s has no voicemail box; enable it with --voicemail first", object);
	if ((r = pbx_greeting_load(path, object, &a, err)) < 0)
		goto cleanup;
	if ((r = pbx_greeting_write(b.dir, pbx_ctx_config(ctx)->voicemail_owner, &a, err)) < 0)
		goto cleanup;
	snprintf(after, sizeof(after), "{\"greeting\": {\"format\": \"%s\", \"duration_ms\": %zu}}",
		 a.format, a.frames / (PBX_GREETING_RATE / 1000));
	if ((r = audit(ctx, pg, &b, "greeting", after, err)) < 0)
		goto cleanup;
	r = ret ? describe(&b, ret, err) : 0;
cleanup:
	pbx_greeting_audio_free(&a);
	return r;
}

int pbx_greeting_show(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		      pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	struct box b;
	int r;

	if (!pg)
		return err->code;
	if ((r = find_box(ctx, pg, tenant, user, &b, err)) < 0)
		return r;
	return describe(&b, ret, err);
}

int pbx_greeting_delete(pbx_ctx *ctx, const char *tenant, const char *user,
			struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	struct box b;
	int r;

	if (ret_changed)
		*ret_changed = false;
	if (!pg)
		return err->code;
	if ((r = find_box(ctx, pg, tenant, user, &b, err)) < 0)
		return r;
	if (unlink(b.file) == 0) {
		if ((r = audit(ctx, pg, &b, "greeting-delete", "{\"greeting\": null}", err)) < 0)
			return r;
		if (ret_changed)
			*ret_changed = true;
	} else if (errno != ENOENT) {
		return pbx_errorf(err, errno == EACCES ? PBX_EPERM : PBX_ERROR, NULL, NULL,
				  "cannot remove %s: %s", b.file, strerror(errno));
	}
	return ret ? describe(&b, ret, err) : 0;
}
