/* SPDX-License-Identifier: MIT */
/*
 * Strict field patterns, written out by hand so that no locale or regex engine can widen
 * what reaches Asterisk.
 */
#include <string.h>

#include "pbx/text.h"
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
	size_t n;

	if (!s || !*s || (n = strlen(s)) > max)
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		bool bad;

		i += pbx_utf8_next(s + i, n - i, &cp, &bad);
		/* C0 and C1 control characters, DEL */
		if (bad || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
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

bool pbx_valid_callerid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	if (*s == '+')
		s++;
	n = strspn(s, "0123456789");
	return s[n] == '\0' && n >= 2 && n <= 20;
}
