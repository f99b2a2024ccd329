/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the user and device integration tests; see user-test.h.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "testenv.h"
#include "user-test.h"

struct pbx_config ut_cfg;
pbx_ctx *ut_ctx;
char ut_key_path[256];

void ut_setup(void)
{
	char dir[] = "/tmp/pbxctl-ut-XXXXXX";
	pbx_error err = PBX_ERROR_INIT;

	ut_ctx = testenv_ctx(&ut_cfg);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(ut_key_path, sizeof(ut_key_path), "%s/pbxctl.key", dir);
	cr_assert(eq(int, pbx_secret_key_init(ut_key_path, &err), 0), "%s", err.message);
	/* The context reads the key file lazily, from this configuration. */
	free(ut_cfg.key_file);
	ut_cfg.key_file = strdup(ut_key_path);
}

void ut_teardown(void)
{
	testenv_free(ut_ctx, &ut_cfg);
}

void ut_tenant(char slug[32], const char *prefix, const char *range)
{
	struct pbx_tenant_spec spec = { .name = "Test Co", .extensions = range };
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;

	snprintf(slug, 32, "%s", testenv_slug(prefix));
	spec.slug = slug;
	cr_assert(eq(int, pbx_tenant_create(ut_ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

void ut_user(const char *tenant, const char *username, const char *ext, char ret_ext[16])
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;

	spec.username = username;
	spec.extension = ext;
	cr_assert(eq(int, pbx_user_create(ut_ctx, tenant, &spec, &rows, &err), 0),
		  "create %s: %s", username, err.message);
	if (ret_ext)
		snprintf(ret_ext, 16, "%s", pbx_rows_get(&rows, 0, "extension"));
	pbx_rows_free(&rows);
}

void ut_device(const char *tenant, const char *user, const char *label, char ret_secret[64])
{
	struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;

	spec.label = label;
	cr_assert(eq(int, pbx_device_create(ut_ctx, tenant, user, &spec, &rows, &err), 0),
		  "device %s: %s", label, err.message);
	if (ret_secret)
		snprintf(ret_secret, 64, "%s", pbx_rows_get(&rows, 0, "secret"));
	pbx_device_rows_free(&rows);
}

char *ut_sql(const char *sql, const char *p1, const char *p2)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	const char *p[2] = { p1, p2 };
	int n = strstr(sql, "$2") ? 2 : strstr(sql, "$1") ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	char *v;

	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK,
		  "%s", PQerrorMessage(pg));
	v = strdup(PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(pg);
	return v;
}

long ut_audit_count(const char *tenant, const char *action)
{
	char *v = ut_sql("SELECT count(*) FROM audit_log WHERE tenant = $1 "
			 "AND ($2::text IS NULL OR action = $2)", tenant, action ? action : NULL);
	long n = strtol(v, NULL, 10);

	free(v);
	return n;
}
