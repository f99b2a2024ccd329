/* SPDX-License-Identifier: MIT */
/*
 * lib/bulk/check.c: the field rules of tenants, users and devices applied to an import
 * file (the same rules and messages as the CLI), required keys, natural-key duplicates and
 * extensions against the file's own range. Each accepted form has a refused partner.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "bulk-test.h"

#define TENANT "tenants:\n- slug: acme\n  extensions: 1000-1999\n  users:\n"

/* Parse TENANT followed by @users; return the problems. */
static int users(const char *text, pbx_diag *diag)
{
	char buf[4096];
	pbx_bulk_doc *doc = NULL;
	int r;

	snprintf(buf, sizeof(buf), TENANT "%s", text);
	r = bt_parse(buf, &doc, diag);
	pbx_bulk_doc_free(doc);
	return r;
}

Test(bulk_check, extension_outside_the_files_range_names_path_and_range)
{
	pbx_diag diag = PBX_DIAG_INIT;
	const pbx_error *e;

	cr_assert(eq(int, users("  - username: alice\n    extension: 2050\n", &diag), PBX_EINVALID));
	e = bt_find(&diag, "outside");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[0].extension"));
	cr_assert(eq(str, (char *)e->message, "2050 is outside acme's range 1000-1999"));
	cr_assert(eq(int, e->line, 6));
	cr_assert(eq(int, e->column, 16));
	pbx_diag_free(&diag);
}

Test(bulk_check, extension_inside_the_range_and_missing_extension_are_accepted)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: alice\n    extension: 1999\n  - username: bob\n"
				"  - username: carol\n    extension: null\n", &diag), 0));
	pbx_diag_free(&diag);
}

Test(bulk_check, malformed_extension_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: a\n    extension: 0100\n"
				"  - username: b\n    extension: ten\n", &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "extension \"0100\" must be 2 to 8 digits"));
	cr_assert_not_null(bt_find(&diag, "extension must be a whole number"));
	pbx_diag_free(&diag);
}

Test(bulk_check, duplicate_usernames_and_extensions_are_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	const pbx_error *e;

	cr_assert(eq(int, users("  - username: alice\n    extension: 1001\n"
				"  - username: alice\n    extension: 1001\n", &diag), PBX_EINVALID));
	e = bt_find(&diag, "username alice is listed twice");
	cr_assert_not_null(e);
	cr_assert_not_null(strstr(e->message, "first as tenants[0].users[0]"));
	cr_assert_not_null(bt_find(&diag, "extension 1001 is listed twice"));
	pbx_diag_free(&diag);
}

Test(bulk_check, duplicate_tenants_and_labels_are_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants:\n- slug: acme\n  extensions: 1000-1999\n  users:\n"
				   "  - username: al\n    devices:\n    - label: desk\n    - label: desk\n"
				   "- slug: acme\n", &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "tenant acme is listed twice"));
	cr_assert_not_null(bt_find(&diag, "label desk is listed twice"));
	pbx_diag_free(&diag);
}

Test(bulk_check, required_keys_are_named)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants:\n- name: No Slug\n  users:\n  - name: No Username\n"
				   "    devices:\n    - transport: udp\n", &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "slug is required"));
	cr_assert_not_null(bt_find(&diag, "username is required"));
	cr_assert_not_null(bt_find(&diag, "label is required"));
	pbx_diag_free(&diag);
}

Test(bulk_check, tenant_fields_follow_the_cli_rules)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants:\n- slug: general\n  extensions: 2000-1000\n"
				   "  status: gone\n  default_inbound: mars:1\n", &doc, &diag),
		      PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "reserved name"));
	cr_assert_not_null(bt_find(&diag, "the first extension must be lower than the last"));
	cr_assert_not_null(bt_find(&diag, "status must be active or suspended"));
	cr_assert_not_null(bt_find(&diag, "default inbound \"mars:1\""));
	pbx_diag_free(&diag);
	cr_assert(eq(int, bt_parse("tenants:\n- slug: acme\n  extensions: 1000-1999\n"
				   "  status: suspended\n  default_inbound: ext:1000\n", &doc, &diag), 0));
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
}

Test(bulk_check, user_fields_follow_the_cli_rules)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: Alice\n    outbound_callerid: abc\n"
				"    forward_to: \"0123\"\n    status: deleted\n", &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "forward destination \"0123\" must be an extension"));
	cr_assert_not_null(bt_find(&diag, "username \"Alice\" must match"));
	cr_assert_not_null(bt_find(&diag, "caller ID \"abc\""));
	cr_assert_not_null(bt_find(&diag, "status deleted cannot be imported"));
	pbx_diag_free(&diag);
	cr_assert(eq(int, users("  - username: alice\n    outbound_callerid: \"+15551234567\"\n"
				"    forward_to: \"+15557654321\"\n    status: suspended\n"
				"    email: \"\"\n", &diag), 0));
	pbx_diag_free(&diag);
}

Test(bulk_check, forward_to_own_extension_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: alice\n    extension: 1001\n    forward_to: 1001\n",
				&diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "cannot forward to its own extension 1001"));
	pbx_diag_free(&diag);
}

Test(bulk_check, weak_pin_is_refused_and_a_good_one_accepted)
{
	pbx_diag diag = PBX_DIAG_INIT;
	const pbx_error *e;

	cr_assert(eq(int, users("  - username: alice\n    extension: 1001\n    pin: \"1234\"\n"
				"  - username: bob\n    extension: 1002\n    pin: \"1002\"\n", &diag),
		      PBX_EINVALID));
	e = bt_find(&diag, "pin must not be a run like 1234");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[0].pin"));
	cr_assert_not_null(bt_find(&diag, "pin must not equal the extension"));
	pbx_diag_free(&diag);
	cr_assert(eq(int, users("  - username: alice\n    pin: \"80417\"\n", &diag), 0));
	pbx_diag_free(&diag);
}

Test(bulk_check, device_fields_follow_the_cli_rules)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: alice\n    devices:\n    - label: desk\n"
				"      transport: carrier-pigeon\n      codecs: [ulaw, speex]\n"
				"      user: bob\n      enabled: maybe\n", &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "transport \"carrier-pigeon\""));
	cr_assert_not_null(bt_find(&diag, "codec \"speex\" is unknown"));
	cr_assert_not_null(bt_find(&diag, "user \"bob\" is not the user this device is listed under"));
	cr_assert_not_null(bt_find(&diag, "enabled must be true or false"));
	pbx_diag_free(&diag);
	cr_assert(eq(int, users("  - username: alice\n    devices:\n    - label: desk\n"
				"      transport: tls\n      codecs: \"opus, g722\"\n      user: alice\n"
				"      enabled: False\n", &diag), 0));
	pbx_diag_free(&diag);
}

Test(bulk_check, a_real_secret_in_the_file_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: alice\n    devices:\n    - label: desk\n"
				"      secret: hunter2hunter2\n", &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "secrets are generated, never read from a file"));
	pbx_diag_free(&diag);
}

Test(bulk_check, more_than_ten_devices_are_refused)
{
	char buf[2048] = "  - username: alice\n    devices:\n";
	pbx_diag diag = PBX_DIAG_INIT;

	for (int i = 0; i < 11; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "    - label: d%d\n", i);
	cr_assert(eq(int, users(buf, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "11 devices are listed; a user has at most 10"));
	pbx_diag_free(&diag);
}

Test(bulk_check, null_where_a_value_is_required_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, users("  - username: alice\n    name: null\n    voicemail: ~\n", &diag),
		      PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "name cannot be null"));
	cr_assert_not_null(bt_find(&diag, "voicemail cannot be null"));
	pbx_diag_free(&diag);
}
