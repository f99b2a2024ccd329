/* SPDX-License-Identifier: MIT */
/*
 * Files for apply by path: atomic writes (temporary file, fsync, rename, fsync of the
 * directory), reads and removal, each through the checked directory walk of safe-path.c;
 * and a unified diff (Myers' shortest edit script, hunks with 3 lines of context) for dry
 * runs.
 */
#include <errno.h>
#include <fcntl.h>
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

/*
 * Open the directory of @path (copied into @dir) as *@ret_dfd and point *@ret_name at the
 * file name inside @path. Errors as pbx_dir_open; PBX_EINVALID for a path without a name.
 */
static int open_parent(const char *path, char dir[4096], const char **ret_name, int *ret_dfd,
		       pbx_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (!slash || !slash[1] || (dlen = slash == path ? 1 : (size_t)(slash - path)) >= 4096)
		return pbx_errorf(err, PBX_EINVALID, "file", NULL, "not a file path: %s", path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	*ret_name = slash + 1;
	return pbx_dir_open(dir, false, 0, ret_dfd, err);
}

int pbx_file_read(const char *path, char **ret, pbx_error *err)
{
	char dir[4096];
	const char *name;
	int dfd, r;

	*ret = NULL;
	if ((r = open_parent(path, dir, &name, &dfd, err)) == PBX_ENOTFOUND) {
		pbx_error_clear(err);   /* nothing deployed yet: no message left behind */
		return 0;
	}
	if (r < 0)
		return r;
	r = pbx_file_read_at(dfd, dir, name, ret, err);
	close(dfd);
	return r;
}

int pbx_file_mkdirs(const char *path, int mode, pbx_error *err)
{
	int dfd, r = pbx_dir_open(path, true, mode, &dfd, err);

	if (r == 0)
		close(dfd);
	return r;
}

int pbx_file_write_atomic(const char *path, const char *text, int mode, pbx_error *err)
{
	char dir[4096];
	const char *name;
	int dfd, r;

	if ((r = open_parent(path, dir, &name, &dfd, err)) < 0)
		return r;
	r = pbx_file_write_at(dfd, dir, name, text, mode, err);
	close(dfd);
	return r;
}

int pbx_file_remove(const char *path, pbx_error *err)
{
	char dir[4096];
	const char *name;
	int dfd, r;

	if ((r = open_parent(path, dir, &name, &dfd, err)) == PBX_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		r = pbx_errorf(err, PBX_EPERM, "file", NULL, "cannot remove %s: %s", path,
			       strerror(errno));
	else
		fsync(dfd);
	close(dfd);
	return r;
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

/* Edit script of the shortest line diff (Myers, "An O(ND) Difference Algorithm"): one op per
 * line, '=' kept, '-' only in @a, '+' only in @b. Returns the number of ops, or 0 when the
 * search would need more memory than a dry run deserves (the caller then falls back). */
static size_t myers(char **a, size_t n, char **b, size_t m, char *ops)
{
	size_t max = n + m, width = 2 * max + 1, nops = 0;
	long *v, *trace;
	long d, k, x, y;

	if (max == 0)
		return 0;
	if (max > 200000 || (max + 1) > (size_t)(16u << 20) / width)
		return 0;
	v = calloc(width, sizeof(*v));
	trace = malloc((max + 1) * width * sizeof(*trace));
	if (!v || !trace) {
		free(v);
		free(trace);
		return 0;
	}
	for (d = 0; d <= (long)max; d++) {
		memcpy(trace + (size_t)d * width, v, width * sizeof(*v));
		for (k = -d; k <= d; k += 2) {
			long *vk = v + (long)max + k;

			if (k == -d || (k != d && vk[-1] < vk[1]))
				x = vk[1];
			else
				x = vk[-1] + 1;
			y = x - k;
			while ((size_t)x < n && (size_t)y < m && !strcmp(a[x], b[y])) {
				x++;
				y++;
			}
			*vk = x;
			if ((size_t)x >= n && (size_t)y >= m)
				goto found;
		}
	}
found:
	/* Walk the trace back from (n, m), writing the ops from the end. */
	x = (long)n;
	y = (long)m;
	nops = (size_t)d + (size_t)(((long)n + (long)m - d) / 2);
	{
		size_t at = nops;

		for (; d > 0; d--) {
			const long *vd = trace + (size_t)d * width + (long)max;
			long px, py;

			k = x - y;
			if (k == -d || (k != d && vd[k - 1] < vd[k + 1]))
				k = k + 1;
			else
				k = k - 1;
			px = vd[k];
			py = px - k;
			while (x > px && y > py) {
				ops[--at] = '=';
				x--;
				y--;
			}
			ops[--at] = x == px ? '+' : '-';
			x = px;
			y = py;
		}
		while (x > 0 && y > 0) {
			ops[--at] = '=';
			x--;
			y--;
		}
	}
	free(v);
	free(trace);
	return nops;
}

int pbx_diff_append(char **out, const char *name, const char *a, const char *b, pbx_error *err)
{
	size_t na, nb, nops, i, ai = 0, bi = 0;
	char *ca = NULL, *cb = NULL, *ops = NULL;
	char **la = lines_of(a, &na, &ca), **lb = lines_of(b, &nb, &cb);
	int r = 0;

	if (!la || !lb || !(ops = malloc(na + nb + 1))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	nops = myers(la, na, lb, nb, ops);
	if (nops == 0 && na + nb > 0) {
		/* Too large to search: every old line out, every new line in. */
		memset(ops, '-', na);
		memset(ops + na, '+', nb);
		nops = na + nb;
	}
	if (!memchr(ops, '-', nops) && !memchr(ops, '+', nops))
		goto cleanup;
	r |= pbx_str_appendf(out, "--- %s%s\n+++ %s%s\n", a ? "a/" : "", a ? name : "/dev/null",
			     b ? "b/" : "", b ? name : "/dev/null");
	/* Hunks: changes with 3 lines of context, merged when at most 6 kept lines part them. */
	for (i = 0; i < nops && r == 0;) {
		size_t start, end, last, ha, hb, ca_n = 0, cb_n = 0, j, xa, xb;

		if (ops[i] == '=') {
			ai++;
			bi++;
			i++;
			continue;
		}
		start = i >= 3 ? i - 3 : 0;
		while (start < i && ops[start] != '=')
			start++;
		for (last = i, j = i; j < nops; j++) {
			if (ops[j] != '=')
				last = j;
			else if (j - last > 6)
				break;
		}
		end = last + 4 < nops ? last + 4 : nops;
		/* line numbers at the hunk start */
		ha = ai - (i - start);
		hb = bi - (i - start);
		for (j = start; j < end; j++) {
			ca_n += ops[j] != '+';
			cb_n += ops[j] != '-';
		}
		r |= pbx_str_appendf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ca_n ? ha + 1 : ha, ca_n,
				     cb_n ? hb + 1 : hb, cb_n);
		for (j = start, xa = ha, xb = hb; j < end; j++) {
			if (ops[j] == '=')
				r |= pbx_str_appendf(out, " %s\n", la[xa++]), xb++;
			else if (ops[j] == '-')
				r |= pbx_str_appendf(out, "-%s\n", la[xa++]);
			else
				r |= pbx_str_appendf(out, "+%s\n", lb[xb++]);
		}
		ai = xa;
		bi = xb;
		i = end;
	}
	if (r)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
cleanup:
	free(ops);
	free(la);
	free(lb);
	free(ca);
	free(cb);
	return r;
}
