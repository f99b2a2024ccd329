/* SPDX-License-Identifier: MIT */
/*
 * lib/core/valid.c and error.c: the strict field patterns and the error record.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "pbx/error.h"
#include "pbx/tenant.h"
#include "pbx/valid.h"

Test(valid, slugs)
{
	cr_assert(pbx_valid_slug("acme"));
	cr_assert(pbx_valid_slug("a1-b2"));
	cr_assert(pbx_valid_slug("abcdefghijklmnopqrstuvwx"));      /* 24 */
	cr_assert(not(pbx_valid_slug("abcdefghijklmnopqrstuvwxy"))); /* 25 */
	cr_assert(not(pbx_valid_slug("a")));
	cr_assert(not(pbx_valid_slug("1acme")));
	cr_assert(not(pbx_valid_slug("Acme")));
	cr_assert(not(pbx_valid_slug("ac;me")));
	cr_assert(not(pbx_valid_slug("ac\nme")));
	cr_assert(not(pbx_valid_slug("")));
	cr_assert(not(pbx_valid_slug(NULL)));
	cr_assert(not(pbx_valid_slug("default")));
	cr_assert(not(pbx_valid_slug("general")));
	cr_assert(not(pbx_valid_slug("pbxctl-meta-x")));
	cr_assert(pbx_valid_slug("defaults"));
}

Test(valid, extensions)
{
	cr_assert(pbx_valid_extension("10"));
	cr_assert(pbx_valid_extension("99999999"));
	cr_assert(not(pbx_valid_extension("9")));
	cr_assert(not(pbx_valid_extension("123456789")));
	cr_assert(not(pbx_valid_extension("0100")));
	cr_assert(not(pbx_valid_extension("10a")));
	cr_assert(not(pbx_valid_extension("10;1")));
}

Test(valid, e164_and_destinations)
{
	cr_assert(pbx_valid_e164("+4930123456"));
	cr_assert(not(pbx_valid_e164("4930123456")));
	cr_assert(not(pbx_valid_e164("+0930123456")));
	cr_assert(not(pbx_valid_e164("+1234567")));
	cr_assert(not(pbx_valid_e164("+1234567890123456")));
	cr_assert(pbx_valid_destination("user:alice"));
	cr_assert(pbx_valid_destination("ext:1001"));
	cr_assert(pbx_valid_destination("voicemail:bob"));
	cr_assert(pbx_valid_destination("external:+4930123456"));
	cr_assert(not(pbx_valid_destination("user:Alice")));
	cr_assert(not(pbx_valid_destination("queue:sales")));
	cr_assert(not(pbx_valid_destination("external:0301234")));
}

Test(valid, text_refuses_control_characters_and_bad_utf8)
{
	cr_assert(pbx_valid_text("Zoë Müller", 128));
	cr_assert(not(pbx_valid_text("a\nb", 128)));
	cr_assert(not(pbx_valid_text("a\tb", 128)));
	cr_assert(not(pbx_valid_text("\xc3", 128)));
	cr_assert(not(pbx_valid_text("\xc2\x85", 128)));   /* NEL, a C1 control */
	cr_assert(not(pbx_valid_text("", 128)));
	cr_assert(not(pbx_valid_text("abcd", 3)));
}

Test(valid, email)
{
	cr_assert(pbx_valid_email("a.b+c@example.org"));
	cr_assert(not(pbx_valid_email("a@b")));
	cr_assert(not(pbx_valid_email("a@@b.org")));
	cr_assert(not(pbx_valid_email("a,b@example.org")));
	cr_assert(not(pbx_valid_email("a@example.org\n")));
}

Test(tenant_range, parses_and_refuses)
{
	pbx_error err;
	int lo, hi;

	cr_assert(eq(int, pbx_tenant_parse_range("tenant a", "1000-1999", &lo, &hi, &err), 0));
	cr_assert(eq(int, lo, 1000));
	cr_assert(eq(int, hi, 1999));
	cr_assert(eq(int, pbx_tenant_parse_range("tenant a", "1999-1000", &lo, &hi, &err),
		     PBX_EINVALID));
	cr_assert(eq(str, err.field, "extensions"));
	cr_assert(eq(int, pbx_tenant_parse_range("tenant a", "1000", &lo, &hi, &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_tenant_parse_range("tenant a", "1-9", &lo, &hi, &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_tenant_parse_range("tenant a", "100-123456789", &lo, &hi, &err),
		     PBX_EINVALID));
	cr_assert(eq(str, err.object, "tenant a"));
}

Test(error, message_is_one_sanitized_line)
{
	pbx_error err;

	cr_assert(eq(int, pbx_errorf(&err, PBX_EINVALID, "user a\nb", "label", "bad %s", "x\ny\r"),
		     PBX_EINVALID));
	cr_assert(eq(str, err.object, "user a?b"));
	cr_assert(eq(str, err.message, "bad x?y?"));
	cr_assert(eq(str, (char *)pbx_code_name(PBX_EINVALID), "invalid"));
}

Test(error, diag_keeps_every_error_and_the_worst_code)
{
	pbx_diag d = PBX_DIAG_INIT;

	pbx_diag_addf(&d, PBX_EINVALID, NULL, NULL, "one");
	pbx_diag_addf(&d, PBX_ECONFLICT, NULL, NULL, "two");
	pbx_diag_addf(&d, PBX_EINVALID, NULL, NULL, "three");
	cr_assert(eq(sz, d.n, 3));
	cr_assert(eq(int, d.worst, PBX_ECONFLICT));
	cr_assert(eq(str, d.items[2].message, "three"));
	pbx_diag_free(&d);
}
