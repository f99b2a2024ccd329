/* SPDX-License-Identifier: MIT */
/*
 * lib/bulk/parse.c: the structure of an import file, and the parser's safety against
 * hostile files (deep nesting, endless values, alias bombs, too many problems), each
 * refused with a clear message in bounded memory.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "bulk-test.h"

#define GOOD \
	"version: 1\n" \
	"tenants:\n" \
	"  - slug: acme\n" \
	"    name: Acme Corp\n" \
	"    extensions: 1000-1999\n" \
	"    users:\n" \
	"      - username: alice\n" \
	"        extension: 1001\n" \
	"        devices:\n" \
	"          - label: desk\n" \
	"          - label: soft\n" \
	"            codecs: [opus, ulaw]\n" \
	"      - username: bob\n" \
	"  - slug: beta\n" \
	"    extensions: 1000-1099\n"

Test(bulk_parse, reads_tenants_users_and_devices)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	int r = bt_parse(GOOD, &doc, &diag);

	if (r)
		bt_dump(&diag);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(sz, pbx_bulk_doc_count(doc, "tenant"), 2));
	cr_assert(eq(sz, pbx_bulk_doc_count(doc, "user"), 2));
	cr_assert(eq(sz, pbx_bulk_doc_count(doc, "device"), 2));
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
}

Test(bulk_parse, reads_json_as_well)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	int r = bt_parse("{\"version\": 1, \"tenants\": [{\"slug\": \"acme\", \"extensions\": "
			 "\"1000-1999\", \"users\": [{\"username\": \"alice\", \"extension\": 1001, "
			 "\"voicemail\": true, \"email\": null, \"devices\": []}]}]}", &doc, &diag);

	cr_assert(eq(int, r, 0));
	cr_assert(eq(sz, pbx_bulk_doc_count(doc, "user"), 1));
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
}

Test(bulk_parse, accepts_readonly_keys_of_output_and_ignores_them)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	int r = bt_parse("tenants:\n- slug: acme\n  id: 7\n  ext_next: 1004\n  extensions: 1000-1999\n"
			 "  created_at: \"2026-01-01T00:00:00Z\"\n  users:\n  - username: al\n"
			 "    tenant: acme\n    pin: null\n    devices:\n    - label: d\n"
			 "      sip_username: acme-x\n      secret: \"********\"\n", &doc, &diag);

	if (r)
		bt_dump(&diag);
	cr_assert(eq(int, r, 0));
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
}

Test(bulk_parse, unknown_key_is_an_error_with_position_path_and_suggestion)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	const pbx_error *e;

	cr_assert(eq(int, bt_parse("tenants:\n  - slug: acme\n    extensions: 1000-1999\n"
				   "    users:\n      - usrname: alice\n", &doc, &diag), PBX_EINVALID));
	cr_assert_null(doc);
	e = bt_find(&diag, "unknown key \"usrname\"");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->message, "unknown key \"usrname\"; did you mean \"username\"?"));
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[0]"));
	cr_assert(eq(str, (char *)e->file, "t.yaml"));
	cr_assert(eq(int, e->line, 5));
	cr_assert(eq(int, e->column, 9));
	cr_assert(eq(int, e->code, PBX_EINVALID));
	pbx_diag_free(&diag);
}

Test(bulk_parse, unknown_key_without_a_close_one_lists_the_keys)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	const pbx_error *e;

	bt_parse("tenants:\n- slug: acme\n  extensions: 1000-1999\n  colour: blue\n", &doc, &diag);
	e = bt_find(&diag, "unknown key \"colour\"");
	cr_assert_not_null(e);
	cr_assert_not_null(strstr(e->message, "a tenant takes slug, name, status, extensions"));
	cr_assert_not_null(strstr(e->message, "users"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, every_problem_is_reported_in_one_run)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants:\n- slug: Acme\n  extensions: 1000-1999\n  users:\n"
				   "  - username: alice\n    extension: 2050\n"
				   "  - username: bob\n    voicemail: yes\n"
				   "  - username: carol\n    email: nope\n", &doc, &diag), PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 4));
	cr_assert_not_null(bt_find(&diag, "slug \"Acme\" must match"));
	cr_assert_not_null(bt_find(&diag, "voicemail must be true or false"));
	cr_assert_not_null(bt_find(&diag, "is not an address"));
	cr_assert_not_null(bt_find(&diag, "2050 is outside"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, duplicate_key_in_a_mapping_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	const pbx_error *e;

	cr_assert(eq(int, bt_parse("tenants:\n- slug: acme\n  extensions: 1000-1999\n"
				   "  name: A\n  name: B\n", &doc, &diag), PBX_EINVALID));
	e = bt_find(&diag, "name is given twice");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].name"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, syntax_error_has_line_and_column)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	const pbx_error *e;

	cr_assert(eq(int, bt_parse("tenants:\n  - slug: acme\n    name: [unclosed\n", &doc, &diag),
		      PBX_EINVALID));
	e = bt_find(&diag, "YAML syntax");
	cr_assert_not_null(e);
	cr_assert(gt(int, e->line, 2));
	cr_assert(gt(int, e->column, 0));
	pbx_diag_free(&diag);
}

Test(bulk_parse, empty_file_and_wrong_top_level_are_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("", &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "the file is empty"));
	pbx_diag_free(&diag);
	cr_assert(eq(int, bt_parse("- a\n- b\n", &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "expected a mapping with a tenants list"));
	pbx_diag_free(&diag);
	cr_assert(eq(int, bt_parse("tenants: []\nversion: 2\n", &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "version must be 1"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, second_document_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants: []\n---\ntenants: []\n", &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "only one YAML document"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, anchors_aliases_and_tags_are_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants:\n- &t\n  slug: acme\n  extensions: 1000-1999\n- *t\n",
				   &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "anchors (&name) are not supported"));
	cr_assert_not_null(bt_find(&diag, "aliases (*name) are not supported"));
	pbx_diag_free(&diag);
	cr_assert(eq(int, bt_parse("tenants:\n- slug: !!str acme\n  extensions: 1000-1999\n",
				   &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "tags (!name) are not supported"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, billion_laughs_is_refused_in_bounded_memory)
{
	/* Nine levels of ten aliases each: 10^9 "lol"s if anything expanded them. */
	char text[4096];
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	long before = bt_maxrss_kib();
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
			     "\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (char c = 'b'; c <= 'i'; c++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c,
				      c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	snprintf(text + n, sizeof(text) - n, "tenants: [*i]\n");
	cr_assert(eq(int, bt_parse(text, &doc, &diag), PBX_EINVALID));
	cr_assert_null(doc);
	cr_assert_not_null(bt_find(&diag, "aliases (*name) are not supported"));
	cr_assert(lt(long, bt_maxrss_kib() - before, BT_MIB(16)));
	pbx_diag_free(&diag);
}

Test(bulk_parse, deep_nesting_is_refused_in_bounded_memory)
{
	size_t depth = 200000;
	char *text = malloc(depth * 2 + 32);
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	long before;
	const pbx_error *e;

	strcpy(text, "tenants: ");
	for (size_t i = 0; i < depth; i++)
		strcat(text + 9 + i, "[");
	for (size_t i = 0; i < depth; i++)
		text[9 + depth + i] = ']';
	text[9 + 2 * depth] = '\0';
	before = bt_maxrss_kib();
	cr_assert(eq(int, bt_parse(text, &doc, &diag), PBX_EINVALID));
	e = bt_find(&diag, "nested more than 32 levels");
	cr_assert_not_null(e);
	cr_assert(eq(int, e->line, 1));
	cr_assert(lt(long, bt_maxrss_kib() - before, BT_MIB(16)));
	free(text);
	pbx_diag_free(&diag);
}

Test(bulk_parse, endless_value_is_refused_in_bounded_memory)
{
	FILE *f = bt_endless("tenants:\n- slug: acme\n  name: ", "aaaaaaaaaaaaaaaa", 0);
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_bulk_doc *doc = NULL;
	long before = bt_maxrss_kib();

	cr_assert(eq(int, pbx_bulk_parse("t.yaml", f, &doc, &diag, &err), PBX_EINVALID));
	fclose(f);
	cr_assert_not_null(bt_find(&diag, "larger than 1 MiB"));
	cr_assert(lt(long, bt_maxrss_kib() - before, BT_MIB(24)));
	pbx_diag_free(&diag);
}

Test(bulk_parse, endless_quoted_value_is_refused_too)
{
	FILE *f = bt_endless("tenants:\n- slug: acme\n  name: \"", "bbbbbbbbbbbbbbbb\\n", 0);
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, pbx_bulk_parse("t.yaml", f, &doc, &diag, &err), PBX_EINVALID));
	fclose(f);
	cr_assert_not_null(bt_find(&diag, "larger than 1 MiB"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, long_value_is_refused_but_reading_goes_on)
{
	char text[4096];
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	char big[2000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "tenants:\n- slug: acme\n  name: %s\n  extensions: 1000-1999\n"
		 "  bogus: 1\n", big);
	cr_assert(eq(int, bt_parse(text, &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "value is 1999 bytes long; at most 1024"));
	cr_assert_not_null(bt_find(&diag, "unknown key \"bogus\""));
	pbx_diag_free(&diag);
}

Test(bulk_parse, too_many_problems_stop_at_the_cap)
{
	FILE *f = bt_endless("tenants:\n", "- slug: acme\n  bogus: 1\n", 0);
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, pbx_bulk_parse("t.yaml", f, &doc, &diag, &err), PBX_EINVALID));
	fclose(f);
	cr_assert(le(sz, diag.n, PBX_BULK_MAX_PROBLEMS + 2));
	cr_assert_not_null(bt_find(&diag, "too many problems; stopped reading here"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, nul_character_in_a_value_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;

	cr_assert(eq(int, bt_parse("tenants:\n- slug: acme\n  name: \"a\\0b\"\n  extensions: 1000-1999\n",
				   &doc, &diag), PBX_EINVALID));
	cr_assert_not_null(bt_find(&diag, "NUL character"));
	pbx_diag_free(&diag);
}

Test(bulk_parse, a_list_where_a_value_belongs_is_refused)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	const pbx_error *e;

	cr_assert(eq(int, bt_parse("tenants:\n- slug: [a, b]\n  extensions: 1000-1999\n", &doc,
				   &diag), PBX_EINVALID));
	e = bt_find(&diag, "expected a single value, not a list");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].slug"));
	/* No second complaint that the slug is missing: it was given, only wrongly. */
	cr_assert(eq(sz, diag.n, 1));
	pbx_diag_free(&diag);
}

Test(bulk_parse, endless_list_of_objects_stops_at_the_object_cap)
{
	FILE *f = bt_endless("tenants:\n- slug: acme\n  users:\n", "  - {}\n", 0);
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_bulk_doc *doc = NULL;
	long before = bt_maxrss_kib();

	cr_assert(eq(int, pbx_bulk_parse("t.yaml", f, &doc, &diag, &err), PBX_EINVALID));
	fclose(f);
	cr_assert_not_null(bt_find(&diag, "more than 300000 tenants, users and devices"));
	cr_assert(lt(long, bt_maxrss_kib() - before, BT_MIB(64)), "%ld KiB",
		  bt_maxrss_kib() - before);
	pbx_diag_free(&diag);
}
