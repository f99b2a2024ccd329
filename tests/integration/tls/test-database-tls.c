/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL and MariaDB over TLS, through the pbxctl binary, against the TCP+TLS listeners
 * scripts/services opens with its throw-away CA (PBXCTL_SERVICES_TLS=1, set by scripts/test):
 * database.sslmode verify-full with database.sslrootcert, and realtime.ssl_ca with
 * realtime.ssl_verify, work with the CA that signed the servers' certificates and are
 * refused, with one line naming TLS and the reason and exit status 7, with another CA.
 * The tests fail, never skip, when the listeners are missing.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testenv.h"

static const char *need(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v && *v, "%s is not set: run the tests through scripts/test (which starts the "
		  "services with PBXCTL_SERVICES_TLS=1)", name);
	return v;
}

/* A pbxctl.conf reaching both servers over TCP+TLS: PostgreSQL trusting @pg_ca, MariaDB
 * trusting @rt_ca (files of the test CA directory). */
static const char *tls_config(const char *pg_ca, const char *rt_ca)
{
	static char path[256];
	const char *dir = need("PBXCTL_TEST_TLS_DIR");
	char tmp[] = "/tmp/pbxctl-tls-conf-XXXXXX";
	FILE *f;

	cr_assert(mkdtemp(tmp) != NULL);
	snprintf(path, sizeof(path), "%s/pbxctl.conf", tmp);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fprintf(f,
		"database:\n"
		"  url: \"host=localhost port=%s dbname=pbxctl_test user=pbxctl\"\n"
		"  sslmode: verify-full\n"
		"  sslrootcert: %s/%s\n"
		"realtime:\n"
		"  host: 127.0.0.1\n"
		"  port: %s\n"
		"  user: %s\n"
		"  password: %s\n"
		"  database: %s\n"
		"  ssl_ca: %s/%s\n"
		"  ssl_verify: true\n",
		need("PBXCTL_TEST_PG_TLS_PORT"), dir, pg_ca, need("PBXCTL_TEST_MARIADB_TLS_PORT"),
		need("PBXCTL_TEST_MARIADB_USER"), need("PBXCTL_TEST_MARIADB_PASSWORD"),
		need("PBXCTL_TEST_MARIADB_DATABASE"), dir, rt_ca);
	cr_assert(eq(int, fclose(f), 0));
	return path;
}

static int run(const char *conf, char **err, const char *a1, const char *a2, const char *a3)
{
	char *out = NULL;
	int status = testenv_run(&out, err, "-c", conf, a1, a2, a3, NULL);

	free(out);
	return status;
}

Test(database_tls, postgresql_verify_full_with_the_test_ca_works)
{
	char conninfo[512], *err = NULL;
	PGconn *pg;
	PGresult *res;

	cr_assert(eq(int, run(tls_config("ca.pem", "ca.pem"), &err, "db", "migrate", NULL), 0), "%s", err);
	free(err);
	/* The server really speaks TLS on that port: the session is encrypted. */
	snprintf(conninfo, sizeof(conninfo), "host=localhost port=%s dbname=pbxctl_test "
		 "user=pbxctl sslmode=verify-full sslrootcert=%s/ca.pem",
		 need("PBXCTL_TEST_PG_TLS_PORT"), need("PBXCTL_TEST_TLS_DIR"));
	pg = PQconnectdb(conninfo);
	cr_assert(eq(int, PQstatus(pg), CONNECTION_OK), "%s", PQerrorMessage(pg));
	res = PQexec(pg, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
	cr_assert(eq(str, PQgetvalue(res, 0, 0), "t"));
	PQclear(res);
	PQfinish(pg);
}

Test(database_tls, postgresql_refuses_a_certificate_from_another_ca)
{
	char *err = NULL;

	cr_assert(eq(int, run(tls_config("other-ca.pem", "ca.pem"), &err, "db", "migrate", NULL), 7));
	cr_assert(strstr(err, "pbxctl: postgresql at localhost:") == err, "%s", err);
	cr_assert(strstr(err, ": TLS failed: ") != NULL, "%s", err);
	cr_assert(strstr(err, "certificate verify failed") != NULL, "%s", err);
	cr_assert(eq(int, (int)(strchr(err, '\n') - err), (int)strlen(err) - 1), "one line: %s", err);
	free(err);
}

Test(database_tls, mariadb_with_the_test_ca_works)
{
	char *err = NULL;

	cr_assert(eq(int, run(tls_config("ca.pem", "ca.pem"), &err, "db", "migrate", "--realtime"), 0), "%s",
		  err);
	free(err);
}

Test(database_tls, mariadb_refuses_a_certificate_from_another_ca)
{
	char *err = NULL;

	/* PostgreSQL trusts the right CA here, so the refusal is MariaDB's alone. */
	const char *conf = tls_config("ca.pem", "other-ca.pem");

	cr_assert(eq(int, run(conf, &err, "db", "migrate", "--realtime"), 7), "%s", err);
	cr_assert(strstr(err, "mariadb at 127.0.0.1:") != NULL, "%s", err);
	cr_assert(strstr(err, ": TLS failed: ") != NULL, "%s", err);
	cr_assert(eq(int, (int)(strchr(err, '\n') - err), (int)strlen(err) - 1), "one line: %s", err);
	free(err);
}
