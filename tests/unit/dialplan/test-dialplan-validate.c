/* SPDX-License-Identifier: MIT */
/*
 * Tests of the identifier validators in lib/dialplan/validate.c, each with values that
 * must pass and values that must be refused, and of the tenant-level refusals (slug,
 * job id) with their error object, field and message.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan.h"

#include "dp-test.h"

#define ALL(fn, list, want)                                                          \
	do {                                                                         \
		for (size_t i_ = 0; i_ < sizeof(list) / sizeof(list[0]); i_++)      \
			cr_assert(eq(int, fn(list[i_]), want), #fn "(\"%s\")",      \
				  list[i_] ? list[i_] : "(null)");                  \
	} while (0)

Test(valid_slug, accepts_slugs)
{
	const char *ok[] = { "acme", "ab", "a1", "acme-corp", "a-", "abcdefghijklmnopqrstuvwx" };

	ALL(pbx_dialplan_valid_slug, ok, true);
}

Test(valid_slug, refuses_bad_and_reserved_slugs)
{
	const char *bad[] = { NULL, "", "a", "Acme", "1acme", "-acme", "acme;", "acme corp",
			      "acme\n", "acme_corp", "abcdefghijklmnopqrstuvwxy", "acmé",
			      "general", "globals", "zonemessages", "default", "pbxctl",
			      "pbxctl-meta-x", "pbxctlx" };

	ALL(pbx_dialplan_valid_slug, bad, false);
}

Test(valid_extension, accepts_two_to_eight_digits)
{
	const char *ok[] = { "10", "1001", "0123", "12345678" };

	ALL(pbx_dialplan_valid_extension, ok, true);
}

Test(valid_extension, refuses_everything_else)
{
	const char *bad[] = { NULL, "", "1", "123456789", "10;01", "1001\n", "10a1", "*97",
			      "+1001", " 1001", "1001 ", "_X.", "10,1" };

	ALL(pbx_dialplan_valid_extension, bad, false);
}

Test(valid_endpoint, accepts_endpoint_ids)
{
	const char *ok[] = { "acme-k3f9x2q7m1ab", "a", "0", "acme-1001-desk",
			     "abcdefghijabcdefghijabcdefghijabcdefghij" };

	ALL(pbx_dialplan_valid_endpoint, ok, true);
}

Test(valid_endpoint, refuses_everything_else)
{
	const char *bad[] = { NULL, "", "Acme-x", "acme_x", "acme-x;y", "acme-x)", "acme-x&PJSIP/y",
			      "acme x", "acme/x", "acme-x\n",
			      "abcdefghijabcdefghijabcdefghijabcdefghijk" };

	ALL(pbx_dialplan_valid_endpoint, bad, false);
}

Test(valid_e164, accepts_e164_numbers)
{
	const char *ok[] = { "+4930123456", "+12025550123", "+49301234", "+123456789012345" };

	ALL(pbx_dialplan_valid_e164, ok, true);
}

Test(valid_e164, refuses_everything_else)
{
	const char *bad[] = { NULL, "", "+", "4930123456", "+0930123456", "+4930123",
			      "+1234567890123456", "+49 30 123456", "+4930123456;", "++4930123456",
			      "+49301x3456" };

	ALL(pbx_dialplan_valid_e164, bad, false);
}

Test(valid_job_id, accepts_job_ids)
{
	const char *ok[] = { "1", "job-0001", "A1b2-C3d4", "0123456789012345678901234567890123456789012345678901234567890123" };

	ALL(pbx_dialplan_valid_job_id, ok, true);
}

Test(valid_job_id, refuses_everything_else)
{
	const char *bad[] = { NULL, "", "job 1", "job;1", "job)1", "job_1", "job\n1",
			      "01234567890123456789012345678901234567890123456789012345678901234" };

	ALL(pbx_dialplan_valid_job_id, bad, false);
}

Test(valid_email, accepts_simple_addresses)
{
	const char *ok[] = { "alice@example.com", "a.b+tag@mail.example.co.uk", "x_y-z@a-b.io",
			     "A1@B2.CD" };

	ALL(pbx_dialplan_valid_email, ok, true);
}

Test(valid_email, refuses_everything_else)
{
	const char *bad[] = { NULL, "", "alice", "alice@", "@example.com", "alice@example",
			      "alice@@example.com", ".alice@example.com", "alice.@example.com",
			      "al..ice@example.com", "alice@-example.com", "alice@example-.com",
			      "alice@example..com", "alice,bob@example.com", "alice;x@example.com",
			      "alice@example.com\n", "Alice <alice@example.com>",
			      "al ice@example.com", "alice@exa_mple.com" };

	ALL(pbx_dialplan_valid_email, bad, false);
}

static void expect_tenant_refused(const struct pbx_dp_tenant *t, const char *object,
				  const char *field, const char *message)
{
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_tenant(t, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, (char *)object));
	cr_assert(eq(str, err.field, (char *)field));
	cr_assert(eq(str, err.message, (char *)message));
	cr_assert_null(f.text);
	err = (pbx_error)PBX_ERROR_INIT;
	cr_assert(eq(int, pbx_dialplan_voicemail(t, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, (char *)field));
	cr_assert_null(f.text);
}

Test(tenant_identifiers, bad_slug_refused)
{
	struct pbx_dp_tenant t = dp_fixture_initech();

	t.slug = "Init;ech";
	expect_tenant_refused(&t, "tenant Init;ech", "slug",
			      "slug \"Init;ech\" must match [a-z][a-z0-9-]{1,23}");
	t.slug = "pbxctl-meta-x";
	expect_tenant_refused(&t, "tenant pbxctl-meta-x", "slug",
			      "slug \"pbxctl-meta-x\" is reserved (general, globals, "
			      "zonemessages, default and names starting with pbxctl)");
	t.slug = NULL;
	expect_tenant_refused(&t, "tenant (null)", "slug",
			      "slug \"\" must match [a-z][a-z0-9-]{1,23}");
}

Test(tenant_identifiers, bad_job_id_refused)
{
	struct pbx_dp_tenant t = dp_fixture_initech();

	t.job_id = "job-1)\nexten => 666,1,Dial(x";
	expect_tenant_refused(&t, "tenant initech", "job_id",
			      "apply job id \"job-1)?exten => 666,1,Dial(x\" must match "
			      "[A-Za-z0-9-]{1,64}");
	t.job_id = NULL;
	expect_tenant_refused(&t, "tenant initech", "job_id",
			      "apply job id \"\" must match [A-Za-z0-9-]{1,64}");
}

Test(tenant_identifiers, suspended_tenant_identifiers_still_checked)
{
	struct pbx_dp_tenant t = dp_fixture_globex();

	t.job_id = "a b";
	expect_tenant_refused(&t, "tenant globex", "job_id",
			      "apply job id \"a b\" must match [A-Za-z0-9-]{1,64}");
}
