/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/dialplan/inbound.c: the golden files of tenant acme's DIDs and of the global
 * router; destinations resolved against the DID's own tenant only (another tenant's user is
 * refused, as is a user deleted since); the default destination for disabled DIDs, DIDs
 * without a destination and suspended users; refusal when nothing answers; hostile labels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan-routes.h"
#include "pbx/secret.h"

#include "dp-eval.h"
#include "dp-test.h"
#include "routing-test.h"

static const struct pbx_dp_did dids[] = {
	{ .number = "+4930123456", .label = "Main line", .destination = "user:alice", .enabled = true },
	{ .number = "+4930123457", .label = "Support", .destination = "ext:1002", .enabled = true },
	{ .number = "+4930123458", .label = "After hours", .destination = "voicemail:carol",
	  .enabled = true },
	{ .number = "+4930123459", .destination = "external:+441632960000", .enabled = true },
	{ .number = "+4930123460", .label = "Old number", .destination = "user:alice",
	  .enabled = false },
	{ .number = "+4930123461", .label = "Fax (unused)", .enabled = true },
	{ .number = "+4930123462", .label = "Dave", .destination = "user:dave", .enabled = true },
};

static struct pbx_dp_inbound model(struct pbx_dp_tenant *t)
{
	*t = routing_tenant();
	return (struct pbx_dp_inbound){ .tenant = t, .default_inbound = "ext:1003",
					 .dids = dids, .n_dids = sizeof(dids) / sizeof(dids[0]) };
}

static struct pbx_dp_file generate(const struct pbx_dp_inbound *in)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_inbound(in, &f, &err), 0), "%s: %s: %s", err.object,
		  err.field, err.message);
	return f;
}

static void expect_refused(const struct pbx_dp_inbound *in, const char *object,
			   const char *field, const char *says)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_inbound(in, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, (char *)object));
	cr_assert(eq(str, err.field, (char *)field));
	cr_assert(strstr(err.message, says) != NULL, "%s", err.message);
	cr_assert_null(f.text);
}

Test(inbound_golden, dids_match_golden_and_counts)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_file f = generate(&in);
	struct dp_parsed p;

	dp_golden("inbound-acme.conf", f.text);
	dp_parse(f.text, &p);
	dp_assert_counts(&f, &p);
	cr_assert(eq(sz, f.n_contexts, 1));
	cr_assert(eq(str, f.contexts[0].name, "acme-inbound"));
	cr_assert(eq(sz, f.contexts[0].extensions, 15), "each DID with and without its +, and a");
	cr_assert(eq(sz, p.other, 0));
	cr_assert(eq(sz, p.unknown_apps, 0));
	pbx_dp_file_free(&f);
}

Test(inbound_golden, router_matches_golden_and_counts)
{
	static const char *const slugs[] = { "globex", "acme", "initech" };
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct dp_parsed p;
	const char *last;

	cr_assert(eq(int, pbx_dialplan_inbound_router(slugs, 3, "job-0001", &f, &err), 0), "%s",
		  err.message);
	dp_golden("inbound-router.conf", f.text);
	cr_assert(eq(str, f.name, "pbxctl-inbound.conf"));
	dp_parse(f.text, &p);
	dp_assert_counts(&f, &p);
	cr_assert(eq(sz, p.includes, 4));
	cr_assert(eq(sz, f.n_contexts, 3));
	cr_assert(eq(str, f.contexts[0].name, "pbxctl-inbound"));
	cr_assert(eq(sz, f.contexts[0].extensions, 0), "no pattern may shadow the includes");
	cr_assert(eq(str, f.contexts[2].name, "pbxctl-meta-pbxctl-inbound"));
	/* the refusal is included last, after every tenant */
	last = strstr(f.text, "include => pbxctl-inbound-unknown");
	cr_assert(gt(ptr, (void *)last, (void *)strstr(f.text, "include => initech-inbound")));
	cr_assert_not_null(strstr(f.text, "exten => _X.,1,Congestion(5)"));
	cr_assert_null(strstr(f.text, "Goto("), "unknown numbers never reach a tenant");
	pbx_dp_file_free(&f);
}

Test(inbound_router, refuses_bad_slugs_and_job_ids)
{
	static const char *const bad[] = { "pbxctl-evil" }, *const inj[] = { "a]\n[x" };
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err;

	cr_assert(eq(int, pbx_dialplan_inbound_router(bad, 1, "j", &f, &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_dialplan_inbound_router(inj, 1, "j", &f, &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_dialplan_inbound_router(NULL, 0, "j;x", &f, &err), PBX_EINVALID));
	cr_assert_null(f.text);
}

Test(inbound_routes, destinations_defaults_and_refusals)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_file f = generate(&in);

	cr_assert_not_null(strstr(f.text, "exten => +4930123456,1,Goto(acme-internal,1001,1)"));
	cr_assert_not_null(strstr(f.text, "exten => 4930123456,1,Goto(acme-internal,1001,1)"));
	cr_assert_not_null(strstr(f.text, "exten => +4930123457,1,Goto(acme-internal,1002,1)"));
	cr_assert_not_null(strstr(f.text, "exten => +4930123458,1,Set(PBXCTL_BOX=1003)\n"
					  "same => n,VoiceMail(1003@acme,u)\n"));
	/* '*' in the greeting: that box, with its PIN (*98 from its PIN prompt). */
	cr_assert_not_null(strstr(f.text, "exten => a,1,Set(PBXCTL_TRIES=0)\n"
		"same => n,GotoIf(${REGEX(\"^[1-9][0-9]{1,7}$\" ${PBXCTL_BOX})}?acme-internal,*98,known)\n"
		"same => n,Hangup()\n"));
	cr_assert_not_null(strstr(f.text, "exten => +4930123459,1,Goto(acme-outbound,+441632960000,1)"));
	/* disabled, no destination, suspended user: the tenant's default (ext:1003) */
	cr_assert_not_null(strstr(f.text, "exten => +4930123460,1,Goto(acme-internal,1003,1)"));
	cr_assert_not_null(strstr(f.text, "exten => +4930123461,1,Goto(acme-internal,1003,1)"));
	cr_assert_not_null(strstr(f.text, "exten => +4930123462,1,Goto(acme-internal,1003,1)"));
	pbx_dp_file_free(&f);
	/* without a default destination those are refused */
	in.default_inbound = NULL;
	f = generate(&in);
	cr_assert_not_null(strstr(f.text, "exten => +4930123460,1,Congestion(5)"));
	cr_assert_not_null(strstr(f.text, "exten => +4930123461,1,Congestion(5)"));
	pbx_dp_file_free(&f);
	/* a suspended tenant refuses every call */
	t.suspended = true;
	f = generate(&in);
	cr_assert_null(strstr(f.text, "Goto("));
	cr_assert_null(strstr(f.text, "VoiceMail("));
	pbx_dp_file_free(&f);
}

Test(inbound_refused, user_of_another_tenant_or_deleted_since)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_did d = { .number = "+4930123499", .destination = "user:mallory",
				.enabled = true };

	/* mallory is a user of another tenant, or was deleted: acme has no such user */
	in.dids = &d;
	in.n_dids = 1;
	expect_refused(&in, "did +4930123499", "destination", "tenant acme has no user mallory");
	d.destination = "ext:2001";
	expect_refused(&in, "did +4930123499", "destination", "has no user with extension 2001");
	d.destination = "voicemail:bob";
	expect_refused(&in, "did +4930123499", "destination", "user bob has no voicemail box");
	d.destination = "ivr:main";
	expect_refused(&in, "did +4930123499", "destination", "not supported yet");
	d.destination = "user:Bad Name";
	expect_refused(&in, "did +4930123499", "destination", "must be user:USERNAME");
	d.destination = NULL;
	in.default_inbound = "user:gone";
	expect_refused(&in, "tenant acme", "default_inbound", "tenant acme has no user gone");
}

Test(inbound_refused, bad_or_duplicate_numbers)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_did d[2] = {
		{ .number = "+4930123456", .enabled = true },
		{ .number = "+4930123456", .enabled = true },
	};

	in.dids = d;
	in.n_dids = 2;
	expect_refused(&in, "did +4930123456", "number", "listed twice");
	d[1].number = "+49301,1";
	expect_refused(&in, "did +49301,1", "number", "must be +");
}

Test(inbound_hostile, labels_never_add_a_line)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_did d = { .number = "+4930123456", .destination = "user:alice",
				.enabled = true,
				.label = "x\n[globex-internal]\nexten => _X.,1,Dial(PJSIP/x);\r#include /etc/passwd ${SHELL(id)}" };
	struct pbx_dp_file f;
	struct dp_parsed p;

	in.dids = &d;
	in.n_dids = 1;
	f = generate(&in);
	dp_parse(f.text, &p);
	dp_assert_counts(&f, &p);
	cr_assert(eq(sz, p.headers, 1));
	cr_assert(eq(sz, p.exten, 3));      /* the DID twice, and a */
	cr_assert(eq(sz, p.directives, 0));
	cr_assert(eq(sz, p.other, 0));
	cr_assert_null(strstr(f.text, "${SHELL"));
	cr_assert_null(strstr(f.text, "Dial("));
	pbx_dp_file_free(&f);
}

Test(inbound_file, append_keeps_both_parts_and_their_counts)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_file base = PBX_DP_FILE_INIT, add = generate(&in);
	pbx_error err = PBX_ERROR_INIT;
	struct dp_parsed p;

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &base, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_dp_file_append(&base, &add, &err), 0));
	cr_assert_null(add.text);
	cr_assert(eq(sz, base.n_contexts, 4));
	cr_assert(eq(str, base.contexts[3].name, "acme-inbound"));
	dp_parse(base.text, &p);
	dp_assert_counts(&base, &p);
	pbx_dp_file_free(&base);
}

/* A DID to voicemail:carol, '*' in the greeting: carol's box with her PIN, nothing else. */
Test(inbound_routes, star_in_a_voicemail_greeting_asks_for_that_boxs_pin)
{
	struct pbx_dp_tenant t;
	struct pbx_dp_inbound in = model(&t);
	struct pbx_dp_file f = generate(&in), internal = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	char v[PBX_SECRET_VERIFIER_BUFSZ];
	static struct dpe_db db;
	struct dpe_call c = { .vars = { "PBXCTL_BOX=1003" }, .input = { "4821" } };

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &internal, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_dp_file_append(&internal, &f, &err), 0));
	cr_assert(eq(int, pbx_secret_pin_verifier("4821", v, sizeof(v), &err), 0));
	dpe_db_put(&db, "pbxctl/acme/1003/pin", v);
	dpe_run(internal.text, "acme-inbound", "a", &db, &c);
	cr_assert(ge(int, dpe_find(&c, "VoiceMailMain(1003@acme,s)"), 0), "%s", c.trace[0]);
	/* Wrong PIN three times: no box. */
	c = (struct dpe_call){ .vars = { "PBXCTL_BOX=1003" },
			       .input = { "1111", "1003", "2222", "1003", "3333" } };
	dpe_run(internal.text, "acme-inbound", "a", &db, &c);
	cr_assert(eq(int, dpe_find(&c, "VoiceMailMain"), -1));
	/* Reached without a greeting (no box on the channel): hang up at once. */
	c = (struct dpe_call){ .input = { "4821" } };
	dpe_run(internal.text, "acme-inbound", "a", &db, &c);
	cr_assert(eq(int, dpe_find(&c, "Hangup"), 0));
	pbx_dp_file_free(&internal);
}
