/* SPDX-License-Identifier: MIT */
/*
 * Text helpers shared by lib and the CLI: one UTF-8 decoder, and the one rule for which
 * strings YAML must quote so that they read back as strings (export and `-o yaml` agree).
 */
#include <string.h>

#include "pbx/text.h"

size_t pbx_utf8_next(const char *s, size_t len, uint32_t *ret_cp, bool *ret_bad)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp, min;
	size_t n;

	*ret_bad = false;
	if (p[0] < 0x80) {
		*ret_cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (len < n)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto bad;
	*ret_cp = cp;
	return n;
bad:
	*ret_bad = true;
	*ret_cp = 0xfffd;
	return 1;
}

static bool is_quote_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xfeff;
}

/* Case-insensitive comparison with a lower-case word. */
static bool word_eq(const char *s, const char *word)
{
	for (; *s && *word; s++, word++)
		if ((*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s) != *word)
			return false;
	return *s == *word;
}

bool pbx_yaml_needs_quotes(const char *s)
{
	/* YAML 1.1 (PyYAML, libyaml users) and 1.2 core schema nulls, booleans, specials. */
	static const char *const words[] = {
		"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "=",
	};
	size_t len = strlen(s);

	if (len == 0)
		return true;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		bool bad;

		i += pbx_utf8_next(s + i, len - i, &cp, &bad);
		if (bad || is_quote_cp(cp))
			return true;
	}
	/* Every int, float, sexagesimal and timestamp starts so (1e3, -1, +.5, .inf, 2024-01-01). */
	if (s[0] >= '0' && s[0] <= '9')
		return true;
	if (strchr("+-.", s[0]) && s[1] && ((s[1] >= '0' && s[1] <= '9') || strchr(".iInN", s[1])))
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (word_eq(s, words[i]))
			return true;
	return false;
}
