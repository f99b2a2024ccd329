/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/dialplan/outbound.c: the golden file of tenant acme's outbound dialplan with
 * three policies; the counts against the independent parser; trunk failover order and the
 * statuses it reacts to; the policy chosen by the calling endpoint; the internal context's
 * hand-off; and every model that must be refused (missing, disabled or foreign trunks, a
 * policy blocking an emergency number, an extension that is an emergency number, hostile
 * patterns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan-routes.h"

#include "dp-eval.h"
#include "dp-test.h"
#include "routing-test.h"

static struct pbx_dp_file generate(const struct pbx_dp_outbound *o)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_outbound(o, &f, &err), 0), "%s: %s: %s", err.object,
		  err.field, err.message);
	return f;
}

static void expect_refused(const struct pbx_dp_outbound *o, const char *object,
			   const char *field, const char *says)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_outbound(o, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, (char *)object));
	cr_assert(eq(str, err.field, (char *)field));
	cr_assert(strstr(err.message, says) != NULL, "%s", err.message);
	cr_assert_null(f.text);
}

/* The lines of extension @exten in context @ctx, joined by '\n' (static buffer). */
static const char *extension(const char *text, const char *ctx, const char *exten)
{
	static char out[16384];
	char head[128], start[128];
	const char *p = strstr(text, (snprintf(head, sizeof(head), "[%s]\n", ctx), head));
	size_t len = 0;
	bool in = false;

	out[0] = '\0';
	cr_assert_not_null(p, "no context %s", ctx);
	snprintf(start, sizeof(start), "exten => %s,1,", exten);
	for (p += strlen(head); *p && *p != '['; p = strchr(p, '\n') + 1) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, "exten => ", 9))
			in = !strncmp(p, start, strlen(start));
		if (in && (p[0] == 'e' || p[0] == 's'))
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%.*s\n", (int)n, p);
		if (!p[n])
			break;
	}
	return out;
}

Test(outbound_golden, three_policies_match_golden_and_counts)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f = generate(&o);
	struct dp_parsed p;

	dp_golden("outbound-acme.conf", f.text);
	dp_parse(f.text, &p);
	dp_assert_counts(&f, &p);
	cr_assert(eq(sz, f.n_contexts, 4));
	cr_assert(eq(str, f.contexts[0].name, "acme-outbound"));
	cr_assert(eq(str, f.contexts[1].name, "acme-policy-7"));
	cr_assert(eq(str, f.contexts[3].name, "acme-policy-9"));
	cr_assert(eq(sz, p.other, 0));
	cr_assert(eq(sz, p.unknown_apps, 0));
	cr_assert(eq(sz, p.cut_priorities, 0));
	cr_assert(eq(sz, p.directives, 0));
	pbx_dp_file_free(&f);
}

Test(outbound_failover, trunks_are_tried_in_order_on_chanunavail_and_congestion_only)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f = generate(&o);
	const char *ext = extension(f.text, "acme-policy-8", "_0ZXXXXXX");
	const char *b = strstr(ext, "Dial(PJSIP/+49${EXTEN:1}@acme-trunk-b)");
	const char *a = strstr(ext, "Dial(PJSIP/+49${EXTEN:1}@trunk-trunk-a)");
	const char *go = b ? strstr(b, "GotoIf(") : NULL;

	cr_assert_not_null(b, "%s", ext);
	cr_assert_not_null(a, "%s", ext);
	cr_assert(lt(ptr, (void *)b, (void *)a), "trunk b is tried before trunk-a");
	cr_assert_not_null(go);
	cr_assert(eq(int, strncmp(go, "GotoIf($[\"${DIALSTATUS}\" = \"CHANUNAVAIL\" | "
				  "\"${DIALSTATUS}\" = \"CONGESTION\"]?r3t2)", 80), 0), "%s", go);
	/* BUSY, NOANSWER and CANCEL fall through to Hangup: no other trunk is tried. */
	cr_assert(eq(int, strncmp(strchr(go, '\n') + 1, "same => n,Hangup()", 18), 0));
	cr_assert_null(strstr(ext, "BUSY"));
	cr_assert_null(strstr(ext, "NOANSWER"));
	cr_assert(lt(ptr, strstr(ext, "same => n(r3t2),"), (void *)a));
	/* After the last trunk: all circuits busy. */
	cr_assert_not_null(strstr(ext, "same => n(r3x),Playback(all-circuits-busy-now)"));
	/* trunk b forces its own number; trunk-a passes the user's, when there is one */
	cr_assert(lt(ptr, strstr(ext, "Set(CALLERID(num)=+4930999000)"), (void *)b));
	cr_assert_not_null(strstr(ext, "ExecIf($[\"${PBXCTL_CID}\" != \"\"]?Set(CALLERID(num)=${PBXCTL_CID}))"));
	pbx_dp_file_free(&f);
}

Test(outbound_failover, earlier_rules_are_tested_first_where_they_may_match)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f = generate(&o);
	/* national rule 3 (^0[1-9]...) after the premium block (^0900[0-9]*$): numbers of
	 * _0ZXXXXXXX may be 0900..., so the block is tested first */
	const char *ext = extension(f.text, "acme-policy-8", "_0ZXXXXXXX");

	cr_assert(eq(int, strncmp(ext, "exten => _0ZXXXXXXX,1,GotoIf(${REGEX(\"^0900[0-9]*$\" "
				  "${EXTEN})}?r2)", 60), 0), "%s", ext);
	cr_assert_not_null(strstr(ext, "same => n(r2),Playback(ss-noservice)"));
	/* the local rule's pattern cannot meet an earlier rule: no test at all */
	ext = extension(f.text, "acme-policy-8", "_NXXXXXX");
	cr_assert(eq(int, strncmp(ext, "exten => _NXXXXXX,1,ExecIf(", 27), 0), "%s", ext);
	cr_assert_null(strstr(ext, "REGEX"));
	pbx_dp_file_free(&f);
}

Test(outbound_select, policy_is_chosen_by_calling_endpoint_never_by_caller_id)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f = generate(&o);
	const char *ext = extension(f.text, "acme-outbound", "_X.");

	cr_assert(eq(int, strncmp(ext, "exten => _X.,1,GotoIf(${REGEX(\"^[0-9]{2,20}$\" "
				  "${EXTEN})}?ok)", 50), 0), "the number is checked first: %s", ext);
	cr_assert_not_null(strstr(ext, "GotoIf($[\"${CHANNEL(endpoint)}\" = \"acme-k3f9x2q7m1ab\"]?u1001)"));
	cr_assert_not_null(strstr(ext, "GotoIf($[\"${CHANNEL(endpoint)}\" = \"acme-p8w2m4x9c7de\"]?u1001)"));
	cr_assert_not_null(strstr(ext, "GotoIf($[\"${CHANNEL(endpoint)}\" = \"acme-b0b0desk0001\"]?u1002)"));
	cr_assert_null(strstr(ext, "acme-d4ve"), "a suspended user has no route");
	cr_assert_null(strstr(ext, "CALLERID"), "caller ID never chooses anything");
	cr_assert_not_null(strstr(ext, "same => n(dflt),Goto(acme-policy-7,${EXTEN},1)"), "default");
	cr_assert_not_null(strstr(ext, "same => n(u1001),Set(PBXCTL_CID=+4930123456)\n"
				       "same => n,Goto(acme-policy-8,${EXTEN},1)"));
	cr_assert_not_null(strstr(ext, "same => n(u1002),Goto(acme-policy-9,${EXTEN},1)"));
	cr_assert_not_null(strstr(f.text, "exten => _+X.,1,GotoIf(${REGEX(\"^[+][0-9]{2,20}$\" "));
	pbx_dp_file_free(&f);
}

Test(outbound_select, no_default_policy_refuses_the_others)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f;
	const char *ext;

	o.default_policy = NULL;
	o.emergency_trunk = "trunk-a";   /* else carol could not call 911: refused */
	f = generate(&o);
	ext = extension(f.text, "acme-outbound", "_X.");
	cr_assert_not_null(strstr(ext, "same => n(ok),Set(PBXCTL_CID=)\n"));
	cr_assert_not_null(strstr(ext, "]?u1002)\nsame => n(dflt),Playback(ss-noservice)\nsame => n,Hangup()\n"),
			   "%s", ext);
	pbx_dp_file_free(&f);
}

Test(outbound_select, suspended_tenant_refuses_every_call)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_tenant t = *o.tenant;
	struct pbx_dp_file f;
	struct dp_parsed p;

	t.suspended = true;
	o.tenant = &t;
	f = generate(&o);
	cr_assert_null(strstr(f.text, "Dial("));
	cr_assert_null(strstr(f.text, "Goto("));
	cr_assert(eq(sz, f.n_contexts, 1));
	dp_parse(f.text, &p);
	dp_assert_counts(&f, &p);
	pbx_dp_file_free(&f);
}

Test(outbound_handoff, internal_context_hands_over_only_digits)
{
	struct pbx_dp_tenant t = routing_tenant();
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct dp_parsed p;
	const char *ext;

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), 0), "%s", err.message);
	ext = extension(f.text, "acme-internal", "_X.");
	cr_assert(eq(str, (char *)ext,
		     "exten => _X.,1,GotoIf(${REGEX(\"^[0-9]{2,20}$\" ${EXTEN})}?out)\n"
		     "same => n,Playback(pbx-invalid)\n"
		     "same => n,Hangup()\n"
		     "same => n(out),Goto(acme-outbound,${EXTEN},1)\n"));
	cr_assert_not_null(strstr(f.text, "exten => _+X.,1,GotoIf(${REGEX(\"^[+][0-9]{2,20}$\" ${EXTEN})}?out)"));
	cr_assert_not_null(strstr(f.text, "exten => _*X.,1,Playback(pbx-invalid)"));
	dp_parse(f.text, &p);
	dp_assert_counts(&f, &p);
	pbx_dp_file_free(&f);
	/* without outbound the internal context is what it always was */
	t.outbound = false;
	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), 0));
	cr_assert_null(strstr(f.text, "outbound,${EXTEN}"));
	cr_assert_not_null(strstr(f.text, "exten => _X.,1,Playback(pbx-invalid)"));
	pbx_dp_file_free(&f);
}

Test(outbound_refused, trunk_missing_disabled_or_of_another_tenant)
{
	static const char *const t_c[] = { "c" }, *const t_d[] = { "d" }, *const t_z[] = { "zz" };
	struct pbx_policy_rule rules[3];
	struct pbx_dp_policy pol[3];
	struct pbx_dp_outbound o = routing_outbound();

	memcpy(pol, routing_policies, sizeof(pol));
	memcpy(rules, routing_policies[0].rules, 2 * sizeof(rules[0]));
	pol[0].rules = rules;
	o.policies = pol;
	rules[1].trunks = t_c;
	expect_refused(&o, "policy local-only rule 2", "trunks", "belongs to tenant beta");
	rules[1].trunks = t_d;
	expect_refused(&o, "policy local-only rule 2", "trunks", "trunk d is disabled");
	rules[1].trunks = t_z;
	expect_refused(&o, "policy local-only rule 2", "trunks", "trunk zz does not exist");
	rules[1].n_trunks = 0;
	expect_refused(&o, "policy local-only rule 2", "trunks", "needs 1 to 8 trunks");
}

Test(outbound_refused, emergency_number_nobody_can_route)
{
	struct pbx_policy_rule rules[2];
	struct pbx_dp_policy pol[3];
	struct pbx_dp_outbound o = routing_outbound();

	memcpy(pol, routing_policies, sizeof(pol));
	memcpy(rules, routing_policies[0].rules, sizeof(rules));
	rules[0].pattern = "^(112|999)$";    /* 911 no longer matched: blocked */
	pol[0].rules = rules;
	o.policies = pol;
	/* local-only is carol's (the default): she could not call 911 */
	expect_refused(&o, "tenant acme", "emergency_trunk",
		       "emergency number 911 cannot be called from carol's phones: policy "
		       "local-only does not allow it; name an emergency trunk (pbxctl tenant "
		       "update acme --emergency-trunk TRUNK) or allow it in that policy");
	o.default_policy = NULL;
	expect_refused(&o, "tenant acme", "emergency_trunk",
		       "no outbound policy applies; name an emergency trunk");
	/* an emergency trunk must be usable like any other */
	o.emergency_trunk = "c";
	expect_refused(&o, "tenant acme", "emergency_trunk", "trunk c belongs to tenant beta");
	o.emergency_trunk = "d";
	expect_refused(&o, "tenant acme", "emergency_trunk", "trunk d is disabled");
	o.emergency_trunk = "nope";
	expect_refused(&o, "tenant acme", "emergency_trunk", "trunk nope does not exist");
	o.emergency_trunk = "b";
	o.emergency_callerid = "12;x";
	expect_refused(&o, "tenant acme", "emergency_callerid", "must be 2 to 20 digits");
}

/* A policy that blocks everything still lets 112 out, through the emergency trunk, with the
 * tenant's emergency caller ID, before any pattern of the policy. */
Test(outbound_emergency, blocking_policy_still_routes_through_the_emergency_trunk)
{
	static const struct pbx_policy_rule block_all[] = { { .pattern = ".", .allow = false } };
	struct pbx_dp_policy pol[3];
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f;
	const char *ext;

	memcpy(pol, routing_policies, sizeof(pol));
	pol[0].rules = block_all;
	pol[0].n_rules = 1;
	o.policies = pol;
	o.emergency_trunk = "b";
	o.emergency_callerid = "+4930555000";
	f = generate(&o);
	ext = extension(f.text, "acme-outbound", "112");
	cr_assert_not_null(strstr(ext, "exten => 112,1,NoOp(emergency number 112: routed whatever "
				  "the policy)\nsame => n,Set(CALLERID(num)=+4930555000)\n"), "%s", ext);
	/* carol's policy (the default) blocks it: the default route is the emergency trunk */
	cr_assert_not_null(strstr(ext, "same => n,Goto(em)\n"), "%s", ext);
	cr_assert_not_null(strstr(ext, "same => n(em),Dial(PJSIP/112@acme-trunk-b)\n"), "%s", ext);
	/* alice (national) and bob (unrestricted) go through their policies' trunks, and on
	 * failure through the emergency trunk */
	cr_assert_not_null(strstr(ext, "?p8)\n"), "%s", ext);
	cr_assert_not_null(strstr(ext, "same => n(p8),Dial(PJSIP/112@trunk-trunk-a)\n"
				  "same => n,GotoIf($[\"${DIALSTATUS}\" = \"CHANUNAVAIL\" | "
				  "\"${DIALSTATUS}\" = \"CONGESTION\"]?em)"), "%s", ext);
	/* the trunk's forced caller ID does not replace the emergency one */
	cr_assert_null(strstr(ext, "+4930999000"), "%s", ext);
	/* the exact extension comes before the patterns of the context */
	cr_assert_lt(strstr(f.text, "exten => 112,1"), strstr(f.text, "exten => _X.,1"));
	pbx_dp_file_free(&f);
}

/* No policy at all, an emergency trunk: 911 goes out, the rest is refused. */
Test(outbound_emergency, tenant_without_policy_routes_through_the_emergency_trunk)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file f;
	const char *ext;

	o.policies = NULL;
	o.n_policies = 0;
	o.user_policies = NULL;
	o.default_policy = NULL;
	o.emergency_trunk = "trunk-a";
	f = generate(&o);
	ext = extension(f.text, "acme-outbound", "911");
	cr_assert_not_null(strstr(ext, "same => n,Goto(em)\nsame => n(em),ExecIf("), "%s", ext);
	cr_assert_not_null(strstr(ext, "Dial(PJSIP/911@trunk-trunk-a)"), "%s", ext);
	cr_assert_null(strstr(ext, "GotoIf($[\"${CHANNEL(endpoint)}\""), "one route for all: %s", ext);
	ext = extension(f.text, "acme-outbound", "_X.");
	cr_assert_not_null(strstr(ext, "Playback(ss-noservice)"), "%s", ext);
	pbx_dp_file_free(&f);
}

Test(outbound_refused, an_extension_that_is_an_emergency_number)
{
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_tenant t = *o.tenant;
	struct pbx_dp_user u[4];

	memcpy(u, t.users, sizeof(u));
	u[2].extension = "112";
	t.users = u;
	o.tenant = &t;
	expect_refused(&o, "user carol", "extension", "is an emergency number");
}

Test(outbound_refused, unknown_policies_and_hostile_patterns)
{
	struct pbx_policy_rule rules[2];
	struct pbx_dp_policy pol[3];
	struct pbx_dp_outbound o = routing_outbound();
	static const char *const up[4] = { "national", "gone", NULL, NULL };

	o.default_policy = "nope";
	expect_refused(&o, "tenant acme", "default_policy", "does not exist");
	o = routing_outbound();
	o.user_policies = up;
	expect_refused(&o, "user bob", "policy", "policy gone does not exist");
	o = routing_outbound();
	memcpy(pol, routing_policies, sizeof(pol));
	memcpy(rules, routing_policies[0].rules, sizeof(rules));
	pol[0].rules = rules;
	o.policies = pol;
	rules[1].pattern = "^5\")\nexten => _X.,1,Dial(PJSIP/x";
	expect_refused(&o, "policy local-only rule 2", "pattern", "may only hold");
	rules[1].pattern = "^5${SHELL(id)}";
	expect_refused(&o, "policy local-only rule 2", "pattern", "would be expanded");
	rules[1].pattern = "^[2-9][0-9]{6}$";
	rules[1].prepend = "1,2";
	expect_refused(&o, "policy local-only rule 2", "prepend", "0-9 * # +");
}

/* The internal and outbound files of acme as one text, with every active user's dnd key. */
static char *both(struct dpe_db *db)
{
	struct pbx_dp_tenant t = routing_tenant();
	struct pbx_dp_outbound o = routing_outbound();
	struct pbx_dp_file ft = PBX_DP_FILE_INIT, fo = generate(&o);
	pbx_error err = PBX_ERROR_INIT;
	char *text;

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &ft, &err), 0), "%s", err.message);
	cr_assert(ge(int, asprintf(&text, "%s\n%s", ft.text, fo.text), 0));
	pbx_dp_file_free(&ft);
	pbx_dp_file_free(&fo);
	memset(db, 0, sizeof(*db));
	dpe_db_put(db, "pbxctl/acme/1001/dnd", "0");
	dpe_db_put(db, "pbxctl/acme/1002/dnd", "0");
	dpe_db_put(db, "pbxctl/acme/1003/dnd", "0");
	return text;
}

/*
 * A forward to a number (set on the phone with *72, which cannot check the policy) dials
 * under the forwarding user's policy, not the caller's: alice's "national" blocks +44, so
 * bob (whose "unrestricted" allows it) calling alice reaches no trunk; bob's own forward to
 * the same number, called by alice, goes out.
 */
Test(outbound_forward, a_forward_dials_under_the_forwarding_users_policy)
{
	struct dpe_db db;
	char *text = both(&db);
	struct dpe_call c = { .endpoint = "acme-b0b0desk0001" };

	dpe_db_put(&db, "pbxctl/acme/1001/forward", "+442071234567");
	dpe_run(text, "acme-internal", "1001", &db, &c);
	cr_assert(eq(int, dpe_find(&c, "Dial("), -1), "dialled: %s", c.trace[0]);
	cr_assert(ge(int, dpe_find(&c, "Playback(ss-noservice)"), 0), "%s", c.trace[0]);
	/* The same number dialled by bob himself goes out. */
	c = (struct dpe_call){ .endpoint = "acme-b0b0desk0001" };
	dpe_run(text, "acme-internal", "+442071234567", &db, &c);
	cr_assert(eq(int, dpe_find(&c, "Dial(PJSIP/+442071234567@trunk-trunk-a)"), 0), "%s",
		  c.trace[0]);
	/* bob forwards there; alice, whose policy blocks it, calls him: it goes out. */
	dpe_db_put(&db, "pbxctl/acme/1002/forward", "+442071234567");
	c = (struct dpe_call){ .endpoint = "acme-k3f9x2q7m1ab" };
	dpe_run(text, "acme-internal", "1002", &db, &c);
	cr_assert(ge(int, dpe_find(&c, "Dial(PJSIP/+442071234567@trunk-trunk-a)"), 0), "%s",
		  c.trace[0]);
	/* carol has no policy of her own and no caller ID: the default (local-only) decides. */
	dpe_db_put(&db, "pbxctl/acme/1003/forward", "+442071234567");
	c = (struct dpe_call){ .endpoint = "acme-b0b0desk0001" };
	dpe_run(text, "acme-internal", "1003", &db, &c);
	cr_assert(eq(int, dpe_find(&c, "Dial("), -1), "dialled: %s", c.trace[0]);
	free(text);
}
