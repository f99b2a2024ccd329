/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the role tests; see roles-itest.h.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roles-itest.h"
#include "testenv.h"

char rt_sqlstate[6];

PGconn *rt_connect(const char *login)
{
	char url[1024];
	PGconn *pg;

	snprintf(url, sizeof(url), "%s%s%s", getenv("PBXCTL_TEST_DATABASE_URL"),
		 login ? " user=" : "", login ? login : "");
	pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK)
		cr_fatal("cannot connect as %s: %s", login ? login : "owner", PQerrorMessage(pg));
	return pg;
}

long rt_exec(PGconn *pg, const char *sql, const char *p1, const char *p2)
{
	const char *p[2] = { p1, p2 };
	int n = p2 ? 2 : p1 ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	long rows = -1;

	rt_sqlstate[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		rows = PQntuples(res);
	else if (PQresultStatus(res) == PGRES_COMMAND_OK)
		rows = strtol(PQcmdTuples(res), NULL, 10);
	else
		snprintf(rt_sqlstate, sizeof(rt_sqlstate), "%s",
			 PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
			 PQresultErrorField(res, PG_DIAG_SQLSTATE) : "?????");
	PQclear(res);
	return rows;
}

char *rt_owner_value(const char *sql, const char *p1)
{
	PGconn *pg = rt_connect(NULL);
	const char *p[1] = { p1 };
	PGresult *res = PQexecParams(pg, sql, p1 ? 1 : 0, NULL, p, NULL, NULL, 0);
	char *v;

	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
	v = strdup(PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(pg);
	return v;
}

/* One value of @sql as the owner on @pg, into @out. */
static void owner_into(PGconn *pg, char *out, size_t n, const char *sql, const char *p1,
		       const char *p2)
{
	const char *p[2] = { p1, p2 };
	PGresult *res = PQexecParams(pg, sql, p2 ? 2 : p1 ? 1 : 0, NULL, p, NULL, NULL, 0);

	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
		  PQerrorMessage(pg));
	if (out)
		snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* A tenant with two users, a device, a DID, a trunk, a policy whose rule uses the trunk,
 * an audit row and an apply job. */
/* A /32 no other test process or world uses (trunk ranges of owners may not overlap). */
static const char *unique_match(void)
{
	static char buf[32];
	static int n;

	n++;
	snprintf(buf, sizeof(buf), "10.%d.%d.%d/32", 64 + ((int)getpid() >> 8 & 127),
		 (int)getpid() & 255, n % 250 + 1);
	return buf;
}

static void tenant_make(PGconn *pg, const char *slug, char *id, char *user, char *user_id,
			char *user2_id, char *trunk, char *trunk_id, char *rule_id, int n)
{
	char num[24], buf[64], policy_id[24];

	owner_into(pg, id, 24, "INSERT INTO tenants (slug, display_name, ext_min, ext_max, ext_next) "
		   "VALUES ($1, $1, 1000, 1999, 1002) RETURNING id", slug, NULL);
	snprintf(user, 40, "%s-u", slug);
	owner_into(pg, user_id, 24, "INSERT INTO users (tenant_id, username, display_name, extension) "
		   "VALUES ($1, $2, 'User', 1000) RETURNING id", id, user);
	snprintf(buf, sizeof(buf), "%s-v", slug);
	owner_into(pg, user2_id, 24, "INSERT INTO users (tenant_id, username, display_name, extension) "
		   "VALUES ($1, $2, 'Other', 1001) RETURNING id", id, buf);
	snprintf(buf, sizeof(buf), "%s-d", slug);
	owner_into(pg, NULL, 0, "INSERT INTO devices (tenant_id, user_id, label, sip_username, "
		   "secret_sealed) SELECT tenant_id, id, 'desk', $2, 'sealed' FROM users WHERE id = $1 "
		   "RETURNING id", user_id, buf);
	snprintf(num, sizeof(num), "+4930%d%05d", n, (int)getpid() % 100000);
	owner_into(pg, NULL, 0, "INSERT INTO dids (tenant_id, number) VALUES ($1, $2) RETURNING id",
		   id, num);
	snprintf(trunk, 40, "%s-k", slug);
	/* Ranges of different owners may not overlap: an address of this world's own. */
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "INSERT INTO trunks (tenant_id, name, host, auth, match) "
			 "VALUES ($1, $2, 'sip.example.com', 'ip_auth', '{%s}') RETURNING id",
			 unique_match());
		owner_into(pg, trunk_id, 24, sql, id, trunk);
	}
	owner_into(pg, policy_id, 24, "INSERT INTO policies (tenant_id, name) VALUES ($1, 'out') "
		   "RETURNING id", id, NULL);
	owner_into(pg, rule_id, 24, "INSERT INTO policy_rules (policy_id, position, pattern, action) "
		   "VALUES ($1, 1, '_X.', 'allow') RETURNING id", policy_id, NULL);
	owner_into(pg, NULL, 0, "INSERT INTO policy_rule_trunks (rule_id, position, trunk_id) "
		   "VALUES ($1, 1, $2) RETURNING rule_id", rule_id, trunk_id);
	owner_into(pg, NULL, 0, "SELECT audit_append('test', $1, 'create', 'tenant', $2, NULL, NULL)",
		   slug, id);
	snprintf(buf, sizeof(buf), "m-%s", slug);
	owner_into(pg, NULL, 0, "INSERT INTO apply_jobs (marker, tenant, source) VALUES ($1, $2, 'test') "
		   "RETURNING id", buf, slug);
}

static void login_make(PGconn *pg, char *login, const char *kind, const char *role,
		       const char *tenant_id, const char *user_id)
{
	static unsigned counter;
	const char *p[4];
	PGresult *res;

	snprintf(login, 40, "%s_%d_%u", kind, (int)getpid(), counter++);
	if (!role) {
		char sql[128];

		/* A login with no mapping (CREATE ROLE takes no parameters; the name is ours). */
		snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", login);
		res = PQexec(pg, sql);
		cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
		PQclear(res);
		return;
	}
	p[0] = login;
	p[1] = role;
	p[2] = tenant_id;
	p[3] = user_id;
	res = PQexecParams(pg, "SELECT login FROM pbx_operator_add($1, $2, $3::bigint, $4::bigint, true)",
			   4, NULL, p, NULL, NULL, 0);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
	PQclear(res);
}

void world_make(struct world *w)
{
	struct pbx_config cfg;
	PGconn *pg;
	char unused[24];

	/* The schema migrated, whichever suite runs first against fresh services. */
	testenv_free(testenv_ctx(&cfg), &cfg);
	pg = rt_connect(NULL);
	memset(w, 0, sizeof(*w));
	snprintf(w->a, sizeof(w->a), "%s", testenv_slug("ra"));
	snprintf(w->b, sizeof(w->b), "%s", testenv_slug("rb"));
	tenant_make(pg, w->a, w->a_id, w->ua, w->ua_id, w->ua2_id, w->trunk_a, unused,
		    w->rule_a_id, 1);
	tenant_make(pg, w->b, w->b_id, w->ub, w->ub_id, unused, w->trunk_b, w->trunk_b_id,
		    unused, 2);
	snprintf(w->trunk_g, sizeof(w->trunk_g), "g-%s", w->a);
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "INSERT INTO trunks (name, host, auth, match) VALUES "
			 "($1, 'sip.example.com', 'ip_auth', '{%s}') RETURNING id", unique_match());
		owner_into(pg, w->trunk_g_id, 24, sql, w->trunk_g, NULL);
	}
	login_make(pg, w->ta, "ta", "tenant_admin", w->a_id, NULL);
	login_make(pg, w->sup, "sup", "support", NULL, NULL);
	login_make(pg, w->sup_a, "supa", "support", w->a_id, NULL);
	login_make(pg, w->eu, "eu", "end_user", NULL, w->ua_id);
	login_make(pg, w->nobody, "nobody", NULL, NULL, NULL);
	PQfinish(pg);
}

void world_drop(const struct world *w)
{
	PGconn *pg = rt_connect(NULL);

	cr_assert(eq(long, rt_exec(pg, "DELETE FROM trunks WHERE name = $1", w->trunk_g, NULL), 1),
		  "%s", rt_sqlstate);
	cr_assert(eq(long, rt_exec(pg, "DELETE FROM tenants WHERE id IN ($1::bigint, $2::bigint)",
				   w->a_id, w->b_id), 2), "%s", rt_sqlstate);
	PQfinish(pg);
}
