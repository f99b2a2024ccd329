/* SPDX-License-Identifier: MIT */
/*
 * lib/bulk/check-routing.c, check-dids.c, check-trunks.c, check-policies.c: phone numbers,
 * trunks, outbound policies and their rules in an import file, each field against the
 * CLI's rule, and natural keys that must be unique (a number and a trunk name across the
 * whole file, a policy name in its tenant).
 * Every accepted form has a refused partner. The shipped examples must read without a
 * problem.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk-test.h"

#define T "tenants:\n- slug: acme\n  extensions: 100-199\n"

static int parse(const char *text, pbx_diag *diag)
{
	pbx_bulk_doc *doc = NULL;
	int r = bt_parse(text, &doc, diag);

	pbx_bulk_doc_free(doc);
	return r;
}

Test(bulk_check_routing, good_dids_trunks_and_policies_are_accepted)
{
	pbx_diag diag = PBX_DIAG_INIT;
	int r = parse("trunks:\n- name: carrier\n  host: sip.example.com\n  auth: registration\n"
		      "  username: acct\n  secret: s3cret\n" T
		      "  trunks:\n  - name: acme-pri\n    host: 203.0.113.1\n    auth: ip_auth\n"
		      "    match: [203.0.113.1, 198.51.100.0/24]\n    callerid_mode: force\n"
		      "    callerid: \"+15551230000\"\n"
		      "  policies:\n  - name: std\n    description: Standard\n    rules:\n"
		      "    - pattern: \"^911$\"\n      action: allow\n      trunks: [acme-pri, carrier]\n"
		      "    - pattern: \"^1900\"\n      action: block\n"
		      "    - pattern: \"^011\"\n      action: allow\n      strip: 3\n      prepend: \"+\"\n"
		      "      trunks: [carrier]\n"
		      "  dids:\n  - number: \"+15551230100\"\n    label: Main\n    destination: user:alice\n"
		      "  - number: \"+15551230101\"\n    tenant: acme\n    enabled: false\n", &diag);

	if (r)
		bt_dump(&diag);
	cr_assert(eq(int, r, 0));
	pbx_diag_free(&diag);
}

Test(bulk_check_routing, bad_dids_are_refused_with_their_path)
{
	pbx_diag diag = PBX_DIAG_INIT;
	const pbx_error *e;

	cr_assert(eq(int, parse(T "  dids:\n  - number: \"5551230100\"\n  - number: \"+15551230100\"\n"
				"    destination: ring_group:sales\n    tenant: other\n  - label: x\n",
				&diag), PBX_EINVALID));
	e = bt_find(&diag, "must be E.164");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].dids[0].number"));
	cr_assert_not_null(bt_find(&diag, "not supported yet"));
	cr_assert_not_null(bt_find(&diag, "tenant \"other\" is not the tenant this is listed under"));
	cr_assert_not_null(bt_find(&diag, "number is required"));
	pbx_diag_free(&diag);
}

Test(bulk_check_routing, a_number_or_trunk_name_twice_in_the_file_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, parse("trunks:\n- name: k1\n  host: a.example\n  auth: ip_auth\n  match: [10.0.0.1]\n"
				T "  trunks:\n  - name: k1\n    host: b.example\n    auth: ip_auth\n"
				"    match: [10.0.0.2]\n  dids:\n  - number: \"+15551230100\"\n"
				"- slug: beta\n  extensions: 100-199\n  dids:\n  - number: \"+15551230100\"\n",
				&diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "trunk k1 is listed twice; first as trunks[0]"));
	cr_assert_not_null(bt_find(&diag, "number +15551230100 is listed twice; first as tenants[0].dids[0]"));
	pbx_diag_free(&diag);
}

Test(bulk_check_routing, bad_trunks_are_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, parse("trunks:\n- name: Bad_Name\n  host: \"bad host\"\n  port: 70000\n"
				"  transport: sctp\n  auth: magic\n  match: [10.0.0.0/99]\n"
				"  callerid_mode: sometimes\n  callerid: abc\n  codecs: [speex]\n"
				"  tenant: acme\n", &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "port must be 1 to 65535"));
	cr_assert_not_null(bt_find(&diag, "transport must be udp, tcp or tls"));
	cr_assert_not_null(bt_find(&diag, "auth must be registration or ip_auth"));
	cr_assert_not_null(bt_find(&diag, "callerid_mode must be pass or force"));
	cr_assert_not_null(bt_find(&diag, "callerid \"abc\""));
	cr_assert_not_null(bt_find(&diag, "codec \"speex\" is unknown"));
	cr_assert_not_null(bt_find(&diag, "global trunks have tenant null"));
	cr_assert(ge(sz, diag.n, 9));
	pbx_diag_free(&diag);
}

Test(bulk_check_routing, bad_policies_and_rules_are_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	const pbx_error *e;

	cr_assert(eq(int, parse(T "  policies:\n  - name: std\n    rules:\n"
				"    - pattern: \"${EXTEN}\"\n      action: allow\n      trunks: [k]\n"
				"    - pattern: \"^1900\"\n      action: block\n      trunks: [k]\n"
				"    - pattern: \"^1\"\n      action: allow\n"
				"    - pattern: \"^2\"\n      action: maybe\n      strip: 99\n"
				"      prepend: \"abc\"\n    - pattern: \"^3\"\n      action: allow\n"
				"      trunks: [k, k]\n  - name: std\n", &diag), PBX_EINVALID));
	e = bt_find(&diag, "a block rule takes no trunks");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].policies[0].rules[1].trunks"));
	cr_assert_not_null(bt_find(&diag, "an allow rule needs its trunks"));
	cr_assert_not_null(bt_find(&diag, "action must be allow or block"));
	cr_assert_not_null(bt_find(&diag, "strip must be 0 to 20"));
	cr_assert_not_null(bt_find(&diag, "trunk k is listed twice in one rule"));
	cr_assert_not_null(bt_find(&diag, "policy std is listed twice"));
	cr_assert(ge(sz, diag.n, 8));
	pbx_diag_free(&diag);
}

Test(bulk_check_routing, a_user_policy_name_is_checked_for_syntax)
{
	pbx_diag diag = PBX_DIAG_INIT;

	cr_assert(eq(int, parse(T "  default_policy: Bad Name\n  users:\n  - username: a\n"
				"    policy: \"x!\"\n", &diag), PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 2));
	pbx_diag_free(&diag);
	cr_assert(eq(int, parse(T "  default_policy: std\n  users:\n  - username: a\n    policy: vip\n",
				&diag), 0));
	pbx_diag_free(&diag);
}

static void parse_example(const char *name)
{
	const char *dir = getenv("PBXCTL_EXAMPLES");
	char path[512];
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_bulk_doc *doc = NULL;
	FILE *f;
	int r;

	cr_assert_not_null(dir, "PBXCTL_EXAMPLES is not set (meson sets it)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	r = pbx_bulk_parse(name, f, &doc, &diag, &err);
	fclose(f);
	if (r)
		bt_dump(&diag);
	cr_assert(eq(int, r, 0));
	cr_assert(gt(sz, pbx_bulk_doc_count(doc, "user"), 1));
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
}

Test(bulk_check_routing, the_single_tenant_example_reads_cleanly)
{
	parse_example("single-tenant.yaml");
}

Test(bulk_check_routing, the_multi_tenant_example_reads_cleanly)
{
	parse_example("multi-tenant.yaml");
}
