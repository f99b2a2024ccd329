/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of the rows pbxctl owns, for backups taken before an apply writes: read in one
 * consistent snapshot, saved to a mode 0600 file (they hold SIP passwords) atomically, and
 * loaded back strictly, so a crash in the middle of an apply can be repaired later with
 * pbx_realtime_restore. The file is text, one row per line:
 *
 *   pbxctl-realtime-snapshot 2
 *   scope<TAB><tenant slug, or * for every owner>
 *   row<TAB><table><TAB><id><TAB><owner>{<TAB><column>=<value>}
 *   end<TAB><number of rows>
 *
 * where values escape backslash, tab, newline and carriage return as \\ \t \n \r, and SQL
 * NULL is \N. The end line catches a truncated file. In version 2 the secret columns
 * (ps_auths.password) hold the value sealed with the key that seals secrets in PostgreSQL
 * (pbx_secret_seal), so a backup never holds a SIP secret in clear; version 1 files (clear)
 * are still read.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"

#include "realtime-internal.h"

#define MAGIC "pbxctl-realtime-snapshot 2"
#define MAGIC_CLEAR "pbxctl-realtime-snapshot 1"

/* Columns whose values are secrets, sealed in snapshot files. */
static bool secret_column(const char *table, const char *column)
{
	return !strcmp(table, "ps_auths") && !strcmp(column, "password");
}

void pbx_rt_snapshot_free(struct pbx_rt_snapshot *snap)
{
	if (!snap)
		return;
	pbx_rt_rowset_free(snap->rows);
	free(snap->scope);
	free(snap);
}

static int snapshot_new(const char *scope, struct pbx_rt_snapshot **ret, pbx_error *err)
{
	struct pbx_rt_snapshot *snap = calloc(1, sizeof(*snap));
	int r;

	if (!snap)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (scope && !(snap->scope = strdup(scope))) {
		free(snap);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	r = pbx_rt_rowset_new(&snap->rows, err);
	if (r < 0) {
		pbx_rt_snapshot_free(snap);
		return r;
	}
	*ret = snap;
	return 0;
}

int pbx_realtime_snapshot(pbx_realtime *rt, const char *tenant, struct pbx_rt_snapshot **ret,
			  pbx_error *err)
{
	struct pbx_rt_snapshot *snap = NULL;
	pbx_rt_rowset *owned = NULL;
	int r;

	if (tenant && !rt_valid_owner(tenant))
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant must be a slug of a-z 0-9 - (at most 24)");
	r = snapshot_new(tenant, &snap, err);
	if (r < 0)
		return r;
	r = pbx_rt_rowset_new(&owned, err);
	if (r < 0)
		goto cleanup;
	r = rt_begin(rt, true, err);
	if (r < 0)
		goto cleanup;
	r = rt_read_owned(rt, tenant, owned, err);
	rt_rollback(rt);
	if (r < 0)
		goto cleanup;
	/* rows recorded as owned whose ps_* row is gone are not part of the state */
	for (size_t i = 0; i < owned->n; i++) {
		const struct rt_row *row = owned->rows[i];

		if (row->missing)
			continue;
		r = rt_rowset_add_raw(snap->rows, row->def, row->pub.id, row->pub.owner,
				      (const char *const *)row->pub.values, false, err);
		if (r < 0)
			goto cleanup;
	}
	*ret = snap;
	snap = NULL;
cleanup:
	pbx_rt_rowset_free(owned);
	pbx_rt_snapshot_free(snap);
	return r;
}

static void put_escaped(FILE *f, const char *s)
{
	if (!s) {
		fputs("\\N", f);
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '\\': fputs("\\\\", f); break;
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		default: fputc(*s, f);
		}
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int pbx_rt_snapshot_format(const struct pbx_rt_snapshot *snap, const pbx_secret_key *key,
			   char **ret, size_t *ret_len, pbx_error *err)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r = 0;

	if (!key)
		PBX_BUG("pbx_rt_snapshot_format: a key is required to seal secrets");
	f = open_memstream(&buf, &size);
	if (!f)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	fprintf(f, "%s\nscope\t", MAGIC);
	put_escaped(f, snap->scope ? snap->scope : "*");
	fputc('\n', f);
	for (size_t i = 0; i < pbx_rt_rowset_count(snap->rows) && r == 0; i++) {
		const struct pbx_rt_row *row = pbx_rt_rowset_row(snap->rows, i);

		fprintf(f, "row\t%s\t", row->table);
		put_escaped(f, row->id);
		fputc('\t', f);
		put_escaped(f, row->owner);
		for (size_t c = 0; c < row->n_values && r == 0; c++) {
			char *sealed = NULL;

			fprintf(f, "\t%s=", row->columns[c]);
			if (row->values[c] && secret_column(row->table, row->columns[c]) &&
			    (r = pbx_secret_seal(key, row->values[c], &sealed, err)) == 0)
				put_escaped(f, sealed);
			else if (r == 0)
				put_escaped(f, row->values[c]);
			free(sealed);
		}
		fputc('\n', f);
	}
	fprintf(f, "end\t%zu\n", pbx_rt_rowset_count(snap->rows));
	if (fclose(f) != 0 || !buf)
		r = r ? r : pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r < 0) {
		if (buf)
			sodium_memzero(buf, size);
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

int pbx_rt_snapshot_save(const struct pbx_rt_snapshot *snap, const pbx_secret_key *key,
			 const char *path, pbx_error *err)
{
	char *buf = NULL, *tmp = NULL, *dir = NULL;
	size_t size = 0;
	int fd = -1, dfd, r;

	if ((r = pbx_rt_snapshot_format(snap, key, &buf, &size, err)) < 0)
		return r;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0 || !(dir = strdup(path))) {
		tmp = NULL;
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	fd = mkstemp(tmp);   /* created 0600 */
	if (fd < 0) {
		r = pbx_errorf(err, PBX_ERROR, path, NULL, "cannot create %s: %s", tmp,
			       strerror(errno));
		free(tmp);
		tmp = NULL;
		goto cleanup;
	}
	if (fchmod(fd, 0600) != 0 || write_all(fd, buf, size) != 0 || fsync(fd) != 0) {
		r = pbx_errorf(err, PBX_ERROR, path, NULL, "cannot write %s: %s", tmp,
			       strerror(errno));
		goto cleanup;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = pbx_errorf(err, PBX_ERROR, path, NULL, "cannot write %s: %s", tmp,
			       strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = pbx_errorf(err, PBX_ERROR, path, NULL, "cannot rename %s to %s: %s", tmp,
			       path, strerror(errno));
		goto cleanup;
	}
	free(tmp);
	tmp = NULL;
	/* make the rename itself durable */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (buf) {
		sodium_memzero(buf, size);
		free(buf);
	}
	free(dir);
	return r;
}

/* Unescape @s in place; sets *is_null for \N. Returns -1 on a bad escape. */
static int unescape(char *s, bool *is_null)
{
	char *o = s;

	*is_null = strcmp(s, "\\N") == 0;
	if (*is_null)
		return 0;
	for (char *p = s; *p; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case '\\': *o++ = '\\'; break;
		case 't': *o++ = '\t'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		default: return -1;
		}
	}
	*o = '\0';
	return 0;
}

static int bad(pbx_error *err, const char *path, int line, const char *what)
{
	pbx_errorf(err, PBX_EINVALID, path, NULL, "%s:%d: %s", path, line, what);
	pbx_error_set_location(err, path, line, 0);
	return PBX_EINVALID;
}

static int parse_row(struct pbx_rt_snapshot *snap, char *line, const char *path, int lineno,
		     bool sealed, const pbx_secret_key *key, pbx_error *err)
{
	const char *values[64] = { NULL };
	char *opened[64] = { NULL };
	const struct rt_table *t;
	char *fields[4], *save = NULL, *tok;
	bool is_null;
	int r;

	for (int i = 0; i < 4; i++) {
		fields[i] = strtok_r(i ? NULL : line, "\t", &save);
		if (!fields[i])
			return bad(err, path, lineno, "row line with too few fields");
	}
	t = rt_table_find(fields[1]);
	if (!t)
		return bad(err, path, lineno, "unknown realtime table");
	if (unescape(fields[2], &is_null) < 0 || is_null || !*fields[2] ||
	    unescape(fields[3], &is_null) < 0 || is_null || !rt_valid_owner(fields[3]))
		return bad(err, path, lineno, "bad row id or owner");
	while ((tok = strtok_r(NULL, "\t", &save))) {
		char *eq = strchr(tok, '=');
		int c;

		if (!eq)
			return bad(err, path, lineno, "column without '='");
		*eq = '\0';
		c = rt_column_index(t, tok);
		if (c < 0)
			return bad(err, path, lineno, "unknown column");
		if (unescape(eq + 1, &is_null) < 0) {
			r = bad(err, path, lineno, "bad escape in a value");
			goto cleanup;
		}
		values[c] = is_null ? NULL : eq + 1;
		if (values[c] && sealed && secret_column(t->name, tok) && !opened[c]) {
			pbx_error e = PBX_ERROR_INIT;

			if (!key) {
				r = bad(err, path, lineno, "a sealed secret and no key to open it");
				goto cleanup;
			}
			if (pbx_secret_open(key, values[c], &opened[c], &e) < 0) {
				char why[PBX_ERR_MESSAGE + 32];

				snprintf(why, sizeof(why), "%s: %s", tok, e.message);
				r = bad(err, path, lineno, why);
				goto cleanup;
			}
			values[c] = opened[c];
		}
	}
	r = rt_rowset_add_raw(snap->rows, t, fields[2], fields[3], values, false, err);
	if (r == PBX_ECONFLICT)
		r = bad(err, path, lineno, "the same row appears twice");
cleanup:
	for (size_t i = 0; i < 64; i++)
		pbx_secret_free_str(opened[i]);
	return r;
}

/* Read a snapshot from @f (@path names it in messages). */
static int parse_file(FILE *f, const char *path, const pbx_secret_key *key,
		      struct pbx_rt_snapshot **ret, pbx_error *err)
{
	struct pbx_rt_snapshot *snap = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, r = 0;
	bool ended = false, sealed = true;

	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (ended) {
			r = bad(err, path, lineno, "text after the end line");
		} else if (lineno == 1) {
			sealed = strcmp(line, MAGIC_CLEAR) != 0;
			if (sealed && strcmp(line, MAGIC) != 0)
				r = bad(err, path, lineno, "not a pbxctl realtime snapshot");
		} else if (lineno == 2) {
			bool is_null;

			if (strncmp(line, "scope\t", 6) != 0 || unescape(line + 6, &is_null) < 0 ||
			    is_null || (strcmp(line + 6, "*") != 0 && !rt_valid_owner(line + 6)))
				r = bad(err, path, lineno, "bad scope line");
			else
				r = snapshot_new(strcmp(line + 6, "*") ? line + 6 : NULL, &snap, err);
		} else if (strncmp(line, "row\t", 4) == 0) {
			r = parse_row(snap, line, path, lineno, sealed, key, err);
		} else if (strncmp(line, "end\t", 4) == 0) {
			char *end;
			unsigned long long n = strtoull(line + 4, &end, 10);

			if (*end || n != pbx_rt_rowset_count(snap->rows))
				r = bad(err, path, lineno, "the row count does not match");
			ended = true;
		} else {
			r = bad(err, path, lineno, "unexpected line");
		}
		if (r < 0)
			goto cleanup;
	}
	if (!ended) {
		r = bad(err, path, lineno, "truncated: no end line");
		goto cleanup;
	}
	*ret = snap;
	snap = NULL;
cleanup:
	if (line) {
		sodium_memzero(line, cap);
		free(line);
	}
	pbx_rt_snapshot_free(snap);
	return r;
}

int pbx_rt_snapshot_load(const char *path, const pbx_secret_key *key,
			 struct pbx_rt_snapshot **ret, pbx_error *err)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return pbx_errorf(err, errno == ENOENT ? PBX_ENOTFOUND : PBX_ERROR, path, NULL,
				  "cannot read %s: %s", path, strerror(errno));
	r = parse_file(f, path, key, ret, err);
	fclose(f);
	return r;
}

int pbx_rt_snapshot_parse(const char *text, const char *name, const pbx_secret_key *key,
			  struct pbx_rt_snapshot **ret, pbx_error *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	if (!f)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	r = parse_file(f, name, key, ret, err);
	fclose(f);
	return r;
}
