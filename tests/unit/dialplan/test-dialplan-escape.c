/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/dialplan/escape.c: every dangerous character removed, control characters
 * turned into single spaces, the 40-character limit counted in characters and never
 * cutting a multibyte one, invalid and overlong UTF-8 dropped, and the voicemail variant.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan.h"

static const char *esc(const char *in)
{
	static char out[PBX_DP_TEXT_BUFSZ];

	pbx_dialplan_escape_text(in, out, sizeof(out));
	return out;
}

static const char *esc_vm(const char *in)
{
	static char out[PBX_DP_TEXT_BUFSZ];

	pbx_dialplan_escape_vm_text(in, out, sizeof(out));
	return out;
}

/* Number of UTF-8 characters (lead bytes) in @s. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

Test(escape_text, plain_text_is_kept)
{
	cr_assert(eq(str, (char *)esc("Alice Smith-Jones 2nd floor"), "Alice Smith-Jones 2nd floor"));
	cr_assert(eq(str, (char *)esc("Zoë Ça va? 100% @home: it's ok!"), "Zoë Ça va? 100% @home: it's ok!"));
}

Test(escape_text, every_dangerous_character_is_removed)
{
	const char *dangerous = ";,()$[]\\\"{}#&|";

	for (const char *c = dangerous; *c; c++) {
		char in[8] = { 'a', *c, 'b', '\0' };

		cr_assert(eq(str, (char *)esc(in), "ab"), "character '%c' must be removed", *c);
	}
	cr_assert(eq(str, (char *)esc("${SHELL(rm -rf /)}"), "SHELLrm -rf /"));
	cr_assert(eq(str, (char *)esc("$[1+1]"), "1+1"));
	cr_assert(eq(str, (char *)esc("#include \"/etc/passwd\""), "include /etc/passwd"));
	cr_assert(eq(str, (char *)esc("[evil-context]"), "evil-context"));
	cr_assert(eq(str, (char *)esc("a)&PJSIP/x"), "aPJSIP/x"));
}

Test(escape_text, control_characters_become_one_space)
{
	cr_assert(eq(str, (char *)esc("Alice\nexten => 666,1,Dial(x)"), "Alice exten => 6661Dialx"));
	cr_assert(eq(str, (char *)esc("a\r\n\t\v\f\x01\x7f" "b"), "a b"));
	cr_assert(eq(str, (char *)esc("   lead and trail \n\t"), "lead and trail"));
	cr_assert(eq(str, (char *)esc("a\xc2\x85" "b"), "a b"), "U+0085 NEL is a line break");
	cr_assert(eq(str, (char *)esc("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"), "a b c"));
	cr_assert(eq(str, (char *)esc("\n\r\t"), ""));
}

Test(escape_text, null_and_empty_give_empty)
{
	char out[4] = "xyz";

	cr_assert(eq(sz, pbx_dialplan_escape_text(NULL, out, sizeof(out)), 0));
	cr_assert(eq(str, out, ""));
	cr_assert(eq(sz, pbx_dialplan_escape_text("", out, sizeof(out)), 0));
	cr_assert(eq(str, out, ""));
	cr_assert(eq(sz, pbx_dialplan_escape_text("abc", out, 0), 0), "size 0 writes nothing");
}

Test(escape_text, limited_to_forty_characters)
{
	char in[200];

	memset(in, 'x', 100);
	in[100] = '\0';
	cr_assert(eq(sz, strlen(esc(in)), PBX_DP_TEXT_MAX));
	cr_assert(eq(sz, strlen(esc("0123456789012345678901234567890123456789")), 40));
}

Test(escape_text, multibyte_characters_are_never_cut)
{
	char in[400] = "";
	const char *out;

	for (int i = 0; i < 50; i++)
		strcat(in, "\xc3\xa9");                    /* é, 2 bytes */
	out = esc(in);
	cr_assert(eq(sz, chars(out), 40));
	cr_assert(eq(sz, strlen(out), 80));
	in[0] = '\0';
	for (int i = 0; i < 50; i++)
		strcat(in, "\xf0\x9f\x93\x9e");            /* 📞, 4 bytes */
	out = esc(in);
	cr_assert(eq(sz, chars(out), 40));
	cr_assert(eq(sz, strlen(out), 160));
	cr_assert(lt(sz, strlen(out), PBX_DP_TEXT_BUFSZ));
}

Test(escape_text, small_buffer_stops_before_a_character)
{
	char out[6];

	/* "a" + three 2-byte characters = 7 bytes: only "a" and two fit in 5 + NUL. */
	cr_assert(eq(sz, pbx_dialplan_escape_text("a\xc3\xa9\xc3\xa9\xc3\xa9", out, sizeof(out)), 5));
	cr_assert(eq(str, out, "a\xc3\xa9\xc3\xa9"));
	cr_assert(eq(sz, pbx_dialplan_escape_text("\xe6\x9d\xb1\xe4\xba\xac", out, 3), 0),
		  "a 3-byte character does not fit in 2 bytes + NUL");
}

Test(escape_text, invalid_utf8_is_dropped)
{
	cr_assert(eq(str, (char *)esc("a\xff" "b"), "ab"));
	cr_assert(eq(str, (char *)esc("a\xc3"), "a"), "truncated sequence at the end");
	cr_assert(eq(str, (char *)esc("a\xc0\xbb" "b"), "ab"), "overlong ';'");
	cr_assert(eq(str, (char *)esc("a\xe0\x80\xbb" "b"), "ab"), "overlong ';' in 3 bytes");
	cr_assert(eq(str, (char *)esc("a\xed\xa0\x80" "b"), "ab"), "surrogate");
	cr_assert(eq(str, (char *)esc("a\xf4\x90\x80\x80" "b"), "ab"), "beyond U+10FFFF");
	cr_assert(eq(str, (char *)esc("a\x80\x80" "b"), "ab"), "stray continuation bytes");
}

Test(escape_text, invisible_format_characters_are_dropped)
{
	cr_assert(eq(str, (char *)esc("\xef\xbb\xbf" "abc"), "abc"), "BOM");
	cr_assert(eq(str, (char *)esc("ab\xe2\x80\xae" "cd"), "abcd"), "right-to-left override");
}

Test(escape_vm_text, also_removes_arrow_characters)
{
	cr_assert(eq(str, (char *)esc_vm("a => b = c <d>"), "a b c d"));
	cr_assert(eq(str, (char *)esc_vm("Smith, John; [x]\nmore"), "Smith John x more"));
	cr_assert(eq(str, (char *)esc("a => b"), "a => b"), "the dialplan escape keeps =>");
}
