/* SPDX-License-Identifier: MIT */
/*
 * Free text on its way into an Asterisk file. A display name, a label or a caller ID name
 * is hostile input: in dialplan ';' starts a comment, a newline ends the line, ',' and ')'
 * end arguments, "${" and "$[" start expressions, '[' starts a context and '#' a directive.
 * These escapes keep text printable and inert: control characters become spaces, the
 * dangerous punctuation is removed (Asterisk has no escaping that works the same way in
 * every place a value can land, so removing is the only safe choice), invalid UTF-8 is
 * dropped and the result is cut at PBX_DP_TEXT_MAX characters, never inside a character.
 */
#include <stdint.h>
#include <string.h>

#include "pbx/dialplan.h"

/* Punctuation that means something to Asterisk's config parser, pbx_config or app args. */
static const char DIALPLAN_DROP[] = ";,()$[]\\\"{}#&|";
/* voicemail.conf values: the same, and nothing that can form "=>". */
static const char VOICEMAIL_DROP[] = ";,()$[]\\\"{}#&|=<>";

/*
 * Decode one strictly valid UTF-8 sequence at @p (shortest form, no surrogates, at most
 * U+10FFFF). Returns its length and sets @cp, or 0 when the bytes are not valid UTF-8.
 */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;      /* overlong */
		else if (c == 0xed)
			hi = 0x9f;      /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;      /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;      /* beyond U+10FFFF */
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		unsigned char b = p[i];

		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
			return 0;
		v = (v << 6) | (b & 0x3f);
	}
	*cp = v;
	return len;
}

/* Characters that end or split a line somewhere, or are otherwise invisible controls. */
static bool is_space_like(uint32_t cp)
{
	return cp < 0x20 || cp == ' ' || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	       cp == 0x2028 || cp == 0x2029;
}

/* Invisible characters that can make a file read differently from what it holds. */
static bool is_dropped_format(uint32_t cp)
{
	return cp == 0xfeff || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t escape(const char *in, char *out, size_t outsz, const char *drop)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, nchars = 0;
	bool space = false;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (!in)
		return 0;
	while (*p) {
		uint32_t cp;
		size_t len = utf8_decode(p, &cp);
		size_t need;

		if (len == 0) {
			p++;
			continue;
		}
		if (is_space_like(cp)) {
			space = o > 0;          /* leading spaces are trimmed */
			p += len;
			continue;
		}
		if (is_dropped_format(cp) || (cp < 0x80 && strchr(drop, (int)cp))) {
			p += len;
			continue;
		}
		need = len + (space ? 1 : 0);
		if (nchars + (space ? 2 : 1) > PBX_DP_TEXT_MAX || o + need >= outsz)
			break;
		if (space) {
			out[o++] = ' ';
			nchars++;
			space = false;
		}
		memcpy(out + o, p, len);
		o += len;
		nchars++;
		p += len;
	}
	out[o] = '\0';
	return o;
}

size_t pbx_dialplan_escape_text(const char *in, char *out, size_t outsz)
{
	return escape(in, out, outsz, DIALPLAN_DROP);
}

size_t pbx_dialplan_escape_vm_text(const char *in, char *out, size_t outsz)
{
	return escape(in, out, outsz, VOICEMAIL_DROP);
}
