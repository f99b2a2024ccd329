/* SPDX-License-Identifier: MIT */
/*
 * Outbound policies against the real PostgreSQL: rules added and removed in order, their
 * patterns compiled when saved, `policy test` for local, national, international and
 * premium-rate numbers under "local only", "national" and "unrestricted", warnings for
 * blocked emergency numbers, the tenant's default and a user's own policy, and deletion
 * of a policy in use.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "pbx/tenant.h"
#include "routing-itest.h"

TestSuite(policy, .init = it_setup, .fini = it_teardown, .timeout = 60);

#define LOCAL "5551234"
#define NATIONAL "030123456"
#define INTERNATIONAL "00441632960000"
#define PREMIUM "09001234567"

static void rule(const char *t, const char *policy, const char *pattern, const char *action,
		 const char *trunks, int strip, const char *prepend)
{
	struct pbx_policy_rule_spec s = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.pattern = pattern;
	s.action = action;
	s.trunks = trunks;
	s.strip = strip;
	s.prepend = prepend;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, policy, &s, &rows, &err), 0), "%s: %s",
		  pattern, err.message);
	pbx_rows_free(&rows);
}

static void create(const char *t, const char *name)
{
	struct pbx_policy_spec s = { .name = name };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_policy_create(it_ctx, t, &s, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

/* The three policies of the issue, over a global trunk @g and the tenant's trunk @own. */
static void three_policies(const char *t, const char *g, const char *own)
{
	char both[80];

	snprintf(both, sizeof(both), "%s,%s", own, g);
	create(t, "local-only");
	rule(t, "local-only", "^(112|911|999)$", "allow", g, -1, NULL);
	rule(t, "local-only", "^[2-9][0-9]{6}$", "allow", g, -1, NULL);
	create(t, "national");
	rule(t, "national", "^(112|911|999)$", "allow", g, -1, NULL);
	rule(t, "national", "^0900", "block", NULL, -1, NULL);
	rule(t, "national", "^0[1-9][0-9]{6,10}$", "allow", both, 1, "+49");
	rule(t, "national", "^[2-9][0-9]{6}$", "allow", g, -1, NULL);
	create(t, "unrestricted");
	rule(t, "unrestricted", "^(112|911|999)$", "allow", g, -1, NULL);
	rule(t, "unrestricted", "^00[1-9][0-9]+$", "allow", both, 2, "+");
	rule(t, "unrestricted", "^0[1-9][0-9]+$", "allow", both, 1, "+49");
	rule(t, "unrestricted", "^[2-9][0-9]{6}$", "allow", g, -1, NULL);
}

struct verdict {
	char result[16], rule[8], dial[32], trunks[96];
};

static struct verdict test(const char *t, const char *policy, const char *number)
{
	struct verdict v;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	const char *s;

	cr_assert(eq(int, pbx_policy_test(it_ctx, t, policy, number, &rows, &err), 0), "%s",
		  err.message);
	snprintf(v.result, sizeof(v.result), "%s", pbx_rows_get(&rows, 0, "result"));
	snprintf(v.rule, sizeof(v.rule), "%s", (s = pbx_rows_get(&rows, 0, "rule")) ? s : "-");
	snprintf(v.dial, sizeof(v.dial), "%s", (s = pbx_rows_get(&rows, 0, "dial")) ? s : "-");
	snprintf(v.trunks, sizeof(v.trunks), "%s", pbx_rows_get(&rows, 0, "trunks"));
	pbx_rows_free(&rows);
	return v;
}

Test(policy, test_local_national_international_premium_under_three_policies)
{
	const char *t = it_tenant("pol"), *g = it_name("g"), *own = it_name("own");
	char both[80];
	struct verdict v;

	it_trunk_global(g);
	it_trunk_tenant(t, own);
	three_policies(t, g, own);
	snprintf(both, sizeof(both), "%s,%s", own, g);

	/* local only */
	v = test(t, "local-only", LOCAL);
	cr_assert(eq(str, v.result, "allowed"));
	cr_assert(eq(str, v.rule, "2"));
	cr_assert(eq(str, v.dial, LOCAL));
	cr_assert(eq(str, v.trunks, (char *)g));
	v = test(t, "local-only", NATIONAL);
	cr_assert(eq(str, v.result, "blocked"));
	cr_assert(eq(str, v.rule, "-"), "no rule matches");
	cr_assert(eq(str, test(t, "local-only", INTERNATIONAL).result, "blocked"));
	cr_assert(eq(str, test(t, "local-only", PREMIUM).result, "blocked"));

	/* national */
	cr_assert(eq(str, test(t, "national", LOCAL).result, "allowed"));
	v = test(t, "national", NATIONAL);
	cr_assert(eq(str, v.result, "allowed"));
	cr_assert(eq(str, v.rule, "3"));
	cr_assert(eq(str, v.dial, "+4930123456"));
	cr_assert(eq(str, v.trunks, both), "the tenant's trunk first, then the global one");
	cr_assert(eq(str, test(t, "national", INTERNATIONAL).result, "blocked"));
	v = test(t, "national", PREMIUM);
	cr_assert(eq(str, v.result, "blocked"));
	cr_assert(eq(str, v.rule, "2"));
	cr_assert(eq(str, v.trunks, ""));

	/* unrestricted */
	cr_assert(eq(str, test(t, "unrestricted", LOCAL).result, "allowed"));
	cr_assert(eq(str, test(t, "unrestricted", NATIONAL).result, "allowed"));
	v = test(t, "unrestricted", INTERNATIONAL);
	cr_assert(eq(str, v.result, "allowed"));
	cr_assert(eq(str, v.dial, "+441632960000"));
	v = test(t, "unrestricted", PREMIUM);
	cr_assert(eq(str, v.result, "allowed"));
	cr_assert(eq(str, v.rule, "3"));

	/* and the emergency numbers everywhere */
	cr_assert(eq(str, test(t, "local-only", "112").result, "allowed"));
	cr_assert(eq(str, test(t, "national", "911").result, "allowed"));
}

Test(policy, test_refuses_a_number_that_is_not_dialable)
{
	const char *t = it_tenant("pnum");
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	create(t, "p");
	cr_assert(eq(int, pbx_policy_test(it_ctx, t, "p", "12,34", &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "number"));
	cr_assert(eq(int, pbx_policy_test(it_ctx, t, "nope", "1234", &rows, &err), PBX_ENOTFOUND));
}

Test(policy, emergency_numbers_blocked_on_save_give_warnings)
{
	const char *t = it_tenant("pemg"), *g = it_name("g");
	const char *w;

	it_trunk_global(g);
	it_warnings();
	create(t, "p");
	w = it_warnings();
	cr_assert(strstr(w, "blocks the emergency number 911") != NULL, "%s", w);
	cr_assert(strstr(w, "blocks the emergency number 112") != NULL, "%s", w);
	rule(t, "p", "^(112|911|999)$", "allow", g, -1, NULL);
	w = it_warnings();
	cr_assert(eq(str, (char *)w, ""), "allowed now: %s", w);
	/* a blocking rule in front of it brings the warning back, for 112 only */
	{
		struct pbx_policy_rule_spec s = PBX_POLICY_RULE_SPEC_INIT;
		struct pbx_rows rows;
		pbx_error err = PBX_ERROR_INIT;

		s.pattern = "^1";
		s.action = "block";
		s.position = 1;
		cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), 0), "%s",
			  err.message);
		pbx_rows_free(&rows);
	}
	w = it_warnings();
	cr_assert(strstr(w, "emergency number 112") != NULL, "%s", w);
	cr_assert(strstr(w, "emergency number 911") == NULL, "%s", w);
}

Test(policy, rules_keep_their_order_and_bad_rules_are_refused)
{
	const char *t = it_tenant("pord"), *g = it_name("g");
	struct pbx_policy_rule_spec s = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	it_trunk_global(g);
	create(t, "p");
	rule(t, "p", "^1", "allow", g, -1, NULL);
	rule(t, "p", "^2", "allow", g, -1, NULL);
	s.pattern = "^3";
	s.action = "block";
	s.position = 1;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_rules(it_ctx, t, "p", &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 3));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "pattern"), "^3"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 1, "pattern"), "^1"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 2, "position"), "3"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 2, "asterisk"), "_2."));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_rule_remove(it_ctx, t, "p", 1, &rows, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_rules(it_ctx, t, "p", &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "pattern"), "^1"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_rule_remove(it_ctx, t, "p", 9, &rows, &err), PBX_ENOTFOUND));

	/* refused: patterns that do not compile or are hostile, rules that make no sense */
	s = (struct pbx_policy_rule_spec)PBX_POLICY_RULE_SPEC_INIT;
	s.action = "allow";
	s.trunks = g;
	s.pattern = "^(0";
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "pattern"));
	s.pattern = "^0\")\n[other]";
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_EINVALID));
	s.pattern = "^0{3,1}";
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "not a valid extended regular expression") != NULL, "%s",
		  err.message);
	s.pattern = "^0";
	s.trunks = NULL;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "trunks"));
	s.trunks = "no-such-trunk";
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_ENOTFOUND));
	s.trunks = g;
	s.position = 7;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "position"));
	s.position = 0;
	s.action = "block";
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, t, "p", &s, &rows, &err), PBX_EINVALID),
		  "a blocking rule with trunks");
}

Test(policy, default_and_user_policies_and_deleting_one_in_use)
{
	const char *t = it_tenant("pdef");
	struct pbx_tenant_spec ts = { .default_policy = "national" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	it_user(t, "alice", 0);
	it_user(t, "bob", 0);
	create(t, "national");
	create(t, "unrestricted");
	cr_assert(eq(int, pbx_tenant_update(it_ctx, t, &ts, &rows, &changed, &err), 0), "%s",
		  err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "default_policy"), "national"));
	pbx_rows_free(&rows);
	ts.default_policy = "missing";
	cr_assert(eq(int, pbx_tenant_update(it_ctx, t, &ts, &rows, &changed, &err), PBX_ENOTFOUND));
	cr_assert(eq(str, err.field, "default_policy"));

	cr_assert(eq(int, pbx_policy_assign(it_ctx, t, "alice", "unrestricted", &rows, &changed,
					    &err), 0), "%s", err.message);
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "effective"), "unrestricted"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_assign(it_ctx, t, "alice", "unrestricted", &rows, &changed,
					    &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_users(it_ctx, t, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 2));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 1, "effective"), "national"), "bob: default");
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_assign(it_ctx, t, "alice", "nope", &rows, &changed, &err),
		     PBX_ENOTFOUND));

	/* in use: refused, unless forced */
	cr_assert(eq(int, pbx_policy_delete(it_ctx, t, "unrestricted", false, &rows, &err),
		     PBX_ECONFLICT));
	cr_assert(eq(int, pbx_policy_delete(it_ctx, t, "national", false, &rows, &err),
		     PBX_ECONFLICT));
	cr_assert(strstr(err.message, "default policy") != NULL, "%s", err.message);
	cr_assert(eq(int, pbx_policy_delete(it_ctx, t, "unrestricted", true, &rows, &err), 0),
		  "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_users(it_ctx, t, &rows, &err), 0));
	cr_assert_null(pbx_rows_get(&rows, 0, "policy"), "alice follows the default again");
	pbx_rows_free(&rows);
	{
		char *n = it_pg1("SELECT count(*) FROM audit_log WHERE tenant = $1 AND entity = 'user' "
				 "AND after->>'policy' IS NULL AND before->>'policy' = 'unrestricted'", t);

		cr_assert(eq(str, n, "1"), "the cleared assignment is audited");
		free(n);
	}
}

Test(policy, names_are_unique_per_tenant_and_checked)
{
	const char *a = it_tenant("pna"), *b = it_tenant("pnb");
	struct pbx_policy_spec s = { .name = "same" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	create(a, "same");
	create(b, "same");
	cr_assert(eq(int, pbx_policy_create(it_ctx, a, &s, &rows, &err), PBX_ECONFLICT));
	s.name = "Bad Name";
	cr_assert(eq(int, pbx_policy_create(it_ctx, a, &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "name"));
	cr_assert(eq(int, pbx_policy_show(it_ctx, b, "same", &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "tenant"), (char *)b));
	pbx_rows_free(&rows);
}

Test(policy, tenant_delete_force_removes_its_policies_trunks_and_dids_with_audit)
{
	const char *t = it_tenant("pdel"), *own = it_name("own");
	struct pbx_tenant_spec ts = { .default_policy = "p" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;
	char *n;

	it_user(t, "alice", 0);
	it_trunk_tenant(t, own);
	create(t, "p");
	rule(t, "p", "^(112|911|999)$", "allow", own, -1, NULL);
	cr_assert(eq(int, pbx_tenant_update(it_ctx, t, &ts, &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_assign(it_ctx, t, "alice", "p", &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
	it_pg_exec("INSERT INTO dids (tenant_id, number) SELECT id, '+4930999888777' FROM tenants "
		   "WHERE slug = $1", t);
	cr_assert(eq(int, pbx_tenant_delete(it_ctx, t, true, &rows, &err), 0), "%s (%s)",
		  err.message, err.detail);
	pbx_rows_free(&rows);
	n = it_pg1("SELECT count(*) FROM trunks WHERE name = $1", own);
	cr_assert(eq(str, n, "0"));
	free(n);
	n = it_pg1("SELECT string_agg(entity, ',' ORDER BY entity) FROM audit_log WHERE tenant = $1 "
		   "AND action = 'delete' AND entity IN ('did', 'trunk', 'policy')", t);
	cr_assert(eq(str, n, "did,policy,trunk"));
	free(n);
}
