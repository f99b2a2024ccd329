/* SPDX-License-Identifier: MIT */
/*
 * Apply backups: no SIP secret in clear in any backup file, 0700 directories of 0600 files,
 * the sealed snapshot opens with the key and restores the rows, pruning by count and age
 * that never removes a backup a failed job still needs, and `pbxctl apply backups`.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbx/apply.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "apply-itest.h"
#include "testenv.h"

TestSuite(apply_backup, .init = setup, .fini = teardown, .timeout = 90);

static pbx_realtime *rt_connect(void)
{
	struct pbx_realtime_config rc = { .socket = cfg.rt_socket, .user = cfg.rt_user,
					  .password = cfg.rt_password, .database = cfg.rt_database };
	pbx_realtime *rt;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_realtime_connect(&rc, &rt, &err), 0), "%s", err.message);
	return rt;
}

/* The SIP password of the one ps_auths row of @snap. */
static char *auth_password(const struct pbx_rt_snapshot *snap)
{
	for (size_t i = 0; i < pbx_rt_rowset_count(snap->rows); i++) {
		const struct pbx_rt_row *row = pbx_rt_rowset_row(snap->rows, i);

		if (!strcmp(row->table, "ps_auths"))
			return strdup(pbx_rt_row_value(row, "password"));
	}
	cr_fatal("no ps_auths row");
	return NULL;
}

/* Check every entry of backup directory @path: modes, and @secret in none of the files. */
static int check_backup_dir(const char *path, const char *secret)
{
	struct dirent *e;
	struct stat st;
	int files = 0;
	DIR *d;

	cr_assert(eq(int, lstat(path, &st), 0), "%s", path);
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0700), "%s has mode %o", path,
		  (unsigned)(st.st_mode & 07777));
	d = opendir(path);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char p[600], *text;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		cr_assert(eq(int, lstat(p, &st), 0));
		cr_assert(eq(int, (int)(st.st_mode & 07777), 0600), "%s has mode %o", p,
			  (unsigned)(st.st_mode & 07777));
		text = testenv_read_file(p);
		cr_assert(eq(ptr, strstr(text, secret), NULL), "%s holds the SIP secret in clear", p);
		free(text);
		files++;
	}
	closedir(d);
	return files;
}

static struct pbx_rows backups(void)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_apply_backups(ctx, &rows, &err), 0), "%s", err.message);
	return rows;
}

Test(apply_backup, no_secret_in_clear_modes_and_the_sealed_snapshot_restores)
{
	struct pbx_rt_snapshot *live, *loaded;
	struct pbx_apply_result res;
	struct pbx_rows rows;
	pbx_secret_key *key;
	pbx_error err = PBX_ERROR_INIT;
	pbx_realtime *rt;
	char snap_path[400], *secret;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	rt = rt_connect();
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &live, &err), 0), "%s", err.message);
	secret = auth_password(live);
	pbx_rt_snapshot_free(live);
	cr_assert(ge(sz, strlen(secret), 16));

	/* The second apply backs up alice's rows, password included. */
	add_user("bob", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	rows = backups();
	cr_assert(eq(sz, rows.n_rows, 2));
	for (size_t i = 0; i < rows.n_rows; i++)
		cr_assert(ge(int, check_backup_dir(pbx_rows_get(&rows, i, "path"), secret), 2));
	{
		struct stat st;

		cr_assert(eq(int, stat(cfg.backup_dir, &st), 0));
		cr_assert(eq(int, (int)(st.st_mode & 077), 0), "backup_dir is mode %o",
			  (unsigned)(st.st_mode & 07777));
	}

	/* The newest backup opens with the key and restores alice alone. */
	snprintf(snap_path, sizeof(snap_path), "%s/realtime.snapshot", pbx_rows_get(&rows, 0, "path"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_rt_snapshot_load(snap_path, NULL, &loaded, &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_secret_key_load(cfg.key_file, &key, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_rt_snapshot_load(snap_path, key, &loaded, &err), 0), "%s", err.message);
	{
		char *opened = auth_password(loaded);

		cr_assert(eq(str, opened, secret));
		free(opened);
	}
	cr_assert(eq(sz, realtime_rows(), 6));
	cr_assert(eq(int, pbx_realtime_restore(rt, loaded, slug, &err), 0), "%s", err.message);
	cr_assert(eq(sz, realtime_rows(), 3));
	pbx_rt_snapshot_free(loaded);
	pbx_secret_key_free(key);
	pbx_realtime_close(rt);
	free(secret);
}

Test(apply_backup, rollback_still_restores_rows_with_sealed_backups)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	add_user("bob", 1);
	control("stale-reload\n");
	cr_assert(eq(int, run(false, &res, &err), PBX_EROLLEDBACK), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(sz, realtime_rows(), 3), "bob's rows were not rolled back");
}

/* Make backup @path look @days days old. */
static void age(const char *path, int days)
{
	struct timespec t[2] = { { .tv_sec = time(NULL) - days * 86400L }, { 0 } };

	t[1] = t[0];
	cr_assert(eq(int, utimensat(AT_FDCWD, path, t, 0), 0), "%s", path);
}

static void age_all(int days)
{
	struct pbx_rows rows = backups();

	for (size_t i = 0; i < rows.n_rows; i++)
		age(pbx_rows_get(&rows, i, "path"), days);
	pbx_rows_free(&rows);
}

static bool has_job_backup(const char *job)
{
	struct pbx_rows rows = backups();
	bool found = false;

	for (size_t i = 0; i < rows.n_rows; i++)
		found |= !strcmp(pbx_rows_get(&rows, i, "job"), job);
	pbx_rows_free(&rows);
	return found;
}

Test(apply_backup, pruning_keeps_the_newest_the_young_and_what_a_failed_job_needs)
{
	struct pbx_tenant_spec spec = { .extensions = "300-399", .name = "Other" };
	struct pbx_apply_opts other = { 0 };
	struct pbx_apply_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char slug2[32], first[24], failed[24];

	snprintf(slug2, sizeof(slug2), "%s", testenv_slug("bk"));
	spec.slug = slug2;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	other.tenant = slug2;
	mkdir(path_in("backup"), 0700);
	mkdir(path_in("backup/notes"), 0700);   /* not a job's: never touched */

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	snprintf(first, sizeof(first), "%s", pbx_rows_get(&res.job, 0, "id"));
	pbx_apply_result_free(&res);
	add_user("bob", 1);
	control("reload-error\n");
	cr_assert(eq(int, run(false, &res, &err), PBX_EROLLBACKFAILED), "%s", err.message);
	snprintf(failed, sizeof(failed), "%s", pbx_rows_get(&res.job, 0, "id"));
	pbx_apply_result_free(&res);
	control("");
	rows = backups();
	cr_assert(eq(sz, rows.n_rows, 2));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "job"), failed));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "needed"), "true"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 1, "needed"), "false"));
	cr_assert(gt(long, strtol(pbx_rows_get(&rows, 1, "size"), NULL, 10), 100L));
	pbx_rows_free(&rows);

	/* Both ten days old; keep 1 and a week: another tenant's apply prunes the first
	 * backup, not the failed job's, which no success has repaired yet. */
	age_all(10);
	cfg.backup_keep = 1;
	cfg.backup_keep_days = 7;
	cr_assert(eq(int, pbx_apply(ctx, &other, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(not(has_job_backup(first)), "an old, unneeded backup was kept");
	cr_assert(has_job_backup(failed), "the backup a failed job needs was pruned");
	cr_assert(eq(int, access(path_in("backup/notes"), F_OK), 0));

	/* A young backup is kept whatever the count. */
	rows = backups();
	cr_assert(eq(sz, rows.n_rows, 2));
	pbx_rows_free(&rows);

	/* Once an apply of the failed job's tenant succeeded, its backup may go too. */
	age_all(10);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(not(has_job_backup(failed)));
	rows = backups();
	cr_assert(eq(sz, rows.n_rows, 1), "keep 1 leaves the newest alone");
	pbx_rows_free(&rows);
}

Test(apply_backup, cli_lists_backups_as_json_and_refuses_an_unsafe_backup_dir)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char cmd[600], out[4096] = "";
	const char *conf;
	size_t n;
	FILE *p;
	int status;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	conf = conf_file();
	snprintf(cmd, sizeof(cmd), "%s -c %s -o json apply backups 2>&1", getenv("PBXCTL_BIN"), conf);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, pclose(p), 0), "%s", out);
	cr_assert(eq(int, out[0], '['), "%s", out);
	cr_assert(not(eq(ptr, strstr(out, "\"size\": "), NULL)), "%s", out);
	cr_assert(not(eq(ptr, strstr(out, "\"needed\": false"), NULL)), "%s", out);
	cr_assert(not(eq(ptr, strstr(out, "\"status\": \"SUCCESS\""), NULL)), "%s", out);

	/* A backup directory every user may write is refused, naming it. */
	chmod(path_in("backup"), 0777);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_assert(eq(int, WEXITSTATUS(status), 6), "%s", out);
	cr_assert(not(eq(ptr, strstr(out, path_in("backup")), NULL)), "%s", out);
	chmod(path_in("backup"), 0700);
}
