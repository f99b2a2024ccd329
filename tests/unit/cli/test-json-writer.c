/* SPDX-License-Identifier: MIT */
/*
 * The streaming JSON writer: escaping, invalid UTF-8, layout in pretty and compact form,
 * and the checks that decide whether a cell is a number or embeddable raw JSON.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/text.h"
#include "fixture.h"
#include "json-writer.h"
#include "tjson.h"

/* Write one string value compactly and return the text. */
static char *json_of_string(const char *s)
{
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);
	struct cli_json w;

	cli_json_init(&w, f, false);
	cli_json_string(&w, s);
	return fx_close(f, &buf);
}

static void check_string(const char *in, const char *want)
{
	char *got = json_of_string(in);

	cr_assert(eq(str, got, (char *)want));
	free(got);
}

Test(json_writer, escapes_quotes_backslashes_and_control_characters)
{
	check_string("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_string("\t\n\r\b\f", "\"\\t\\n\\r\\b\\f\"");
	check_string("\x01\x1f\x1b[0m\x7f", "\"\\u0001\\u001f\\u001b[0m\\u007f\"");
	/* C1 controls and the JavaScript line separators. */
	check_string("\xc2\x85 \xe2\x80\xa8", "\"\\u0085 \\u2028\"");
	check_string("", "\"\"");
}

Test(json_writer, passes_valid_utf8_through)
{
	check_string("Zo\xc3\xab \xe6\x97\xa5 \xf0\x9f\x93\x9e", "\"Zo\xc3\xab \xe6\x97\xa5 \xf0\x9f\x93\x9e\"");
}

Test(json_writer, replaces_invalid_utf8_with_replacement_character)
{
	/* A lone byte, an overlong '/', a surrogate, a code point above U+10FFFF, a truncation. */
	check_string("a\xff" "b", "\"a\xef\xbf\xbd" "b\"");
	check_string("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	check_string("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_string("\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_string("x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"");
}

Test(json_writer, utf8_decoder_reads_four_byte_sequences_and_flags_bad_ones)
{
	uint32_t cp;
	bool bad;

	cr_assert(eq(sz, pbx_utf8_next("\xf0\x9f\x93\x9e", 4, &cp, &bad), 4));
	cr_assert(eq(u32, cp, 0x1f4de));
	cr_assert(not(bad));
	/* Truncated by the length given, though the bytes are there. */
	cr_assert(eq(sz, pbx_utf8_next("\xf0\x9f\x93\x9e", 3, &cp, &bad), 1));
	cr_assert(bad);
	cr_assert(eq(u32, cp, 0xfffd));
}

Test(json_writer, pretty_layout_indents_two_spaces_and_keeps_empty_containers_short)
{
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);
	struct cli_json w;

	cli_json_init(&w, f, true);
	cli_json_begin_object(&w);
	cli_json_key(&w, "a");
	cli_json_int(&w, -5);
	cli_json_key(&w, "b");
	cli_json_begin_array(&w);
	cli_json_bool(&w, true);
	cli_json_null(&w);
	cli_json_begin_object(&w);
	cli_json_end_object(&w);
	cli_json_end_array(&w);
	cli_json_key(&w, "c");
	cli_json_begin_array(&w);
	cli_json_end_array(&w);
	cli_json_key(&w, "d");
	cli_json_raw(&w, "{\"x\":1}", 7);
	cli_json_end_object(&w);
	fx_close(f, &buf);
	cr_assert(eq(str, buf,
		     "{\n"
		     "  \"a\": -5,\n"
		     "  \"b\": [\n"
		     "    true,\n"
		     "    null,\n"
		     "    {}\n"
		     "  ],\n"
		     "  \"c\": [],\n"
		     "  \"d\": {\"x\":1}\n"
		     "}"));
	free(buf);
}

Test(json_writer, compact_layout_has_no_whitespace)
{
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);
	struct cli_json w;

	cli_json_init(&w, f, false);
	cli_json_begin_array(&w);
	cli_json_number(&w, "12");
	cli_json_begin_object(&w);
	cli_json_key(&w, "k\n");
	cli_json_string_len(&w, "abc", 2);
	cli_json_key(&w, "z");
	cli_json_bool(&w, false);
	cli_json_end_object(&w);
	cli_json_end_array(&w);
	fx_close(f, &buf);
	cr_assert(eq(str, buf, "[12,{\"k\\n\":\"ab\",\"z\":false}]"));
	free(buf);
}

Test(json_writer, is_int_accepts_json_integers)
{
	cr_assert(cli_json_is_int("0"));
	cr_assert(cli_json_is_int("42"));
	cr_assert(cli_json_is_int("-7"));
	cr_assert(cli_json_is_int("-0"));
	cr_assert(cli_json_is_int("123456789012345678901234567890"));
}

Test(json_writer, is_int_refuses_what_is_not_a_json_integer)
{
	const char *bad[] = { "", "-", "0123", "+1", "1.5", "1e3", " 1", "1 ", "0x10", "12a", "--1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(not(cli_json_is_int(bad[i])), "accepted \"%s\"", bad[i]);
}

Test(json_writer, valid_accepts_rfc8259_values)
{
	const char *good[] = {
		"{}", "[]", " {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"]} ",
		"\"Zo\xc3\xab\"", "0", "-0.0E-1", "{\"a\":{\"b\":{}}}", "\t[\n]\r",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(cli_json_valid(good[i]), "refused %s", good[i]);
}

Test(json_writer, valid_refuses_malformed_text)
{
	const char *bad[] = {
		"", " ", "not json", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "{a:1}", "'x'",
		"[1] [2]", "01", "1.", ".5", "1e", "tru", "nulls", "\"a\tb\"", "\"\\x\"",
		"\"\\u12\"", "\"\xff\"", "{\"a\":1}x", "[1 2]", "\"open",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(not(cli_json_valid(bad[i])), "accepted %s", bad[i]);
}

Test(json_writer, valid_limits_nesting_depth)
{
	char deep[2 * 70 + 1];

	/* 64 levels are fine, 65 are refused: hostile input cannot exhaust the stack. */
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = '\0';
	cr_assert(cli_json_valid(deep));
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	deep[130] = '\0';
	cr_assert(not(cli_json_valid(deep)));
}

Test(json_writer, escaped_strings_read_back_to_the_same_bytes)
{
	const char *in = "q\"b\\s\x01\x1b[1m\x7f\t\n\r\xe2\x80\xa8 \xe6\x97\xa5 end";
	char *text = json_of_string(in);
	struct tj *v = tj_parse(text);

	cr_assert(ne(ptr, v, NULL), "does not parse: %s", text);
	cr_assert(eq(int, v->type, TJ_STRING));
	cr_assert(eq(str, v->text, (char *)in));
	tj_free(v);
	free(text);
}
