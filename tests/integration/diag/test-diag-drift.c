/* SPDX-License-Identifier: MIT */
/*
 * diag drift against the real services and the AMI peer: a clean apply has no drift; a file
 * edited by hand, a row written behind pbxctl's back and a context Asterisk dropped are each
 * named; drift changes nothing (files, rows, no Reload sent); a bad tenant is refused.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/diag.h"
#include "diag-itest.h"
#include "testenv.h"

static struct diag_env env;

static void setup(void)
{
	struct pbx_apply_opts o = { 0 };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	diag_env_setup(&env);
	diag_add_user(&env, "alice", 1);
	o.tenant = env.slug;
	cr_assert(eq(int, pbx_apply(env.ctx, &o, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
}

static void teardown(void)
{
	diag_env_teardown(&env);
}

TestSuite(diag_drift, .init = setup, .fini = teardown, .timeout = 60);

static void drift(struct pbx_rows *rows)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_diag_drift(env.ctx, env.slug, rows, &err), 0), "%s", err.message);
}

/* The row of @kind in @rows whose object contains @object, or -1. */
static long find(const struct pbx_rows *rows, const char *kind, const char *object)
{
	for (size_t i = 0; i < rows->n_rows; i++)
		if (!strcmp(pbx_rows_get(rows, i, "kind"), kind) &&
		    strstr(pbx_rows_get(rows, i, "object"), object))
			return (long)i;
	return -1;
}

static char *tenant_file(void)
{
	static char path[600];

	snprintf(path, sizeof(path), "%s/%s.conf", env.site.peer.dialplan, env.slug);
	return path;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	return buf;
}

static MYSQL *raw(void)
{
	MYSQL *m = mysql_init(NULL);

	cr_assert_not_null(m);
	if (!mysql_real_connect(m, "localhost", env.cfg.rt_user, env.cfg.rt_password,
				env.cfg.rt_database, 0, env.cfg.rt_socket, 0))
		cr_fatal("raw connect: %s", mysql_error(m));
	mysql_autocommit(m, 1);
	return m;
}

Test(diag_drift, a_clean_apply_has_no_drift)
{
	struct pbx_rows rows;
	char *out = NULL, *errs = NULL;

	drift(&rows);
	cr_assert(eq(sz, rows.n_rows, 0), "first: %s %s", rows.n_rows ? pbx_rows_get(&rows, 0, "object") : "",
		  rows.n_rows ? pbx_rows_get(&rows, 0, "difference") : "");
	pbx_rows_free(&rows);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "drift", "--tenant", env.slug,
				   "-o", "json", NULL), 0), "%s", errs);
	cr_assert(eq(str, out, "[]\n"));
	free(out);
	free(errs);
}

Test(diag_drift, names_a_file_edited_by_hand_and_changes_nothing)
{
	char *before, *after, *out = NULL, *errs = NULL;
	struct pbx_rows rows;
	int reloads = peer_count(&env.site.peer, "Reload");
	FILE *f;
	long i;

	f = fopen(tenant_file(), "a");
	cr_assert_not_null(f);
	fputs("exten => 999,1,Hangup()\n", f);
	fclose(f);
	before = slurp(tenant_file());
	drift(&rows);
	i = find(&rows, "file", tenant_file());
	cr_assert(ge(long, i, 0), "the edited file is not named");
	cr_assert(strstr(pbx_rows_get(&rows, (size_t)i, "difference"), "differs") != NULL);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, (size_t)i, "tenant"), env.slug));
	pbx_rows_free(&rows);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "drift", "--tenant", env.slug, NULL), 1),
		  "%s", errs);
	cr_assert(strstr(out, tenant_file()) != NULL, "%s", out);
	free(out);
	free(errs);
	after = slurp(tenant_file());
	cr_assert(eq(str, after, before), "drift changed the file");
	cr_assert(eq(int, peer_count(&env.site.peer, "Reload"), reloads), "drift reloaded Asterisk");
	free(before);
	free(after);
}

Test(diag_drift, names_a_row_written_behind_pbxctls_back)
{
	const char *id = diag_sip_username(&env, "alice", "phone 0");
	char sql[256];
	struct pbx_rows rows;
	MYSQL *m = raw();
	long i;

	snprintf(sql, sizeof(sql), "UPDATE ps_aors SET max_contacts = 5 WHERE id = '%s'", id);
	cr_assert(eq(int, mysql_query(m, sql), 0), "%s", mysql_error(m));
	drift(&rows);
	i = find(&rows, "row", id);
	cr_assert(ge(long, i, 0), "the changed row is not named");
	cr_assert(strstr(pbx_rows_get(&rows, (size_t)i, "object"), "ps_aors/") != NULL);
	cr_assert(strstr(pbx_rows_get(&rows, (size_t)i, "difference"), "max_contacts") != NULL,
		  "%s", pbx_rows_get(&rows, (size_t)i, "difference"));
	pbx_rows_free(&rows);
	/* nothing was repaired */
	snprintf(sql, sizeof(sql), "SELECT max_contacts FROM ps_aors WHERE id = '%s' AND max_contacts = 5", id);
	cr_assert(eq(int, mysql_query(m, sql), 0));
	{
		MYSQL_RES *res = mysql_store_result(m);

		cr_assert(eq(int, (int)mysql_num_rows(res), 1));
		mysql_free_result(res);
	}
	mysql_close(m);
}

Test(diag_drift, names_a_context_asterisk_dropped)
{
	struct pbx_ami_config ac = peer_config(&env.site.peer, 2000);
	char *good = slurp(tenant_file()), *broken;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	/* Asterisk reloads a broken copy and drops the tenant's contexts; then the good file
	 * is back on disk, but Asterisk was not reloaded: it runs without them. */
	broken = strdup(good);
	*strchr(strstr(broken, "\n[") + 1, ']') = ' ';
	write_text(tenant_file(), broken);
	cr_assert(eq(int, pbx_ami_connect(&ac, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	pbx_ami_close(ami);
	write_text(tenant_file(), good);
	drift(&rows);
	cr_assert(eq(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "kind"), "asterisk"));
	cr_assert(strstr(pbx_rows_get(&rows, 0, "difference"), "did not load") != NULL, "%s",
		  pbx_rows_get(&rows, 0, "difference"));
	pbx_rows_free(&rows);
	free(good);
	free(broken);
}

Test(diag_drift, names_lines_asterisk_skipped)
{
	struct pbx_ami_config ac = peer_config(&env.site.peer, 2000);
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_control(&env.site.peer, "skip-line Hangup\n");
	cr_assert(eq(int, pbx_ami_connect(&ac, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	pbx_ami_close(ami);
	drift(&rows);
	cr_assert(ge(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "kind"), "asterisk"));
	cr_assert(strstr(pbx_rows_get(&rows, 0, "difference"), "lines were skipped") != NULL, "%s",
		  pbx_rows_get(&rows, 0, "difference"));
	pbx_rows_free(&rows);
}

Test(diag_drift, refuses_a_bad_tenant)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char *out = NULL, *errs = NULL;

	cr_assert(eq(int, pbx_diag_drift(env.ctx, "Not A Slug", &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "tenant"));
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "drift", "--tenant", "Not A Slug", NULL),
		     3), "%s", errs);
	cr_assert(strstr(errs, "not a valid slug") != NULL, "%s", errs);
	free(out);
	free(errs);
}
