/* SPDX-License-Identifier: MIT */
/*
 * Files for apply: atomic writes (temporary file, fsync, rename, fsync of the directory),
 * reads, removal, and a unified diff that is correct though not always minimal (one hunk
 * around the changed middle, after the common head and tail are taken off).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

int pbx_str_appendf(char **out, const char *fmt, ...)
{
	size_t old = *out ? strlen(*out) : 0;
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(p = realloc(*out, old + (size_t)n + 1)))
		return PBX_ERROR;
	va_start(ap, fmt);
	vsnprintf(p + old, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*out = p;
	return 0;
}

int pbx_file_read(const char *path, char **ret, pbx_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*ret = NULL;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return pbx_errorf(err, PBX_EPERM, "file", NULL, "cannot read %s: %s", path,
				  strerror(errno));
	}
	for (;;) {
		size_t k;

		if (cap - n < 4096) {
			char *p = realloc(buf, cap = cap * 2 + 8192);

			if (!p) {
				free(buf);
				fclose(f);
				return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			}
			buf = p;
		}
		k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*ret = buf;
	return 0;
}

int pbx_file_mkdirs(const char *path, int mode, pbx_error *err)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return pbx_errorf(err, PBX_EINVALID, "directory", NULL, "path too long: %s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
			return pbx_errorf(err, PBX_EPERM, "directory", NULL, "cannot create %s: %s",
					  tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
		return pbx_errorf(err, PBX_EPERM, "directory", NULL, "cannot create %s: %s", tmp,
				  strerror(errno));
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int pbx_file_write_atomic(const char *path, const char *text, int mode, pbx_error *err)
{
	char tmp[4096];
	size_t len = strlen(text), off = 0;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.pbxctl-tmp", path) >= (int)sizeof(tmp))
		return pbx_errorf(err, PBX_EINVALID, "file", NULL, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
	if (fd < 0)
		return pbx_errorf(err, PBX_EPERM, "file", NULL, "cannot write %s: %s", tmp,
				  strerror(errno));
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)k;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	fsync_dir_of(path);
	return 0;
fail:
	pbx_errorf(err, PBX_ERROR, "file", NULL, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return PBX_ERROR;
}

int pbx_file_remove(const char *path, pbx_error *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return pbx_errorf(err, PBX_EPERM, "file", NULL, "cannot remove %s: %s", path,
				  strerror(errno));
	fsync_dir_of(path);
	return 0;
}

/* Split text into lines (pointers into a copy). */
static char **lines_of(const char *text, size_t *ret_n, char **ret_copy)
{
	char *copy = strdup(text ? text : "");
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof(*v));

	if (!copy || !v) {
		free(copy);
		free(v);
		return NULL;
	}
	for (char *p = copy; *p;) {
		char *nl = strchr(p, '\n');

		if (n == cap) {
			char **q = realloc(v, (cap *= 2) * sizeof(*v));

			if (!q) {
				free(v);
				free(copy);
				return NULL;
			}
			v = q;
		}
		v[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	*ret_n = n;
	*ret_copy = copy;
	return v;
}

int pbx_diff_append(char **out, const char *name, const char *a, const char *b, pbx_error *err)
{
	size_t na, nb, head = 0, tail = 0, from, a_end, b_end;
	char *ca = NULL, *cb = NULL;
	char **la = lines_of(a, &na, &ca), **lb = lines_of(b, &nb, &cb);
	int r = 0;

	if (!la || !lb) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	while (head < na && head < nb && !strcmp(la[head], lb[head]))
		head++;
	while (tail < na - head && tail < nb - head &&
	       !strcmp(la[na - 1 - tail], lb[nb - 1 - tail]))
		tail++;
	if (head == na && head == nb)
		goto cleanup;
	from = head > 3 ? head - 3 : 0;
	a_end = na - tail + (tail > 3 ? 3 : tail);
	b_end = nb - tail + (tail > 3 ? 3 : tail);
	r |= pbx_str_appendf(out, "--- %s%s\n+++ %s%s\n", a ? "a/" : "", a ? name : "/dev/null",
			     b ? "b/" : "", b ? name : "/dev/null");
	r |= pbx_str_appendf(out, "@@ -%zu,%zu +%zu,%zu @@\n", a_end > from ? from + 1 : from,
			     a_end - from, b_end > from ? from + 1 : from, b_end - from);
	for (size_t i = from; i < head; i++)
		r |= pbx_str_appendf(out, " %s\n", la[i]);
	for (size_t i = head; i < na - tail; i++)
		r |= pbx_str_appendf(out, "-%s\n", la[i]);
	for (size_t i = head; i < nb - tail; i++)
		r |= pbx_str_appendf(out, "+%s\n", lb[i]);
	for (size_t i = na - tail; i < a_end; i++)
		r |= pbx_str_appendf(out, " %s\n", la[i]);
	if (r)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
cleanup:
	free(la);
	free(lb);
	free(ca);
	free(cb);
	return r;
}
