/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the bulk import/export integration tests; see bulk-itest.h.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbx/secret.h"
#include "bulk-itest.h"
#include "testenv.h"

struct pbx_config bi_cfg;
pbx_ctx *bi_ctx;
static char key_dir[64];

void bi_setup(void)
{
	char path[256];
	pbx_error err = PBX_ERROR_INIT;

	bi_ctx = testenv_ctx(&bi_cfg);
	snprintf(key_dir, sizeof(key_dir), "/tmp/pbxctl-bi-XXXXXX");
	cr_assert_not_null(mkdtemp(key_dir));
	snprintf(path, sizeof(path), "%s/pbxctl.key", key_dir);
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0), "%s", err.message);
	free(bi_cfg.key_file);
	bi_cfg.key_file = strdup(path);
}

/* The files bi_file wrote, removed at teardown. */
static char made[64][64];
static size_t n_made;

void bi_teardown(void)
{
	for (size_t i = 0; i < n_made; i++)
		unlink(made[i]);
	n_made = 0;
	if (bi_cfg.key_file)
		unlink(bi_cfg.key_file);
	rmdir(key_dir);
	testenv_free(bi_ctx, &bi_cfg);
}

void bi_slug(char slug[32], const char *prefix)
{
	snprintf(slug, 32, "%s", testenv_slug(prefix));
}

void bi_import(struct bi_result *res, bool dry_run, bool prune, const char *secrets_out,
	       const char *fmt, ...)
{
	struct pbx_bulk_import_opts o = PBX_BULK_IMPORT_OPTS_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_bulk_doc *doc = NULL;
	char *text = NULL;
	va_list ap;
	FILE *f;

	*res = (struct bi_result){ .r = 0 };
	va_start(ap, fmt);
	cr_assert(gt(int, vasprintf(&text, fmt, ap), 0));
	va_end(ap);
	f = fmemopen(text, strlen(text), "r");
	cr_assert_not_null(f);
	res->r = pbx_bulk_parse("t.yaml", f, &doc, &res->diag, &err);
	fclose(f);
	free(text);
	if (res->r < 0)
		return;
	o.dry_run = dry_run;
	o.prune = prune;
	o.secrets_out = secrets_out;
	res->r = pbx_bulk_import(bi_ctx, doc, &o, &res->summary, &res->changes, &res->changed,
				 &res->diag, &err);
	if (res->r < 0 && res->diag.n == 0)
		pbx_diag_add(&res->diag, &err);
	pbx_bulk_doc_free(doc);
}

void bi_free(struct bi_result *res)
{
	if (res->summary.schema)
		pbx_rows_free(&res->summary);
	if (res->changes.schema)
		pbx_rows_free(&res->changes);
	pbx_diag_free(&res->diag);
}

long bi_count(const struct bi_result *res, const char *key)
{
	const char *v = res->summary.n_rows ? pbx_rows_get(&res->summary, 0, key) : NULL;

	cr_assert_not_null(v, "no summary: %s", res->diag.n ? res->diag.items[0].message : "?");
	return strtol(v, NULL, 10);
}

const pbx_error *bi_problem(const struct bi_result *res, const char *needle)
{
	for (size_t i = 0; i < res->diag.n; i++)
		if (strstr(res->diag.items[i].message, needle))
			return &res->diag.items[i];
	for (size_t i = 0; i < res->diag.n; i++)
		fprintf(stderr, "  problem: %s: %s\n", res->diag.items[i].object,
			res->diag.items[i].message);
	return NULL;
}

char *bi_sql(const char *sql, const char *p1, const char *p2)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	const char *p[2] = { p1, p2 };
	int n = p2 ? 2 : p1 ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	char *v;

	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK,
		  "%s: %s", sql, PQerrorMessage(pg));
	v = strdup(PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(pg);
	return v;
}

long bi_sql_long(const char *sql, const char *p1, const char *p2)
{
	char *v = bi_sql(sql, p1, p2);
	long n = strtol(v, NULL, 10);

	free(v);
	return n;
}

static char *slurp(int fd)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t k;

	while ((k = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = '\0';
	return buf;
}

int bi_sh(char **ret_out, char **ret_err, const char *fmt, ...)
{
	int outp[2], errp[2], status;
	char *cmd = NULL, *out, *errs, bin[1024];
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	cr_assert(gt(int, vasprintf(&cmd, fmt, ap), 0));
	va_end(ap);
	snprintf(bin, sizeof(bin), "%s -c %s", getenv("PBXCTL_BIN"), testenv_config_file());
	cr_assert_eq(pipe(outp), 0);
	cr_assert_eq(pipe(errp), 0);
	pid = fork();
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		unsetenv("PBXCTL_CONFIG");
		unsetenv("PBXCTL_TENANT");
		setenv("NO_COLOR", "1", 1);
		setenv("P", bin, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	out = slurp(outp[0]);
	errs = slurp(errp[0]);
	close(outp[0]);
	close(errp[0]);
	waitpid(pid, &status, 0);
	free(cmd);
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	if (ret_err)
		*ret_err = errs;
	else
		free(errs);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *bi_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/pbxctl-bi-XXXXXX.yaml");
	fd = mkstemps(path, 5);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(long, (long)write(fd, text, strlen(text)), (long)strlen(text)));
	close(fd);
	if (n_made < sizeof(made) / sizeof(made[0]))
		snprintf(made[n_made++], sizeof(made[0]), "%s", path);
	return path;
}
