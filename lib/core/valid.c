/* SPDX-License-Identifier: MIT */
/*
 * Strict field patterns, written out by hand so that no locale or regex engine can widen
 * what reaches Asterisk.
 */
#include <string.h>

#include "pbx/valid.h"

static bool lower(char c) { return c >= 'a' && c <= 'z'; }
static bool digit(char c) { return c >= '0' && c <= '9'; }

bool pbx_valid_slug(const char *s)
{
	/* Section names that mean something else in extensions.conf or voicemail.conf, and
	 * pbxctl's own prefix, so no tenant context can collide with pbxctl's contexts. */
	static const char *const reserved[] = { "general", "globals", "zonemessages", "default" };
	size_t n;

	if (!s || !lower(s[0]) || !strncmp(s, "pbxctl", 6))
		return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return false;
	n = strlen(s);
	if (n < 2 || n > 24)
		return false;
	for (size_t i = 1; i < n; i++)
		if (!lower(s[i]) && !digit(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool pbx_valid_extension(const char *s)
{
	size_t n;

	if (!s || s[0] == '0')
		return false;
	n = strlen(s);
	if (n < 2 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!digit(s[i]))
			return false;
	return true;
}

bool pbx_valid_e164(const char *s)
{
	size_t n;

	if (!s || s[0] != '+' || s[1] == '0')
		return false;
	n = strlen(s + 1);
	if (n < 8 || n > 15)
		return false;
	for (size_t i = 1; i <= n; i++)
		if (!digit(s[i]))
			return false;
	return true;
}

bool pbx_valid_username(const char *s)
{
	size_t n;

	if (!s || !lower(s[0]))
		return false;
	n = strlen(s);
	if (n > 32)
		return false;
	for (size_t i = 1; i < n; i++)
		if (!lower(s[i]) && !digit(s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

bool pbx_valid_text(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (!s || !*s)
		return false;
	n = strlen(s);
	if (n > max)
		return false;
	while (*p) {
		int len;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80)
			len = 1;
		else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			len = 2;
		else if ((*p & 0xf0) == 0xe0)
			len = 3;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			len = 4;
		else
			return false;
		for (int i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		/* C1 control characters (U+0080..U+009F) */
		if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			return false;
		p += len;
	}
	return true;
}

bool pbx_valid_email(const char *s)
{
	const char *at;
	size_t n;

	if (!s || (n = strlen(s)) > 254 || !(at = strchr(s, '@')) || at == s || strchr(at + 1, '@'))
		return false;
	for (const char *p = s; *p; p++) {
		if (p == at)
			continue;
		if (!lower(*p) && !digit(*p) && !(*p >= 'A' && *p <= 'Z') && !strchr(".-_+", *p))
			return false;
	}
	at++;
	return strchr(at, '.') && at[0] != '.' && s[n - 1] != '.' && !strstr(at, "..");
}

bool pbx_valid_destination(const char *s)
{
	if (!s)
		return false;
	if (!strncmp(s, "user:", 5))
		return pbx_valid_username(s + 5);
	if (!strncmp(s, "voicemail:", 10))
		return pbx_valid_username(s + 10);
	if (!strncmp(s, "ext:", 4))
		return pbx_valid_extension(s + 4);
	if (!strncmp(s, "external:", 9))
		return pbx_valid_e164(s + 9);
	return false;
}
