/* SPDX-License-Identifier: MIT */
/*
 * Apply backups: each apply that writes first saves what it will change into
 * <backup_dir>/<job marker>/ (a 0700 directory of 0600 files: the deployed files it will
 * replace, a manifest, and the realtime snapshot with its secrets sealed), listed by
 * `pbxctl apply backups` and pruned after each apply by the retention rule of
 * asterisk.backup_keep and asterisk.backup_keep_days. A backup its job still needs for a
 * repair (the job is pending, running, or failed without a later success over its scope)
 * is never pruned, and directories that are not named like a job are never touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbx/apply.h"
#include "pbx/realtime.h"
#include "apply-internal.h"
#include "apply-job.h"
#include "ctx.h"
#include "files.h"

static const struct pbx_field backup_fields[] = {
	{ "job", PBX_FT_INT, PBX_FIELD_DEFAULT, "apply job that took it" },
	{ "marker", PBX_FT_STRING, 0, "that job's marker, also the directory name" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant applied, or null for all" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the job's status" },
	{ "created_at", PBX_FT_TIME, PBX_FIELD_DEFAULT, "when it was written" },
	{ "size", PBX_FT_INT, PBX_FIELD_DEFAULT, "bytes of its files" },
	{ "needed", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "its job may need it for a repair: never pruned" },
	{ "path", PBX_FT_STRING, 0, "its directory" },
};

const struct pbx_schema pbx_schema_apply_backup = {
	.name = "backup",
	.fields = backup_fields,
	.n_fields = sizeof(backup_fields) / sizeof(backup_fields[0]),
};

int pbx_backup_write(pbx_ctx *ctx, const struct pbx_apply_plan *plan, const char *tenant,
		     const char *marker, char **ret_dir, struct pbx_rt_snapshot **ret_snap,
		     pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_rt_snapshot *snap = NULL;
	struct pbx_secret_key *key;
	struct pbx_realtime *rt;
	char *dir = NULL, *manifest = NULL, *text = NULL, name[32];
	size_t len = 0;
	int dfd = -1, r;

	if (asprintf(&dir, "%s/%s", cfg->backup_dir, marker) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if ((r = pbx_dir_open(dir, true, 0700, &dfd, err)) < 0)
		goto cleanup;
	for (size_t i = 0; i < plan->n_artifacts && r == 0; i++) {
		const struct pbx_apply_artifact *a = &plan->artifacts[i];

		if (!a->changed)
			continue;
		if (pbx_str_appendf(&manifest, "%zu\t%s\t%s\n", i, a->old_text ? "present" : "absent",
				    a->path) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		snprintf(name, sizeof(name), "%zu.conf", i);
		if (r == 0 && a->old_text)
			r = pbx_file_write_at(dfd, dir, name, a->old_text, 0600, err);
	}
	if (r == 0)
		r = pbx_file_write_at(dfd, dir, "manifest", manifest ? manifest : "", 0600, err);
	if (r < 0)
		goto cleanup;
	if (!(rt = pbx_ctx_realtime(ctx, err)) || !(key = pbx_ctx_key(ctx, err))) {
		r = err->code;
		goto cleanup;
	}
	if ((r = pbx_realtime_snapshot(rt, tenant, &snap, err)) < 0 ||
	    (r = pbx_rt_snapshot_format(snap, key, &text, &len, err)) < 0 ||
	    (r = pbx_file_write_at(dfd, dir, "realtime.snapshot", text, 0600, err)) < 0)
		goto cleanup;
	*ret_dir = dir;
	dir = NULL;
	*ret_snap = snap;
	snap = NULL;
cleanup:
	if (dfd >= 0)
		close(dfd);
	free(text);
	free(manifest);
	free(dir);
	pbx_rt_snapshot_free(snap);
	return r;
}

struct backup {
	char name[72];
	long job;
	time_t mtime;
	long long size;
};

/* A directory name made by pbx_job_create: job-<id>-<6 hex digits>. */
static long job_of(const char *name)
{
	char *end;
	long id;

	if (strncmp(name, "job-", 4) != 0 || strlen(name) > 40)
		return 0;
	id = strtol(name + 4, &end, 10);
	if (id <= 0 || *end != '-' || strlen(end + 1) != 6 || strspn(end + 1, "0123456789abcdef") != 6)
		return 0;
	return id;
}

/* Bytes of the regular files in @name (no link followed). */
static long long size_of(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	long long total = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)))
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			total += (long long)st.st_size;
	closedir(d);
	return total;
}

static int by_job_desc(const void *a, const void *b)
{
	const struct backup *x = a, *y = b;

	return (x->job < y->job) - (x->job > y->job);
}

/* The backups in cfg->backup_dir, newest first; *ret_dfd keeps the directory open. */
static int scan(pbx_ctx *ctx, struct backup **ret, size_t *ret_n, int *ret_dfd, pbx_error *err)
{
	struct backup *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int dfd, r;
	DIR *d;

	*ret = NULL;
	*ret_n = 0;
	*ret_dfd = -1;
	r = pbx_dir_open(pbx_ctx_config(ctx)->backup_dir, false, 0, &dfd, err);
	if (r == PBX_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (!(d = fdopendir(dup(dfd)))) {
		close(dfd);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	while ((e = readdir(d))) {
		struct stat st;
		long job = job_of(e->d_name);

		if (!job || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			struct backup *p = realloc(v, (cap = cap * 2 + 16) * sizeof(*v));

			if (!p) {
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
				break;
			}
			v = p;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%.40s", e->d_name);
		v[n].job = job;
		v[n].mtime = st.st_mtime;
		v[n].size = size_of(dfd, e->d_name);
		n++;
	}
	closedir(d);
	if (r < 0) {
		free(v);
		close(dfd);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_job_desc);
	*ret = v;
	*ret_n = n;
	*ret_dfd = dfd;
	return 0;
}

/* The job rows of @v, in a rowset of pbx_job_backups (marker, tenant, status, needed). */
static int jobs_of(pbx_ctx *ctx, const struct backup *v, size_t n, struct pbx_rows *ret,
		   pbx_error *err)
{
	char *markers = NULL;
	int r = pbx_str_appendf(&markers, "{");

	for (size_t i = 0; i < n; i++)
		r |= pbx_str_appendf(&markers, "%s%s", i ? "," : "", v[i].name);
	r |= pbx_str_appendf(&markers, "}");
	if (r)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	else
		r = pbx_job_backups(ctx, markers, ret, err);
	free(markers);
	return r;
}

static long find_job(const struct pbx_rows *jobs, const char *marker)
{
	for (size_t i = 0; i < jobs->n_rows; i++)
		if (!strcmp(pbx_rows_get(jobs, i, "marker"), marker))
			return (long)i;
	return -1;
}

/* Remove the files of backup @name and the directory (nothing else is in a backup). */
static int remove_backup(int dfd, const char *name, const char *root, pbx_error *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return pbx_errorf(err, PBX_EPERM, "backup", NULL, "cannot open %s/%s: %s", root,
				  name, strerror(errno));
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		return pbx_errorf(err, PBX_EPERM, "backup", NULL, "cannot remove %s/%s: %s", root,
				  name, strerror(errno));
	return 0;
}

int pbx_backup_prune(pbx_ctx *ctx, int *ret_removed, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	time_t since = time(NULL) - (time_t)cfg->backup_keep_days * 86400;
	struct pbx_rows jobs = { 0 };
	struct backup *v = NULL;
	size_t n = 0;
	int dfd = -1, r, removed = 0;

	if ((r = scan(ctx, &v, &n, &dfd, err)) < 0 || n == 0)
		goto cleanup;
	if ((r = jobs_of(ctx, v, n, &jobs, err)) < 0)
		goto cleanup;
	for (size_t i = (size_t)cfg->backup_keep; i < n && r == 0; i++) {
		long j = find_job(&jobs, v[i].name);

		/* Young, still needed, or of a job this database does not know: kept. */
		if ((cfg->backup_keep_days > 0 && v[i].mtime >= since) || j < 0 ||
		    !strcmp(pbx_rows_get(&jobs, (size_t)j, "needed"), "true"))
			continue;
		if ((r = remove_backup(dfd, v[i].name, cfg->backup_dir, err)) == 0)
			removed++;
	}
	if (removed)
		fsync(dfd);
cleanup:
	if (dfd >= 0)
		close(dfd);
	free(v);
	pbx_rows_free(&jobs);
	if (r == 0 && ret_removed)
		*ret_removed = removed;
	return r;
}

int pbx_apply_backups(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_rows rows, jobs = { 0 };
	struct backup *v;
	size_t n;
	int dfd, r;

	pbx_rows_init(&rows, &pbx_schema_apply_backup);
	if ((r = scan(ctx, &v, &n, &dfd, err)) < 0)
		return r;
	if (dfd >= 0)
		close(dfd);
	if (n)
		r = jobs_of(ctx, v, n, &jobs, err);
	for (size_t i = 0; i < n && r == 0; i++) {
		long j = find_job(&jobs, v[i].name);
		char job[24], size[24], at[32], *path = NULL;
		struct tm tm;

		snprintf(job, sizeof(job), "%ld", v[i].job);
		snprintf(size, sizeof(size), "%lld", v[i].size);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&v[i].mtime, &tm));
		if (asprintf(&path, "%s/%s", cfg->backup_dir, v[i].name) < 0 ||
		    pbx_rows_add(&rows) < 0 ||
		    pbx_rows_set(&rows, i, "job", job) < 0 ||
		    pbx_rows_set(&rows, i, "marker", v[i].name) < 0 ||
		    pbx_rows_set(&rows, i, "tenant", j < 0 ? NULL : pbx_rows_get(&jobs, (size_t)j, "tenant")) < 0 ||
		    pbx_rows_set(&rows, i, "status", j < 0 ? NULL : pbx_rows_get(&jobs, (size_t)j, "status")) < 0 ||
		    pbx_rows_set(&rows, i, "created_at", at) < 0 ||
		    pbx_rows_set(&rows, i, "size", size) < 0 ||
		    pbx_rows_set(&rows, i, "needed", j < 0 || !strcmp(pbx_rows_get(&jobs, (size_t)j, "needed"), "true") ? "true" : "false") < 0 ||
		    pbx_rows_set(&rows, i, "path", path) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		free(path);
	}
	free(v);
	pbx_rows_free(&jobs);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
