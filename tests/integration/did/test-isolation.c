/* SPDX-License-Identifier: MIT */
/*
 * Inputs of one owner that used to cross into another's Asterisk objects, through the built
 * pbxctl: two owners' objects with one Asterisk id (refused at create, whatever owner came
 * first), an ip_auth trunk whose address range is too wide or overlaps another owner's, and
 * display names too long for a caller ID (accepted, and applied cut on a UTF-8 boundary).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routing-itest.h"
#include "testenv.h"

static void setup(void)
{
	it_setup();
	it_cli_key();
}

TestSuite(isolation, .init = setup, .fini = it_teardown, .timeout = 90);

/* testenv_run with the terminating NULL added. */
#define run(out, err, ...) testenv_run(out, err, __VA_ARGS__, (char *)NULL)

/* Run pbxctl, expect @status, and keep stderr in @msg (static). */
static const char *expect(int status, const char *const *argv)
{
	static char msg[1024];
	char *out, *err;
	int r = testenv_run(&out, &err, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5],
			    argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], argv[12],
			    (char *)NULL);

	snprintf(msg, sizeof(msg), "%s", err);
	cr_assert(eq(int, r, status), "pbxctl %s %s %s: %s%s", argv[0], argv[1], argv[2], out, err);
	free(out);
	free(err);
	return msg;
}

#define EXPECT(status, ...) expect(status, (const char *const[]){ __VA_ARGS__, NULL, NULL, \
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL })

/* Remove tenant @slug, made here outside it_tenant; quiet when it does not exist. */
static void drop_tenant(const char *slug)
{
	char *out, *err;

	(void)run(&out, &err, "tenant", "delete", slug, "--force");
	free(out);
	free(err);
}

/* The case: tenant "trunk" with trunk x, then a global trunk "trunk-x". */
Test(isolation, tenant_trunk_and_global_trunk_cannot_share_an_endpoint_id)
{
	char name[40], global[48], ep[64];
	const char *msg;

	snprintf(name, sizeof(name), "x%d", (int)getpid() % 100000);
	snprintf(global, sizeof(global), "trunk-%s", name);
	snprintf(ep, sizeof(ep), "trunk-trunk-%s", name);
	drop_tenant("trunk");
	EXPECT(0, "tenant", "create", "trunk", "--extensions", "1000-1999");
	EXPECT(0, "trunk", "create", name, "--tenant", "trunk", "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "198.51.100.7");
	msg = EXPECT(5, "trunk", "create", global, "--global", "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", "198.51.100.8");
	cr_assert_not_null(strstr(msg, ep), "the error names the id: %s", msg);
	cr_assert_not_null(strstr(msg, "trunk " ), "%s", msg);
	{
		char *n = it_pg1("SELECT count(*) FROM trunks WHERE name = $1", global);

		cr_assert(eq(str, n, "0"), "nothing was written");
		free(n);
	}
	/* the other order: the global trunk first, then the tenant's */
	EXPECT(0, "trunk", "delete", name);
	EXPECT(0, "trunk", "create", global, "--global", "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "198.51.100.8");
	msg = EXPECT(5, "trunk", "create", name, "--tenant", "trunk", "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", "198.51.100.7");
	cr_assert_not_null(strstr(msg, ep), "%s", msg);
	EXPECT(0, "trunk", "delete", global);
	drop_tenant("trunk");
}

/* Tenant a with trunk "b-trunk-c" and tenant "a-trunk-b" with trunk "c". */
Test(isolation, prefix_tenants_cannot_share_an_endpoint_id)
{
	char a[32], ab[40], name1[40], name2[40];
	const char *msg;

	snprintf(a, sizeof(a), "%s", it_tenant("px"));
	snprintf(ab, sizeof(ab), "%s-trunk-b", a);
	snprintf(name1, sizeof(name1), "b-trunk-c%d", (int)getpid() % 100000);
	snprintf(name2, sizeof(name2), "c%d", (int)getpid() % 100000);
	drop_tenant(ab);
	EXPECT(0, "tenant", "create", ab, "--extensions", "2000-2999");
	EXPECT(0, "trunk", "create", name1, "--tenant", a, "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "198.51.100.9");
	msg = EXPECT(5, "trunk", "create", name2, "--tenant", ab, "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", "198.51.100.10");
	cr_assert_not_null(strstr(msg, "already used by another device or trunk"), "%s", msg);
	drop_tenant(ab);
}

/* A device of tenant "<a>-trunk" is "<a>-trunk-<12>": tenant <a> cannot name a trunk <12>. */
Test(isolation, trunk_cannot_take_a_device_id)
{
	char a[32], at[40], sipu[64];
	char *id;
	const char *msg;

	snprintf(a, sizeof(a), "%s", it_tenant("dv"));
	snprintf(at, sizeof(at), "%s-trunk", a);
	drop_tenant(at);
	EXPECT(0, "tenant", "create", at, "--extensions", "3000-3999");
	it_user(at, "bob", 1);
	/* a random tail may start with a digit, which no trunk name can: pick one that does not
	 * (and see the registry follow a changed id) */
	snprintf(sipu, sizeof(sipu), "%s-abcdefghijkm", at);
	it_pg_exec("UPDATE devices SET sip_username = $1 WHERE tenant_id = (SELECT id FROM tenants "
		   "WHERE slug = split_part($1, '-abc', 1))", sipu);
	id = it_pg1("SELECT id FROM asterisk_ids WHERE device_id IS NOT NULL AND id = $1", sipu);
	cr_assert(eq(str, id, sipu), "the registry follows the device's id");
	free(id);
	snprintf(sipu, sizeof(sipu), "abcdefghijkm");
	msg = EXPECT(5, "trunk", "create", sipu, "--tenant", a, "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", "198.51.100.11");
	cr_assert_not_null(strstr(msg, "already used by another device or trunk"), "%s", msg);
	drop_tenant(at);
	/* once the device is gone (its tenant deleted), the id is free again */
	EXPECT(0, "trunk", "create", sipu, "--tenant", a, "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "198.51.100.11");
	EXPECT(0, "trunk", "delete", sipu);
}

/* A tenant's ip_auth trunk: at most a /24 or /48, never 0.0.0.0/0. */
Test(isolation, ip_auth_trunk_wider_than_the_limit_is_refused)
{
	char a[32], name[40];
	const char *msg;
	char *n;

	snprintf(a, sizeof(a), "%s", it_tenant("wd"));
	snprintf(name, sizeof(name), "%s", it_name("wide"));
	msg = EXPECT(3, "trunk", "create", name, "--tenant", a, "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", "0.0.0.0/0");
	cr_assert_not_null(strstr(msg, "address range 0.0.0.0/0 is too wide"), "%s", msg);
	cr_assert_not_null(strstr(msg, name), "the error names the trunk: %s", msg);
	msg = EXPECT(3, "trunk", "create", name, "--tenant", a, "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", "198.51.100.1,2001:db8:77::/47");
	cr_assert_not_null(strstr(msg, "2001:db8:77::/47"), "%s", msg);
	n = it_pg1("SELECT count(*) FROM trunks WHERE name = $1", name);
	cr_assert(eq(str, n, "0"), "nothing was written");
	free(n);
	/* the limits themselves are fine, and a global trunk may be wider */
	EXPECT(0, "trunk", "create", name, "--tenant", a, "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "198.51.101.0/24,2001:db8:78::/48");
	EXPECT(3, "trunk", "update", name, "--match", "198.51.0.0/16");
	snprintf(name, sizeof(name), "%s", it_name("gwide"));
	EXPECT(0, "trunk", "create", name, "--global", "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "100.64.0.0/16");
	EXPECT(3, "trunk", "update", name, "--match", "0.0.0.0/0");
	EXPECT(0, "trunk", "delete", name);
}

/* A hostile tenant cannot claim another tenant's provider addresses, by create, update,
 * enabling a disabled trunk or plain SQL. */
Test(isolation, hostile_tenant_cannot_overlap_another_owners_range)
{
	char a[32], b[32], mine[40], second[40], evil[40], net[32], one[32], half[32], says[64];
	const char *msg;

	snprintf(a, sizeof(a), "%s", it_tenant("va"));
	snprintf(b, sizeof(b), "%s", it_tenant("hb"));
	snprintf(mine, sizeof(mine), "%s", it_name("mine"));
	snprintf(second, sizeof(second), "%s", it_name("second"));
	snprintf(evil, sizeof(evil), "%s", it_name("evil"));
	snprintf(net, sizeof(net), "10.203.%d.0/24", (int)getpid() & 255);
	snprintf(one, sizeof(one), "10.203.%d.77", (int)getpid() & 255);
	snprintf(half, sizeof(half), "10.203.%d.128/25", (int)getpid() & 255);
	EXPECT(0, "trunk", "create", mine, "--tenant", a, "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", net);
	/* the owner itself may reuse its addresses */
	EXPECT(0, "trunk", "create", second, "--tenant", a, "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", one);
	msg = EXPECT(5, "trunk", "create", evil, "--tenant", b, "--host", "sip.example.net",
		     "--auth", "ip_auth", "--match", one);
	snprintf(says, sizeof(says), "address range %s overlaps", one);
	cr_assert_not_null(strstr(msg, says), "%s", msg);
	cr_assert_null(strstr(msg, mine), "the other tenant's trunk is not named: %s", msg);
	EXPECT(0, "trunk", "create", evil, "--tenant", b, "--host", "sip.example.net",
	       "--auth", "ip_auth", "--match", "198.18.0.1");
	EXPECT(5, "trunk", "update", evil, "--match", half);
	/* disabled, a trunk claims nothing; enabling it checks again */
	EXPECT(0, "trunk", "update", second, "--disable");
	EXPECT(0, "trunk", "update", mine, "--disable");
	EXPECT(0, "trunk", "update", evil, "--match", one);
	EXPECT(5, "trunk", "update", mine, "--enable");
	/* the rule holds for plain SQL too */
	{
		PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
		PGresult *res = PQexec(pg, "INSERT INTO trunks (name, host, auth, match) VALUES "
				       "('sql-wide', 'h', 'ip_auth', '{0.0.0.0/0}')");

		cr_assert(eq(str, PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514"));
		PQclear(res);
		PQfinish(pg);
	}
}
