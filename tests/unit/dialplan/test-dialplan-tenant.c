/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/dialplan/tenant.c: the golden files of a normal, a suspended and an empty
 * tenant; the context counts against the independent parser; the call handling of each
 * kind of user; determinism; tenant isolation; and the models that must be refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan.h"

#include "dp-test.h"

static struct pbx_dp_file generate_ok(const struct pbx_dp_tenant *t)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	int r = pbx_dialplan_tenant(t, &f, &err);

	cr_assert(eq(int, r, 0), "pbx_dialplan_tenant failed: %s: %s", err.object, err.message);
	cr_assert_not_null(f.text);
	return f;
}

static void expect_refused(const struct pbx_dp_tenant *t, const char *object,
			   const char *field, const char *message)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	int r = pbx_dialplan_tenant(t, &f, &err);

	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(int, err.code, PBX_EINVALID));
	cr_assert(eq(str, err.object, (char *)object));
	cr_assert(eq(str, err.field, (char *)field));
	if (message)
		cr_assert(eq(str, err.message, (char *)message));
	cr_assert_null(f.text, "ret must not be written on failure");
	cr_assert_null(f.name);
}

/* Clean structure: only headers, comments, blanks and priorities of known apps. */
static void assert_clean(const struct dp_parsed *p, size_t headers)
{
	cr_assert(eq(sz, p->headers, headers));
	cr_assert(eq(sz, p->n_ctx, headers));
	cr_assert(eq(sz, p->directives, 0));
	cr_assert(eq(sz, p->block_comments, 0));
	cr_assert(eq(sz, p->includes, 0));
	cr_assert(eq(sz, p->other, 0));
	cr_assert(eq(sz, p->unknown_apps, 0));
	cr_assert(eq(sz, p->cut_priorities, 0));
}

Test(tenant_golden, normal_tenant_matches_golden_and_counts)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);
	struct dp_parsed p;

	dp_golden("tenant-acme.conf", f.text);
	dp_parse(f.text, &p);
	assert_clean(&p, 3);
	dp_assert_counts(&f, &p);
	pbx_dp_file_free(&f);
}

Test(tenant_golden, suspended_tenant_matches_golden_and_counts)
{
	struct pbx_dp_tenant t = dp_fixture_globex();
	struct pbx_dp_file f = generate_ok(&t);
	struct dp_parsed p;

	dp_golden("tenant-suspended.conf", f.text);
	dp_parse(f.text, &p);
	assert_clean(&p, 2);
	dp_assert_counts(&f, &p);
	pbx_dp_file_free(&f);
}

Test(tenant_golden, empty_tenant_matches_golden_and_counts)
{
	struct pbx_dp_tenant t = dp_fixture_initech();
	struct pbx_dp_file f = generate_ok(&t);
	struct dp_parsed p;

	dp_golden("tenant-empty.conf", f.text);
	dp_parse(f.text, &p);
	assert_clean(&p, 3);
	dp_assert_counts(&f, &p);
	pbx_dp_file_free(&f);
}

/* Counted by hand from the model, independently of both generator and parser. */
Test(tenant_counts, normal_tenant_counts_by_hand)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);

	/*
	 * Each user first reads DND and the forward (7 priorities without outbound calling),
	 * then: a device and voicemail 8 (alice, erin, grace, heidi, judy: 5 x 15 = 75), a
	 * device without voicemail 4 (bob, frank, kim: 3 x 11 = 33), no device 4 (carol,
	 * dave: 2 x 11 = 22): 130 in 10 extensions. *97: 6 device checks (alice 2, erin,
	 * grace, heidi, judy) + 2 fallback + 2 per box with a device (10) = 18. Feature codes:
	 * *76 *78 *79 *73 9 each (whoami 2, value 1, store 6), *72 11 (whoami 2, Read, check,
	 * Goto, store 6), _*72X. 6, *98 16 = 69 in 7 extensions. _X., _*X., i: 6.
	 * Internal: 21 extensions, 223 priorities. acme-whoami: s with Set, 9 endpoint checks,
	 * Return, and 2 per user with a device (8): 27. Meta: 1.
	 */
	cr_assert(eq(sz, f.n_contexts, 3));
	cr_assert(eq(str, f.contexts[0].name, "acme-internal"));
	cr_assert(eq(sz, f.contexts[0].extensions, 21));
	cr_assert(eq(sz, f.contexts[0].priorities, 223));
	cr_assert(eq(str, f.contexts[1].name, "acme-whoami"));
	cr_assert(eq(sz, f.contexts[1].extensions, 1));
	cr_assert(eq(sz, f.contexts[1].priorities, 27));
	cr_assert(eq(str, f.contexts[2].name, "pbxctl-meta-acme"));
	cr_assert(eq(sz, f.contexts[2].extensions, 1));
	cr_assert(eq(sz, f.contexts[2].priorities, 1));
	pbx_dp_file_free(&f);
}

Test(tenant_counts, suspended_and_empty_counts_by_hand)
{
	struct pbx_dp_tenant s = dp_fixture_globex(), e = dp_fixture_initech();
	struct pbx_dp_file fs = generate_ok(&s), fe = generate_ok(&e);

	cr_assert(eq(str, fs.contexts[0].name, "globex-internal"));
	cr_assert(eq(sz, fs.contexts[0].extensions, 4));     /* _X. _*X. s i */
	cr_assert(eq(sz, fs.contexts[0].priorities, 8));
	cr_assert(eq(str, fe.contexts[0].name, "initech-internal"));
	/* *97 (2), the 7 feature codes (69), _X. _*X. i (6) */
	cr_assert(eq(sz, fe.contexts[0].extensions, 11));
	cr_assert(eq(sz, fe.contexts[0].priorities, 77));
	cr_assert(eq(str, fe.contexts[1].name, "initech-whoami"));
	cr_assert(eq(sz, fe.contexts[1].priorities, 2));      /* Set, Return */
	pbx_dp_file_free(&fs);
	pbx_dp_file_free(&fe);
}

Test(tenant_file, named_after_slug_with_header_and_marker)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert(eq(str, f.name, "acme.conf"));
	cr_assert(eq(int, strncmp(f.text, "; generated by pbxctl \xe2\x80\x94 do not edit; job job-0001\n",
				  strlen("; generated by pbxctl \xe2\x80\x94 do not edit; job job-0001\n")), 0));
	cr_assert_not_null(strstr(f.text, "\n[pbxctl-meta-acme]\nexten => version,1,NoOp(job-0001)\n"));
	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => version,"), 1));
	pbx_dp_file_free(&f);
}

Test(tenant_file, suspended_tenant_still_has_marker)
{
	struct pbx_dp_tenant t = dp_fixture_globex();
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert_not_null(strstr(f.text, "[pbxctl-meta-globex]\nexten => version,1,NoOp(job-0002)\n"));
	pbx_dp_file_free(&f);
}

Test(tenant_file, same_model_in_any_order_gives_same_bytes)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file a = generate_ok(&t), b;
	struct pbx_dp_user rev[16];
	const char *eps_rev[16][PBX_DP_MAX_DEVICES];

	cr_assert(t.n_users <= 16);
	for (size_t i = 0; i < t.n_users; i++) {
		rev[i] = t.users[t.n_users - 1 - i];
		for (size_t j = 0; j < rev[i].n_endpoints; j++)
			eps_rev[i][j] = rev[i].endpoints[rev[i].n_endpoints - 1 - j];
		rev[i].endpoints = eps_rev[i];
	}
	t.users = rev;
	b = generate_ok(&t);
	cr_assert(eq(str, a.text, b.text));
	pbx_dp_file_free(&a);
	pbx_dp_file_free(&b);
}

Test(tenant_calls, user_rings_all_enabled_devices_then_voicemail)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert_not_null(strstr(f.text,
		"same => n(ring),Dial(PJSIP/acme-k3f9x2q7m1ab&PJSIP/acme-p8w2m4x9c7de,20)\n"
		"same => n,GotoIf($[\"${DIALSTATUS}\" = \"BUSY\"]?busy)\n"
		"same => n,VoiceMail(1001@acme,u)\n"
		"same => n,Hangup()\n"
		"same => n(busy),VoiceMail(1001@acme,b)\n"
		"same => n,Hangup()\n"));
	cr_assert_not_null(strstr(f.text, "same => n(ring),Dial(PJSIP/acme-b0b0desk0001,20)\n"
					  "same => n,Hangup()\n"));
	pbx_dp_file_free(&f);
}

Test(tenant_calls, users_without_device_and_call_time_state)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);

	/* DND and the forward are read from AstDB at call time, in the tenant's own family. */
	cr_assert_not_null(strstr(f.text, "exten => 1003,1,GotoIf($[\"${DB(pbxctl/acme/1003/dnd)}\" = \"1\"]?dnd)\n"
					  "same => n,Set(PBXCTL_FWD=${DB(pbxctl/acme/1003/forward)})\n"));
	cr_assert_not_null(strstr(f.text, "same => n(ring),VoiceMail(1003@acme,u)\nsame => n,Hangup()\n"
					  "same => n(dnd),VoiceMail(1003@acme,b)\n"));
	cr_assert_not_null(strstr(f.text, "same => n(ring),Playback(vm-nobodyavail)\nsame => n,Hangup()\n"
					  "same => n(dnd),Busy(10)\n"));
	/* No outbound calling: a forward can only reach an extension of the tenant. */
	cr_assert_null(strstr(f.text, "fwdext"));
	cr_assert_not_null(strstr(f.text, "same => n(fwdint),GotoIf(${DB_EXISTS(pbxctl/acme/${PBXCTL_FWD}/dnd)}"
					  "?acme-internal,${PBXCTL_FWD},1)\n"));
	/* No other tenant's family or context is named anywhere. */
	for (const char *p = strstr(f.text, "pbxctl/"); p; p = strstr(p + 1, "pbxctl/"))
		cr_assert(eq(int, strncmp(p, "pbxctl/acme/", 12), 0));
	pbx_dp_file_free(&f);
}

Test(tenant_calls, forward_to_a_number_only_with_outbound_calling)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f;

	t.outbound = true;
	f = generate_ok(&t);
	/* The forwarding user is named, so that its policy decides (outbound.c). */
	cr_assert_not_null(strstr(f.text, "same => n(fwdext),Set(PBXCTL_FWDBY=1001)\n"
				       "same => n,Goto(acme-outbound,${PBXCTL_FWD},1)\n"));
	cr_assert_not_null(strstr(f.text, "GotoIf(${REGEX(\"^[+]?[0-9]{2,20}$\" ${PBXCTL_FWD})}?fwdext)"));
	pbx_dp_file_free(&f);
}

Test(tenant_calls, inactive_user_has_no_extension)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => 1009,"), 0));
	cr_assert_null(strstr(f.text, "acme-1van00000001"), "a suspended user's device is never dialled");
	pbx_dp_file_free(&f);
}

Test(tenant_calls, active_user_partner_has_extension)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => 1001,"), 1));
	pbx_dp_file_free(&f);
	u->active = false;
	f = generate_ok(&t);
	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => 1001,"), 0));
	pbx_dp_file_free(&f);
}

Test(tenant_calls, ring_time_is_the_tenants)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	struct pbx_dp_file f;

	t.ring_seconds = 30;
	f = generate_ok(&t);
	cr_assert_not_null(strstr(f.text, "same => n(ring),Dial(PJSIP/acme-one,30)\n"));
	pbx_dp_file_free(&f);
}

Test(tenant_calls, ring_time_out_of_range_refused)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);

	t.ring_seconds = -1;
	expect_refused(&t, "tenant acme", "ring_seconds", "ring time -1 must be 1 to 300 seconds");
	t.ring_seconds = 301;
	expect_refused(&t, "tenant acme", "ring_seconds", NULL);
}

Test(tenant_calls, voicemail_access_by_own_device_only)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert_not_null(strstr(f.text,
		"exten => *97,1,GotoIf($[\"${CHANNEL(endpoint)}\" = \"acme-k3f9x2q7m1ab\"]?vm1001)\n"
		"same => n,GotoIf($[\"${CHANNEL(endpoint)}\" = \"acme-p8w2m4x9c7de\"]?vm1001)\n"));
	cr_assert_not_null(strstr(f.text, "same => n(vm1001),VoiceMailMain(1001@acme,s)\nsame => n,Hangup()\n"));
	/* bob has no voicemail: his device opens no box; nobody uses the caller ID. */
	cr_assert_null(strstr(f.text, "\"acme-b0b0desk0001\"]?vm"));
	cr_assert_null(strstr(f.text, "CALLERID"));
	pbx_dp_file_free(&f);
}

Test(tenant_isolation, only_own_contexts_are_reachable)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = generate_ok(&t);
	size_t gotos = 0;

	/* Every jump that names a context (three arguments) names one of the tenant's own. */
	for (const char *g = strstr(f.text, "=> "); g; g = strstr(g + 1, "=> ")) {
		const char *eol = strchr(g, '\n'), *arg = NULL;
		size_t commas = 0;

		if ((arg = strstr(g, "Goto(")) && arg < eol)
			arg += 5;
		else if ((arg = strstr(g, "Gosub(")) && arg < eol)
			arg += 6;
		else if ((arg = strstr(g, "GotoIf(")) && arg < eol && (arg = strchr(arg, '?')) &&
			 arg < eol)
			arg += 1;
		else
			continue;
		for (const char *c = arg; c < eol && *c != ')'; c++)
			commas += *c == ',';
		if (commas < 2)
			continue;
		gotos++;
		cr_assert(eq(int, !strncmp(arg, "acme-internal,", 14) ||
				  !strncmp(arg, "acme-outbound,", 14) ||
				  !strncmp(arg, "acme-whoami,", 12), 1),
			  "jump to a foreign context: %.60s", g);
	}
	/* *76 *78 *79 _*72X. *72 *73 Gosub, and 10 users' forwards to an extension. */
	cr_assert(eq(sz, gotos, 16));
	cr_assert_null(strstr(f.text, "include"));
	for (const char *d = strstr(f.text, "PJSIP/"); d; d = strstr(d + 1, "PJSIP/"))
		cr_assert(eq(int, strncmp(d, "PJSIP/acme-", 11), 0));
	pbx_dp_file_free(&f);
}

Test(tenant_isolation, foreign_endpoint_refused)
{
	static const char *const foreign[] = { "globex-aaaa" };
	static const char *const bare[] = { "acme-" };
	static const char *const longer_slug[] = { "acmex-1" };
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);

	u->endpoints = foreign;
	expect_refused(&t, "user alice", "endpoint",
		       "device endpoint \"globex-aaaa\" does not belong to tenant acme "
		       "(it must start with \"acme-\")");
	u->endpoints = bare;
	expect_refused(&t, "user alice", "endpoint", NULL);
	u->endpoints = longer_slug;
	expect_refused(&t, "user alice", "endpoint", NULL);
}

Test(tenant_isolation, suspended_tenant_dials_nothing)
{
	struct pbx_dp_tenant t = dp_fixture_globex();
	struct pbx_dp_file f = generate_ok(&t);

	cr_assert_null(strstr(f.text, "Dial("));
	cr_assert_null(strstr(f.text, "VoiceMail"));
	cr_assert_null(strstr(f.text, "Goto"));
	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => _X.,1,Playback(ss-noservice)"), 1));
	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => _*X.,1,Playback(ss-noservice)"), 1));
	cr_assert(eq(sz, dp_count_prefix(f.text, "exten => s,1,Playback(ss-noservice)"), 1));
	pbx_dp_file_free(&f);
}

Test(tenant_devices, sixteen_devices_fit_seventeen_refused)
{
	static char ids[17][48];
	static const char *eps[17];
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	struct pbx_dp_file f;
	struct dp_parsed p;

	for (size_t i = 0; i < 17; i++) {
		/* the longest ids there are: 40 characters */
		snprintf(ids[i], sizeof(ids[i]), "acme-%035zu", i);
		eps[i] = ids[i];
	}
	u->endpoints = eps;
	u->n_endpoints = 16;
	f = generate_ok(&t);
	dp_parse(f.text, &p);
	assert_clean(&p, 3);
	dp_assert_counts(&f, &p);
	for (const char *l = f.text; *l; l = strchr(l, '\n') + 1)
		cr_assert(lt(sz, strcspn(l, "\n"), 1024));
	pbx_dp_file_free(&f);
	u->n_endpoints = 17;
	expect_refused(&t, "user alice", "devices", "17 enabled devices; at most 16 can ring at once");
}

Test(tenant_devices, duplicate_endpoint_refused)
{
	static const char *const twice[] = { "acme-a", "acme-a" };
	static const char *const ea[] = { "acme-a" };
	struct pbx_dp_user users[] = {
		{ .username = "ann", .extension = "1001", .endpoints = ea, .n_endpoints = 1,
		  .active = true },
		{ .username = "ben", .extension = "1002", .endpoints = ea, .n_endpoints = 1,
		  .active = true },
	};
	struct pbx_dp_tenant t = { .slug = "acme", .users = users, .n_users = 2, .job_id = "j1" };

	expect_refused(&t, "user ben", "endpoint",
		       "device endpoint \"acme-a\" already rings for user ann");
	users[1].endpoints = twice;
	users[1].n_endpoints = 2;
	users[0].active = false;
	expect_refused(&t, "user ben", "endpoint", "device endpoint \"acme-a\" is listed twice");
}

Test(tenant_users, duplicate_extension_refused_unless_inactive)
{
	struct pbx_dp_user users[] = {
		{ .username = "ann", .extension = "1001", .active = true },
		{ .username = "ben", .extension = "1001", .active = true },
	};
	struct pbx_dp_tenant t = { .slug = "acme", .users = users, .n_users = 2, .job_id = "j1" };
	struct pbx_dp_file f;

	expect_refused(&t, "user ben", "extension", "extension 1001 is already used by user ann");
	users[0].active = false;
	f = generate_ok(&t);
	pbx_dp_file_free(&f);
}

Test(tenant_users, unnamed_user_is_named_by_position)
{
	struct pbx_dp_user users[] = {
		{ .username = "ann", .extension = "1001", .active = true },
		{ .username = NULL, .extension = "1x", .active = true },
	};
	struct pbx_dp_tenant t = { .slug = "acme", .users = users, .n_users = 2, .job_id = "j1" };

	expect_refused(&t, "user #2", "extension", "extension \"1x\" must be 2 to 8 digits");
}
