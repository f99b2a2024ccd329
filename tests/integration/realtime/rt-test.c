/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the realtime integration tests; see rt-test.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "rt-test.h"

static const char *need(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		cr_fatal("%s is not set: start the test services (scripts/services start DIR) and "
			 "source DIR/env", name);
	return v;
}

struct pbx_realtime_config rt_test_config(void)
{
	return (struct pbx_realtime_config){
		.socket = need("PBXCTL_TEST_MARIADB_SOCKET"),
		.user = need("PBXCTL_TEST_MARIADB_USER"),
		.password = getenv("PBXCTL_TEST_MARIADB_PASSWORD"),
		.database = need("PBXCTL_TEST_MARIADB_DATABASE"),
		.timeout_ms = 10000,
	};
}

pbx_realtime *rt_test_connect(void)
{
	struct pbx_realtime_config cfg = rt_test_config();
	pbx_realtime *rt = NULL;
	pbx_error err = PBX_ERROR_INIT;

	if (pbx_realtime_connect(&cfg, &rt, &err) < 0)
		cr_fatal("connect: %s (%s)", err.message, err.detail);
	if (pbx_realtime_migrate(rt, &err) < 0)
		cr_fatal("migrate: %s (%s)", err.message, err.detail);
	return rt;
}

MYSQL *rt_test_raw(void)
{
	struct pbx_realtime_config cfg = rt_test_config();
	MYSQL *m = mysql_init(NULL);

	cr_assert(m != NULL);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(m, "localhost", cfg.user, cfg.password, cfg.database, 0,
				cfg.socket, 0))
		cr_fatal("raw connect to %s: %s", cfg.socket, mysql_error(m));
	mysql_autocommit(m, 1);
	return m;
}

static MYSQL_STMT *run(MYSQL *m, const char *sql, const char *const *params, size_t n,
		       unsigned *ret_errno)
{
	MYSQL_STMT *st = mysql_stmt_init(m);
	MYSQL_BIND bind[16];
	unsigned long len[16];
	my_bool null_flag[16];

	cr_assert(st != NULL && n <= 16);
	memset(bind, 0, sizeof(bind));
	for (size_t i = 0; i < n; i++) {
		null_flag[i] = params[i] == NULL;
		len[i] = params[i] ? strlen(params[i]) : 0;
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = (void *)params[i];
		bind[i].buffer_length = len[i];
		bind[i].length = &len[i];
		bind[i].is_null = &null_flag[i];
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0 ||
	    (n && mysql_stmt_bind_param(st, bind) != 0) || mysql_stmt_execute(st) != 0) {
		*ret_errno = mysql_stmt_errno(st);
		if (!*ret_errno)
			*ret_errno = 1;
		return st;
	}
	*ret_errno = 0;
	return st;
}

unsigned rt_test_try(MYSQL *m, const char *sql, const char *const *params, size_t n)
{
	unsigned e;
	MYSQL_STMT *st = run(m, sql, params, n, &e);

	mysql_stmt_close(st);
	return e;
}

void rt_test_exec(MYSQL *m, const char *sql, const char *const *params, size_t n)
{
	unsigned e;
	MYSQL_STMT *st = run(m, sql, params, n, &e);

	cr_assert(eq(u32, e, 0), "%s: %s", sql, mysql_stmt_error(st));
	mysql_stmt_close(st);
}

char *rt_test_query(MYSQL *m, const char *sql, const char *const *params, size_t n)
{
	unsigned e;
	MYSQL_STMT *st = run(m, sql, params, n, &e);
	MYSQL_RES *meta;
	MYSQL_BIND bind[256];
	char *buf[256];
	unsigned long len[256];
	my_bool null_flag[256];
	unsigned nf;
	char *out = NULL;
	size_t size = 0;
	FILE *f;

	cr_assert(eq(u32, e, 0), "%s: %s", sql, mysql_stmt_error(st));
	meta = mysql_stmt_result_metadata(st);
	cr_assert(meta != NULL, "%s returns no rows", sql);
	nf = mysql_num_fields(meta);
	cr_assert(nf <= 256);
	memset(bind, 0, sizeof(bind));
	for (unsigned i = 0; i < nf; i++) {
		buf[i] = malloc(8193);
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = buf[i];
		bind[i].buffer_length = 8192;
		bind[i].length = &len[i];
		bind[i].is_null = &null_flag[i];
	}
	cr_assert(eq(int, mysql_stmt_bind_result(st, bind), 0));
	f = open_memstream(&out, &size);
	for (;;) {
		int r = mysql_stmt_fetch(st);

		if (r == MYSQL_NO_DATA)
			break;
		cr_assert(eq(int, r, 0), "fetch: %s", mysql_stmt_error(st));
		for (unsigned i = 0; i < nf; i++) {
			if (i)
				fputc('|', f);
			if (null_flag[i])
				fputs("NULL", f);
			else
				fwrite(buf[i], 1, len[i], f);
		}
		fputc('\n', f);
	}
	fclose(f);
	for (unsigned i = 0; i < nf; i++)
		free(buf[i]);
	mysql_free_result(meta);
	mysql_stmt_close(st);
	return out;
}

void rt_test_slug(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s-%ld", name, (long)getpid());
	cr_assert(strlen(buf) <= 24, "slug %s too long", buf);
}

void rt_test_clean(MYSQL *m, const char *slug)
{
	char like[64];
	const char *p[] = { like };

	snprintf(like, sizeof(like), "%s-%%", slug);
	rt_test_exec(m, "DELETE FROM ps_endpoints WHERE id LIKE ?", p, 1);
	rt_test_exec(m, "DELETE FROM ps_auths WHERE id LIKE ?", p, 1);
	rt_test_exec(m, "DELETE FROM ps_aors WHERE id LIKE ?", p, 1);
	rt_test_exec(m, "DELETE FROM pbxctl_realtime_rows WHERE id LIKE ?", p, 1);
}

/* Every row of @slug's devices in the three tables plus its ownership records. */
char *rt_test_tenant_state(MYSQL *m, const char *slug)
{
	char like[64], *out = NULL, *part;
	const char *p[] = { like };
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	snprintf(like, sizeof(like), "%s-%%", slug);
	part = rt_test_query(m, "SELECT * FROM ps_endpoints WHERE id LIKE ? ORDER BY id", p, 1);
	fputs(part, f);
	free(part);
	part = rt_test_query(m, "SELECT * FROM ps_auths WHERE id LIKE ? ORDER BY id", p, 1);
	fputs(part, f);
	free(part);
	part = rt_test_query(m, "SELECT * FROM ps_aors WHERE id LIKE ? ORDER BY id", p, 1);
	fputs(part, f);
	free(part);
	part = rt_test_query(m, "SELECT tbl, id, owner FROM pbxctl_realtime_rows WHERE id LIKE ?"
			     " ORDER BY tbl, id", p, 1);
	fputs(part, f);
	free(part);
	fclose(f);
	return out;
}
