/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/dialplan/voicemail.c: the golden fragment, one box per active user with
 * voicemail and no password, invalid e-mail dropped, a suspended tenant without boxes,
 * and refused identifiers.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan.h"

#include "dp-test.h"

static struct pbx_dp_file vm_ok(const struct pbx_dp_tenant *t)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_voicemail(t, &f, &err), 0), "%s: %s", err.object,
		  err.message);
	return f;
}

/* Lines of the form "EXT => value". */
static size_t boxes(const char *text)
{
	size_t n = 0;

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		size_t digits = strspn(l, "0123456789");

		if (digits && !strncmp(l + digits, " => ", 4))
			n++;
	}
	return n;
}

Test(voicemail_golden, fragment_matches_golden)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = vm_ok(&t);

	dp_golden("voicemail-acme.conf", f.text);
	cr_assert(eq(str, f.name, "acme.conf"));
	cr_assert(eq(sz, f.n_contexts, 0), "not dialplan: nothing for ShowDialPlan");
	pbx_dp_file_free(&f);
}

Test(voicemail_boxes, one_box_per_active_user_with_voicemail_no_password)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = vm_ok(&t);

	/* alice, carol, erin, grace, heidi, judy; not ivan (suspended), not bob/dave/frank/kim. */
	cr_assert(eq(sz, boxes(f.text), 6));
	cr_assert(eq(sz, dp_count_prefix(f.text, "["), 1));
	cr_assert(eq(sz, dp_count_prefix(f.text, "[acme]\n"), 1));
	cr_assert(eq(sz, dp_count_prefix(f.text, "1001 => ,Alice Smith,alice@example.com\n"), 1));
	cr_assert(eq(sz, dp_count_prefix(f.text, "1009 => "), 0));
	cr_assert(eq(sz, dp_count_prefix(f.text, "1002 => "), 0));
	pbx_dp_file_free(&f);
}

Test(voicemail_boxes, invalid_email_is_dropped)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	struct pbx_dp_file f = vm_ok(&t);

	cr_assert(eq(sz, dp_count_prefix(f.text, "1003 => ,Carol,\n"), 1));
	cr_assert_null(strstr(f.text, "not an address"));
	pbx_dp_file_free(&f);
}

Test(voicemail_boxes, suspended_tenant_has_no_boxes)
{
	struct pbx_dp_tenant t = dp_fixture_globex();
	struct pbx_dp_file f = vm_ok(&t);

	cr_assert(eq(sz, boxes(f.text), 0));
	cr_assert(eq(sz, dp_count_prefix(f.text, "[globex]\n"), 1));
	pbx_dp_file_free(&f);
	/* Partner: the same tenant, not suspended, has its box. */
	t.suspended = false;
	f = vm_ok(&t);
	cr_assert(eq(sz, dp_count_prefix(f.text, "100 => ,,\n"), 1));
	pbx_dp_file_free(&f);
}

Test(voicemail_boxes, bad_extension_refused)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	u->extension = "10]\n[x";
	cr_assert(eq(int, pbx_dialplan_voicemail(&t, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, "user alice"));
	cr_assert(eq(str, err.field, "extension"));
	cr_assert(eq(str, err.message, "extension \"10]?[x\" must be 2 to 8 digits"));
	cr_assert_null(f.text);
}

Test(voicemail_boxes, duplicate_box_refused)
{
	struct pbx_dp_user users[] = {
		{ .username = "ann", .extension = "1001", .voicemail = true, .active = true },
		{ .username = "ben", .extension = "1001", .voicemail = true, .active = true },
	};
	struct pbx_dp_tenant t = { .slug = "acme", .users = users, .n_users = 2, .job_id = "j1" };
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_voicemail(&t, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.message, "extension 1001 is already used by user ann"));
	users[1].voicemail = false;
	f = vm_ok(&t);
	cr_assert(eq(sz, boxes(f.text), 1));
	pbx_dp_file_free(&f);
}
