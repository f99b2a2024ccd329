/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the role tests: two tenants with a row in every tenant table, and real
 * non-superuser PostgreSQL logins mapped to each role (superusers bypass row-level
 * security, so the operators under test never are). Each test builds its own world with
 * unique names; the private PostgreSQL trusts local logins, so no password is involved.
 */
#ifndef PBX_ROLES_ITEST_H
#define PBX_ROLES_ITEST_H

#include <libpq-fe.h>

struct world {
	char a[32], b[32];          /* tenant slugs */
	char a_id[24], b_id[24];    /* tenant ids */
	char ua[40], ub[40];        /* a user of each ("<slug>-u") */
	char ua_id[24], ub_id[24];
	char ua2_id[24];            /* a second user of a */
	char trunk_a[40], trunk_b[40], trunk_g[40]; /* a's, b's and a global trunk */
	char trunk_b_id[24], trunk_g_id[24];
	char rule_a_id[24];         /* a rule of a's policy */
	char ta[40], sup[40], sup_a[40], eu[40], nobody[40]; /* logins */
};

/* Build a world: tenants, users, devices, DIDs, trunks, policies with rules, audit rows and
 * apply jobs in both tenants, and the five logins (tenant_admin of a, support, support of
 * a, end_user = ua, and one not mapped). */
void world_make(struct world *w);

/* Delete a world's tenants (their operators with them) and its global trunk, for suites
 * that go on applying every tenant. */
void world_drop(const struct world *w);

/* A connection as @login (the test database URL with user=@login); cr_fatal on failure. */
PGconn *rt_connect(const char *login);

/*
 * Run @sql with up to two parameters. Returns the rows returned or affected, or -1 when
 * the statement failed, with its SQLSTATE in rt_sqlstate.
 */
long rt_exec(PGconn *pg, const char *sql, const char *p1, const char *p2);
extern char rt_sqlstate[6];

/* The first value of @sql run as the owner ("" when no row). Caller frees. */
char *rt_owner_value(const char *sql, const char *p1);

#endif
