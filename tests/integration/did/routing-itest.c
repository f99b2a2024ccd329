/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the routing integration tests (routing-itest.h).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "routing-itest.h"
#include "testenv.h"

struct pbx_config it_cfg;
char it_match[80];
pbx_ctx *it_ctx;
static char dir[64];
static char warnings[8192];

static void log_cb(void *ud, enum pbx_log_level level, const char *msg)
{
	size_t n = strlen(warnings);

	(void)ud;
	if (level == PBX_LOG_WARN)
		snprintf(warnings + n, sizeof(warnings) - n, "%s\n", msg);
}

void it_setup(void)
{
	pbx_error err = PBX_ERROR_INIT;

	snprintf(dir, sizeof(dir), "/tmp/pbxctl-routing-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	it_ctx = testenv_ctx(&it_cfg);
	free(it_cfg.key_file);
	it_cfg.key_file = malloc(128);
	snprintf(it_cfg.key_file, 128, "%s/key", dir);
	cr_assert(eq(int, pbx_secret_key_init(it_cfg.key_file, &err), 0), "%s", err.message);
	pbx_ctx_set_log(it_ctx, log_cb, NULL);
	warnings[0] = '\0';
}

void it_cli_key(void)
{
	const char *conf = testenv_config_file();
	char key[300];
	pbx_error err = PBX_ERROR_INIT;

	/* the CLI's key file lives next to its config file */
	snprintf(key, sizeof(key), "%.*s/pbxctl.key", (int)(strrchr(conf, '/') - conf), conf);
	if (access(key, F_OK) != 0)
		cr_assert(eq(int, pbx_secret_key_init(key, &err), 0), "%s", err.message);
}

/* What the tests created, removed again so that no broken state outlives them. */
static char made_tenants[32][32], made_trunks[32][40];
static size_t n_made_tenants, n_made_trunks;

void it_teardown(void)
{
	struct pbx_rows rows;
	pbx_error err;
	char cmd[128];

	for (size_t i = 0; i < n_made_tenants; i++)
		if (pbx_tenant_delete(it_ctx, made_tenants[i], true, &rows, &err) == 0)
			pbx_rows_free(&rows);
	for (size_t i = 0; i < n_made_trunks; i++)
		if (pbx_trunk_delete(it_ctx, made_trunks[i], &rows, &err) == 0)
			pbx_rows_free(&rows);
	n_made_tenants = n_made_trunks = 0;
	testenv_free(it_ctx, &it_cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

const char *it_tenant(const char *prefix)
{
	static char slug[4][32];
	static int k;
	struct pbx_tenant_spec spec = { .extensions = "1000-1999" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	k = (k + 1) % 4;
	snprintf(slug[k], sizeof(slug[k]), "%s", testenv_slug(prefix));
	spec.slug = slug[k];
	cr_assert(eq(int, pbx_tenant_create(it_ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	if (n_made_tenants < sizeof(made_tenants) / sizeof(made_tenants[0]))
		snprintf(made_tenants[n_made_tenants++], sizeof(made_tenants[0]), "%s", slug[k]);
	return slug[k];
}

void it_user(const char *tenant, const char *username, int devices)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	u.username = username;
	u.voicemail = 1;
	cr_assert(eq(int, pbx_user_create(it_ctx, tenant, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	for (int i = 0; i < devices; i++) {
		struct pbx_device_spec d = PBX_DEVICE_SPEC_INIT;
		char label[24];

		snprintf(label, sizeof(label), "phone %d", i);
		d.label = label;
		cr_assert(eq(int, pbx_device_create(it_ctx, tenant, username, &d, &rows, &err), 0),
			  "%s", err.message);
		pbx_device_rows_free(&rows);
	}
}

const char *it_name(const char *prefix)
{
	static char name[4][40];
	static int k, counter;

	k = (k + 1) % 4;
	snprintf(name[k], sizeof(name[k]), "%.6s%d-%d", prefix, (int)getpid() % 100000, counter++);
	return name[k];
}

void it_trunk_global(const char *name)
{
	struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.name = name;
	s.global = 1;
	s.host = "sip.carrier.example";
	s.auth = "registration";
	s.username = "4930123";
	s.secret = "carrier-secret-1";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), 0), "%s", err.message);
	pbx_trunk_rows_free(&rows);
	if (n_made_trunks < sizeof(made_trunks) / sizeof(made_trunks[0]))
		snprintf(made_trunks[n_made_trunks++], sizeof(made_trunks[0]), "%s", name);
}

void it_trunk_tenant(const char *tenant, const char *name)
{
	struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.name = name;
	s.tenant = tenant;
	static unsigned counter;
	unsigned pid = (unsigned)getpid();

	/* Ranges of different owners may not overlap: each trunk has addresses of its own. */
	snprintf(it_match, sizeof(it_match), "10.%u.%u.%u,2001:db8:%x:%x::/64", pid >> 8 & 255,
		 pid & 255, counter % 250 + 1, pid & 0xffff, counter);
	counter++;
	s.host = "203.0.113.10";
	s.auth = "ip_auth";
	s.match = it_match;
	s.callerid_mode = "force";
	s.callerid = "+4930123000";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), 0), "%s", err.message);
	pbx_trunk_rows_free(&rows);
}

const char *it_warnings(void)
{
	static char copy[sizeof(warnings)];

	memcpy(copy, warnings, sizeof(copy));
	warnings[0] = '\0';
	return copy;
}

char *it_pg1(const char *sql, const char *param)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	const char *p[1] = { param };
	PGresult *res = PQexecParams(pg, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
	char *v;

	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
	v = strdup(PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(pg);
	return v;
}

void it_pg_exec(const char *sql, const char *param)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	const char *p[1] = { param };
	PGresult *res = PQexecParams(pg, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);

	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
		  "%s", PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
}

char *it_my1(const char *sql, const char *param)
{
	MYSQL *m = mysql_init(NULL);
	MYSQL_STMT *st;
	MYSQL_BIND in = { 0 }, out = { 0 };
	char buf[1024] = "";
	unsigned long len = 0, plen = param ? strlen(param) : 0;
	my_bool is_null = 0;
	char *v;

	cr_assert_not_null(mysql_real_connect(m, NULL, getenv("PBXCTL_TEST_MARIADB_USER"),
					      getenv("PBXCTL_TEST_MARIADB_PASSWORD"),
					      getenv("PBXCTL_TEST_MARIADB_DATABASE"), 0,
					      getenv("PBXCTL_TEST_MARIADB_SOCKET"), 0),
			   "%s", mysql_error(m));
	st = mysql_stmt_init(m);
	cr_assert(eq(int, mysql_stmt_prepare(st, sql, strlen(sql)), 0), "%s", mysql_error(m));
	if (param) {
		in.buffer_type = MYSQL_TYPE_STRING;
		in.buffer = (void *)param;
		in.buffer_length = plen;
		in.length = &plen;
		cr_assert(eq(int, mysql_stmt_bind_param(st, &in), 0));
	}
	cr_assert(eq(int, mysql_stmt_execute(st), 0), "%s", mysql_stmt_error(st));
	out.buffer_type = MYSQL_TYPE_STRING;
	out.buffer = buf;
	out.buffer_length = sizeof(buf) - 1;
	out.length = &len;
	out.is_null = &is_null;
	cr_assert(eq(int, mysql_stmt_bind_result(st, &out), 0));
	if (mysql_stmt_fetch(st) == 0 && !is_null)
		buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
	else
		buf[0] = '\0';
	v = strdup(buf);
	mysql_stmt_close(st);
	mysql_close(m);
	return v;
}
