/* SPDX-License-Identifier: MIT */
/*
 * Routing (DIDs, trunks, policies) through `pbxctl apply`, end to end: real PostgreSQL and
 * MariaDB, and the AMI peer reading the generated dialplan directory as Asterisk does. The
 * tenant's DIDs, outbound and policy contexts land in its file and the global router in its
 * own, both verified by their markers and counts; the trunks' rows land in MariaDB with
 * Asterisk's column names; what the snapshot no longer allows (a DID whose user was
 * deleted, a policy blocking an emergency number, a trunk of another tenant or a disabled
 * one) stops the apply before anything is touched; and `trunk status` reads the peer's
 * registrations and contacts.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/db.h"
#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/realtime.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "routing-itest.h"
#include "testenv.h"

static struct testenv_site site;
static char slug[32];

static void setup(void)
{
	pbx_error err = PBX_ERROR_INIT;

	testenv_site_open(&site, "routingapply", true, NULL);
	it_setup();
	testenv_site_config(&site, &it_cfg);
	cr_assert(eq(int, pbx_db_migrate_realtime(it_ctx, &err), 0), "%s", err.message);
	snprintf(slug, sizeof(slug), "%s", it_tenant("xa"));
}

static void teardown(void)
{
	it_teardown();
	testenv_site_close(&site);
}

TestSuite(routing_apply, .init = setup, .fini = teardown, .timeout = 90);

static int apply(struct pbx_apply_result *res, pbx_error *err)
{
	struct pbx_apply_opts o = { .tenant = slug };

	return pbx_apply(it_ctx, &o, res, err);
}

static void rule(const char *policy, const char *pattern, const char *action, const char *trunks)
{
	struct pbx_policy_rule_spec s = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.pattern = pattern;
	s.action = action;
	s.trunks = trunks;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, slug, policy, &s, &rows, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
}

static void policy(const char *name, bool make_default)
{
	struct pbx_policy_spec s = { .name = name };
	struct pbx_tenant_spec ts = { .default_policy = name };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	cr_assert(eq(int, pbx_policy_create(it_ctx, slug, &s, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	if (make_default) {
		cr_assert(eq(int, pbx_tenant_update(it_ctx, slug, &ts, &rows, &changed, &err), 0));
		pbx_rows_free(&rows);
	}
}

static void did(const char *number, const char *dest)
{
	struct pbx_did_spec s = PBX_DID_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.number = number;
	s.tenant = slug;
	s.destination = dest;
	cr_assert(eq(int, pbx_did_create(it_ctx, &s, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

/* A registration trunk of the test tenant. */
static void reg_trunk(const char *name)
{
	struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.name = name;
	s.tenant = slug;
	s.host = "sip.provider.example";
	s.port = 5080;
	s.transport = "tcp";
	s.auth = "registration";
	s.username = "acct42";
	s.secret = "prov1der-s3cret";
	s.codecs = "alaw,g722";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), 0), "%s", err.message);
	pbx_trunk_rows_free(&rows);
}

/* A number for this process. */
static const char *number(int n)
{
	static char buf[4][24];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "+49302%05d%03d", (int)getpid() % 100000, n);
	return buf[k];
}

static char *my(const char *sql, const char *param)
{
	return it_my1(sql, param);
}

Test(routing_apply, dids_policies_and_trunk_rows_end_to_end)
{
	const char *reg = it_name("reg"), *ip = it_name("ip"), *glob = it_name("glob");
	char ep_reg[64], ep_ip[64], ep_glob[64], both[96], meta[80], got[80], marker[80], id1[256];
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char *text, *v;

	it_user(slug, "alice", 1);
	reg_trunk(reg);
	it_trunk_tenant(slug, ip);
	it_trunk_global(glob);
	snprintf(ep_reg, sizeof(ep_reg), "%s-trunk-%s", slug, reg);
	snprintf(ep_ip, sizeof(ep_ip), "%s-trunk-%s", slug, ip);
	snprintf(ep_glob, sizeof(ep_glob), "trunk-%s", glob);
	snprintf(both, sizeof(both), "%s,%s", reg, glob);
	policy("national", true);
	rule("national", "^(112|911|999)$", "allow", glob);
	rule("national", "^0[1-9][0-9]{6,10}$", "allow", both);
	did(number(1), "user:alice");
	did(number(2), "external:+441632960000");

	cr_assert(eq(int, apply(&res, &err), 0), "%s (%s)", err.message, err.detail);
	cr_assert(res.changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "SUCCESS"));
	snprintf(marker, sizeof(marker), "%s", pbx_rows_get(&res.job, 0, "marker"));
	pbx_apply_result_free(&res);

	/* the tenant's file holds its DIDs, its outbound and its policy contexts */
	{
		char p[600];

		snprintf(p, sizeof(p), "%s/%s.conf", site.peer.dialplan, slug);
		text = testenv_read_file(p);
	}
	cr_assert_not_null(text);
	snprintf(id1, sizeof(id1), "exten => %s,1,Goto(%s-internal,1000,1)", number(1), slug);
	cr_assert_not_null(strstr(text, id1), "%s", text);
	snprintf(id1, sizeof(id1), "[%s-outbound]", slug);
	cr_assert_not_null(strstr(text, id1));
	{
		/* national numbers: the tenant's trunk first, then the global one */
		const char *ext = strstr(text, "exten => _0ZXXXXXX,1,");
		char first[96], second[96];

		cr_assert_not_null(ext, "%s", text);
		snprintf(first, sizeof(first), "Dial(PJSIP/${EXTEN}@%s)", ep_reg);
		snprintf(second, sizeof(second), "Dial(PJSIP/${EXTEN}@%s)", ep_glob);
		cr_assert_not_null(strstr(ext, first));
		cr_assert(lt(ptr, strstr(ext, first), strstr(ext, second)));
	}
	free(text);
	/* the router includes the tenant's numbers, and Asterisk loaded this apply's router */
	text = testenv_read_file(testenv_site_path(&site, "dialplan/pbxctl-inbound.conf"));
	cr_assert_not_null(text);
	snprintf(id1, sizeof(id1), "include => %s-inbound\n", slug);
	cr_assert_not_null(strstr(text, id1));
	free(text);
	{
		struct pbx_ami_config ac = { .host = "127.0.0.1", .port = site.peer.port,
					     .username = "pbxctl", .secret = "secret",
					     .timeout_ms = 2000 };
		pbx_ami *ami;
		int exts = 0, prios = 0;

		cr_assert(eq(int, pbx_ami_connect(&ac, &ami, &err), 0), "%s", err.message);
		cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-pbxctl-inbound", got,
						      sizeof(got), &err), 0), "%s", err.message);
		cr_assert(eq(str, got, marker));
		snprintf(meta, sizeof(meta), "%s-inbound", slug);
		cr_assert(eq(int, pbx_ami_dialplan_counts(ami, meta, &exts, &prios, &err), 0));
		cr_assert(eq(int, exts, 5), "two DIDs, with and without +, and a (the greeting's *)");
		pbx_ami_close(ami);
	}

	/* the tenant's trunks are in MariaDB with Asterisk's column names */
	v = my("SELECT concat_ws('|', transport, aors, context, allow, outbound_auth, from_user, "
	       "from_domain) FROM ps_endpoints WHERE id = ?", ep_reg);
	snprintf(id1, sizeof(id1), "transport-tcp|%s|pbxctl-inbound|alaw,g722|%s|acct42|sip.provider.example",
		 ep_reg, ep_reg);
	cr_assert(eq(str, v, id1));
	free(v);
	v = my("SELECT concat_ws('|', auth_type, username, password) FROM ps_auths WHERE id = ?", ep_reg);
	cr_assert(eq(str, v, "userpass|acct42|prov1der-s3cret"));
	free(v);
	v = my("SELECT concat_ws('|', server_uri, client_uri, outbound_auth, transport, line, endpoint) "
	       "FROM ps_registrations WHERE id = ?", ep_reg);
	snprintf(id1, sizeof(id1), "sip:sip.provider.example:5080|sip:acct42@sip.provider.example:5080|%s|transport-tcp|yes|%s",
		 ep_reg, ep_reg);
	cr_assert(eq(str, v, id1));
	free(v);
	v = my("SELECT contact FROM ps_aors WHERE id = ?", ep_reg);
	cr_assert(eq(str, v, "sip:sip.provider.example:5080"));
	free(v);
	v = my("SELECT group_concat(concat(id, '=', `match`) ORDER BY id SEPARATOR ' ') "
	       "FROM ps_endpoint_id_ips WHERE endpoint = ?", ep_ip);
	snprintf(id1, sizeof(id1), "%s-1=%.*s %s-2=%s", ep_ip, (int)strcspn(it_match, ","),
		 it_match, ep_ip, strchr(it_match, ',') + 1);
	cr_assert(eq(str, v, id1));
	free(v);
	v = my("SELECT identify_by FROM ps_endpoints WHERE id = ?", ep_ip);
	cr_assert(eq(str, v, "ip"));
	free(v);
	v = my("SELECT count(*) FROM ps_registrations WHERE id = ?", ep_ip);
	cr_assert(eq(str, v, "0"), "an ip_auth trunk does not register");
	free(v);
	/* a global trunk belongs to every tenant: only an apply of all tenants syncs it */
	v = my("SELECT count(*) FROM ps_endpoints WHERE id = ?", ep_glob);
	cr_assert(eq(str, v, "0"));
	free(v);

	/* nothing changed: nothing written, no reload */
	cr_assert(eq(int, apply(&res, &err), 0), "%s", err.message);
	cr_assert(not(res.changed));
	pbx_apply_result_free(&res);

	/* a disabled trunk loses its rows */
	{
		struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
		struct pbx_rows rows;
		bool changed;

		s.enabled = 0;
		cr_assert(eq(int, pbx_trunk_update(it_ctx, ip, &s, &rows, &changed, &err), 0));
		pbx_trunk_rows_free(&rows);
	}
	cr_assert(eq(int, apply(&res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	v = my("SELECT count(*) FROM ps_endpoint_id_ips WHERE endpoint = ?", ep_ip);
	cr_assert(eq(str, v, "0"));
	free(v);
}

/* Apply must fail with @says among its problems, writing nothing. */
static void expect_refused(const char *says)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char p[600];
	bool found = false;

	cr_assert(eq(int, apply(&res, &err), PBX_EINVALID), "%s", err.message);
	for (size_t i = 0; i < res.problems.n; i++)
		found = found || strstr(res.problems.items[i].message, says);
	cr_assert(found, "no problem says \"%s\"; first: %s", says, err.message);
	pbx_apply_result_free(&res);
	snprintf(p, sizeof(p), "%s/%s.conf", site.peer.dialplan, slug);
	cr_assert(eq(int, access(p, F_OK), -1), "nothing may be written");
}

Test(routing_apply, did_whose_user_was_deleted_is_caught_at_apply)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	it_user(slug, "bob", 1);
	did(number(3), "user:bob");
	cr_assert(eq(int, pbx_user_delete(it_ctx, slug, "bob", false, &rows, &changed, &err), 0),
		  "%s", err.message);
	pbx_rows_free(&rows);
	expect_refused("has no user bob");
}

Test(routing_apply, emergency_number_no_route_allows_is_refused_at_apply)
{
	const char *g = it_name("g");

	it_trunk_global(g);
	it_user(slug, "carol", 1);
	policy("strict", true);
	rule("strict", "^(112|999)$", "allow", g);
	expect_refused("emergency number 911 cannot be called from carol's phones: policy strict "
		       "does not allow it; name an emergency trunk");
}

Test(routing_apply, trunk_of_another_tenant_or_disabled_is_refused_at_apply)
{
	const char *other = it_tenant("xb"), *theirs = it_name("their"), *mine = it_name("mine");
	struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	it_trunk_tenant(other, theirs);
	it_trunk_global(mine);
	policy("p", true);
	rule("p", "^(112|911|999)$", "allow", mine);
	/* written behind pbxctl's back: the store never lets a rule name a foreign trunk */
	it_pg_exec("INSERT INTO policy_rule_trunks (rule_id, position, trunk_id) "
		   "SELECT r.id, 2, k.id FROM policy_rules r, trunks k "
		   "WHERE k.name = $1 AND r.pattern = '^(112|911|999)$' "
		   "AND r.policy_id = (SELECT max(id) FROM policies WHERE name = 'p')", theirs);
	expect_refused("belongs to tenant");
	it_pg_exec("DELETE FROM policy_rule_trunks WHERE trunk_id = (SELECT id FROM trunks WHERE name = $1)",
		   theirs);
	s.enabled = 0;
	cr_assert(eq(int, pbx_trunk_update(it_ctx, mine, &s, &rows, &changed, &err), 0));
	pbx_trunk_rows_free(&rows);
	expect_refused("is disabled");
}

Test(routing_apply, extension_that_is_an_emergency_number_is_refused_at_apply)
{
	struct pbx_tenant_spec ts = { .extensions = "100-999" };
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	cr_assert(eq(int, pbx_tenant_update(it_ctx, slug, &ts, &rows, &changed, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
	u.username = "dave";
	u.extension = "112";
	cr_assert(eq(int, pbx_user_create(it_ctx, slug, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	expect_refused("is an emergency number");
}

Test(routing_apply, trunk_status_reads_registration_and_reachability)
{
	const char *reg = it_name("st");
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char ep[64], line[256];

	reg_trunk(reg);
	snprintf(ep, sizeof(ep), "%s-trunk-%s", slug, reg);
	snprintf(line, sizeof(line), "%s sip:sip.provider.example:5080 sip:acct42@sip.provider.example:5080 Registered\n", ep);
	write_text(site.peer.regs, line);
	snprintf(line, sizeof(line), "%s sip:sip.provider.example:5080 Reachable 12345 provider-sbc\n", ep);
	write_text(site.peer.contacts, line);
	cr_assert(eq(int, pbx_trunk_status(it_ctx, NULL, reg, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "registration"), "Registered"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "reachability"), "Reachable"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "rtt_ms"), "12"));
	pbx_rows_free(&rows);
	/* unknown to Asterisk: null, not made up */
	write_text(site.peer.regs, "# none\n");
	write_text(site.peer.contacts, "# none\n");
	cr_assert(eq(int, pbx_trunk_status(it_ctx, NULL, reg, &rows, &err), 0), "%s", err.message);
	cr_assert_null(pbx_rows_get(&rows, 0, "registration"));
	cr_assert_null(pbx_rows_get(&rows, 0, "reachability"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_trunk_status(it_ctx, NULL, "no-such-trunk", &rows, &err), PBX_ENOTFOUND));
}
