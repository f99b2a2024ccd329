/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up for the privileged-side tests; see privtest.h.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privtest.h"
#include "testenv.h"

static const char *need(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		cr_fatal("%s is not set: run the tests through scripts/test", name);
	return v;
}

const char *pt_path(const struct privtest *pt, const char *name)
{
	static char buf[4][320];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", pt->site.dir, name);
	return buf[k];
}

static void write_conf(const struct privtest *pt, const char *path, const char *key, bool ami,
		       const char *dialplan)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "database:\n  url: \"%s\"\nrealtime:\n  socket: \"%s\"\n  user: \"%s\"\n"
		   "  password: \"%s\"\n  database: \"%s\"\nasterisk:\n  config_dir: \"%s\"\n"
		   "  voicemail_dir: \"%s/vm\"\n  backup_dir: \"%s/backup\"\n"
		   "secrets:\n  key_file: \"%s\"\n",
		pt->url, need("PBXCTL_TEST_MARIADB_SOCKET"), need("PBXCTL_TEST_MARIADB_USER"),
		need("PBXCTL_TEST_MARIADB_PASSWORD"), need("PBXCTL_TEST_MARIADB_DATABASE"),
		dialplan, pt->site.dir, pt->site.dir, key);
	if (ami && pt->site.peer.port)
		fprintf(f, "ami:\n  host: \"127.0.0.1\"\n  port: %d\n  username: pbxctl\n"
			   "  secret: secret\n  timeout: 2\n", pt->site.peer.port);
	fclose(f);
}

void pt_setup(struct privtest *pt, bool peer)
{
	pt_setup_peer(pt, peer, NULL);
}

void pt_setup_peer(struct privtest *pt, bool peer, const char *const *peer_extra)
{
	static unsigned counter;
	char sql[128], *out = NULL, *err = NULL;
	PGconn *admin;
	PGresult *res;
	int st;

	*pt = (struct privtest){ .pg = NULL };
	testenv_site_open(&pt->site, "priv", peer, peer_extra);
	snprintf(pt->db, sizeof(pt->db), "pbxctl_priv_%d_%u", (int)getpid(), counter++);
	admin = PQconnectdb(need("PBXCTL_TEST_DATABASE_URL"));
	cr_assert(eq(int, PQstatus(admin), CONNECTION_OK), "%s", PQerrorMessage(admin));
	/* An identifier cannot be a parameter; this one is made of digits and letters above. */
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pt->db);
	res = PQexec(admin, sql);
	cr_assert(eq(int, PQresultStatus(res), PGRES_COMMAND_OK), "%s", PQerrorMessage(admin));
	PQclear(res);
	PQfinish(admin);
	/* The same conninfo with our dbname in place of its own. */
	{
		const char *base = need("PBXCTL_TEST_DATABASE_URL"), *d = strstr(base, "dbname=");
		size_t head = d ? (size_t)(d - base) : strlen(base);
		const char *tail = d ? d + strcspn(d, " ") : "";

		snprintf(pt->url, sizeof(pt->url), "%.*s dbname=%s %s", (int)head, base, pt->db,
			 tail);
	}
	snprintf(pt->key, sizeof(pt->key), "%s", pt_path(pt, "pbxctl.key"));
	snprintf(pt->priv_conf, sizeof(pt->priv_conf), "%s", pt_path(pt, "priv.conf"));
	snprintf(pt->op_conf, sizeof(pt->op_conf), "%s", pt_path(pt, "op.conf"));
	snprintf(pt->dialplan, sizeof(pt->dialplan), "%s", peer ? pt->site.peer.dialplan :
		 pt_path(pt, "dp"));
	write_conf(pt, pt->priv_conf, pt->key, true, pt->dialplan);
	write_conf(pt, pt->op_conf, pt_path(pt, "no-such.key"), false, pt->dialplan);
	st = testenv_run_conf(pt->priv_conf, NULL, &out, &err, "db", "migrate",
			      peer ? "--realtime" : NULL, NULL);
	cr_assert(eq(int, st, 0), "db migrate: %s", err);
	free(out);
	free(err);
	pt->pg = PQconnectdb(pt->url);
	cr_assert(eq(int, PQstatus(pt->pg), CONNECTION_OK), "%s", PQerrorMessage(pt->pg));
}

void pt_teardown(struct privtest *pt)
{
	char sql[128];
	PGconn *admin;

	if (pt->pg)
		PQfinish(pt->pg);
	admin = PQconnectdb(need("PBXCTL_TEST_DATABASE_URL"));
	if (PQstatus(admin) == CONNECTION_OK) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", pt->db);
		PQclear(PQexec(admin, sql));
	}
	PQfinish(admin);
	testenv_site_close(&pt->site);
}

char *pt_sql(struct privtest *pt, const char *sql, ...)
{
	const char *p[8];
	int n = 0;
	va_list ap;
	PGresult *res;
	char *v;

	va_start(ap, sql);
	for (const char *a = va_arg(ap, const char *); a && n < 8; a = va_arg(ap, const char *))
		p[n++] = a;
	va_end(ap);
	res = PQexecParams(pt->pg, sql, n, NULL, p, NULL, NULL, 0);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK,
		  "%s: %s", sql, PQerrorMessage(pt->pg));
	v = strdup(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
		   !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return v;
}

char *pt_json_str(const char *json, const char *key)
{
	char pat[128];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	if (!(p = strstr(json, pat))) {
		snprintf(pat, sizeof(pat), "\"%s\":\"", key);
		if (!(p = strstr(json, pat)))
			return NULL;
	}
	p += strlen(pat);
	if (!(e = strchr(p, '"')))
		return NULL;
	return strndup(p, (size_t)(e - p));
}
