/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the free-text escapes (lib/dialplan/escape.c) that stand between what a user types
 * (display names, labels, caller ID names) and a generated dialplan or voicemail.conf line.
 * The first input byte picks the output buffer size, the rest is the text. Invariants, checked
 * with a UTF-8 decoder of this file's own: the output is valid UTF-8 and NUL-terminated inside
 * the buffer; it holds no control character (C0, DEL, C1, U+2028/2029), none of
 * ; , ( ) $ [ ] \ " { } # & | (plus = < > for voicemail), no bidi control or BOM, no leading,
 * trailing or double space, at most PBX_DP_TEXT_MAX characters; the returned length is the
 * string's; escaping again changes nothing.
 */
#include <stdbool.h>
#include <string.h>

#include "pbx/dialplan.h"

#include "fuzz.h"

/* The next code point of valid UTF-8 at @p, its length in *@len; false when invalid. */
static bool next_cp(const unsigned char *p, unsigned *cp, size_t *len)
{
	unsigned c = p[0], min;

	if (c < 0x80) {
		*cp = c;
		*len = 1;
		return true;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		*len = 2;
		*cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		*len = 3;
		*cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		*len = 4;
		*cp = c & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	for (size_t i = 1; i < *len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return false;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	return *cp >= min && *cp <= 0x10ffff && !(*cp >= 0xd800 && *cp <= 0xdfff);
}

static void check(const char *in, size_t outsz, bool vm)
{
	static const char dialplan_drop[] = ";,()$[]\\\"{}#&|";
	static const char vm_drop[] = ";,()$[]\\\"{}#&|=<>";
	char out[PBX_DP_TEXT_BUFSZ + 16], again[PBX_DP_TEXT_BUFSZ];
	size_t n, chars = 0;
	unsigned prev = 0;

	memset(out, 'Z', sizeof(out));
	n = vm ? pbx_dialplan_escape_vm_text(in, out, outsz) :
		 pbx_dialplan_escape_text(in, out, outsz);
	FUZZ_CHECK(out[outsz] == 'Z', "wrote past the buffer of %zu bytes", outsz);
	FUZZ_CHECK(n < outsz && out[n] == '\0' && strlen(out) == n, "length %zu of %zu", n, outsz);
	for (const unsigned char *p = (const unsigned char *)out; *p;) {
		unsigned cp;
		size_t len;

		FUZZ_CHECK(next_cp(p, &cp, &len), "invalid UTF-8 at offset %zu",
			   (size_t)(p - (const unsigned char *)out));
		FUZZ_CHECK(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) &&
			   cp != 0x2028 && cp != 0x2029, "control U+%04X", cp);
		FUZZ_CHECK(cp >= 0x80 || !strchr(vm ? vm_drop : dialplan_drop, (int)cp),
			   "kept '%c'", (char)cp);
		FUZZ_CHECK(cp != 0xfeff && cp != 0x200e && cp != 0x200f &&
			   !(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069),
			   "format character U+%04X", cp);
		FUZZ_CHECK(!(cp == ' ' && (prev == ' ' || chars == 0)), "leading or double space");
		prev = cp;
		chars++;
		p += len;
	}
	FUZZ_CHECK(prev != ' ', "trailing space");
	FUZZ_CHECK(chars <= PBX_DP_TEXT_MAX, "%zu characters", chars);
	if (vm)
		pbx_dialplan_escape_vm_text(out, again, sizeof(again));
	else
		pbx_dialplan_escape_text(out, again, sizeof(again));
	FUZZ_CHECK(!strcmp(out, again), "not idempotent: '%s' then '%s'", out, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outsz;
	char *text;

	if (size < 1 || size > 4096)
		return 0;
	/* 1 .. PBX_DP_TEXT_BUFSZ: small buffers must cut between characters, never inside one. */
	outsz = 1 + data[0] % PBX_DP_TEXT_BUFSZ;
	text = fuzz_cstr(data + 1, size - 1);
	check(text, outsz, false);
	check(text, outsz, true);
	check(text, PBX_DP_TEXT_BUFSZ, false);
	check(text, PBX_DP_TEXT_BUFSZ, true);
	free(text);
	return 0;
}
