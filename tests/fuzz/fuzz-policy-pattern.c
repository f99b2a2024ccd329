/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the translation of a policy rule's regular expression into Asterisk extension
 * patterns (lib/dialplan/pattern.c, pbx_dialplan_patterns). The input is the expression, then
 * after the first newline candidate numbers, one a line. Invariants: the output is a list of
 * well-formed patterns (a literal dialable number, or "_" followed by digits, +, X, Z, N and
 * an optional final '.') within the buffer; and, for every expression that
 * pbx_policy_check_pattern accepts and that the translator turns into patterns, a dialable
 * number matches one of the patterns exactly when regexec (POSIX ERE, as Asterisk's REGEX()
 * evaluates it) matches the expression. The numbers tried are the input's own, one instance of
 * each pattern, and variations of both. The pattern matcher is the tests' own
 * (tests/unit/dialplan/routing-test.c), not the library's.
 */
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#include "pbx/dialplan-routes.h"
#include "pbx/error.h"
#include "pbx/policy.h"

#include "../unit/dialplan/routing-test.h"

#include "fuzz.h"

static bool well_formed(const char *p)
{
	size_t len = strlen(p);

	if (p[0] != '_') {
		for (size_t i = 0; i < len; i++)
			if (!(p[i] >= '0' && p[i] <= '9') && !(i == 0 && p[i] == '+'))
				return false;
		return len >= 2;
	}
	for (size_t i = 1; i < len; i++)
		if (!strchr("0123456789+XZN", p[i]) && !(p[i] == '.' && i == len - 1))
			return false;
	return len >= 2;
}

static void compare(regex_t *rx, const char *buf, int n, const char *re, const char *number)
{
	pbx_error err;
	bool want, got = false;

	if (pbx_policy_check_number(NULL, number, &err) < 0)
		return;
	want = regexec(rx, number, 0, NULL, 0) == 0;
	for (const char *p = buf; n > 0 && *p; p += strlen(p) + 1)
		got = got || ext_ast_match(p, number);
	FUZZ_CHECK(got == want, "'%s' on %s: the expression %s, the patterns %s", re, number,
		   want ? "matches" : "does not match", got ? "match" : "do not match");
}

/* One number the pattern @p matches (the smallest digit of each class), into @out. */
static void instance(const char *p, char *out, size_t n)
{
	size_t o = 0;

	if (p[0] != '_') {
		snprintf(out, n, "%.40s", p);
		return;
	}
	for (p++; *p && o + 2 < n; p++)
		out[o++] = *p == 'X' ? '0' : *p == 'Z' ? '1' : *p == 'N' ? '2' : *p == '.' ? '7' : *p;
	out[o] = '\0';
}

/* @num, then the same with one digit changed and with a digit added or removed at the end. */
static void compare_around(regex_t *rx, const char *buf, int n, const char *re, const char *num)
{
	char v[64];
	size_t len = strlen(num);

	if (len == 0 || len > 40)
		return;
	compare(rx, buf, n, re, num);
	for (size_t i = 0; i < len; i++) {
		snprintf(v, sizeof(v), "%s", num);
		if (v[i] >= '0' && v[i] <= '9') {
			v[i] = (char)('0' + (v[i] - '0' + 1) % 10);
			compare(rx, buf, n, re, v);
			v[i] = (char)('0' + (v[i] - '0' + 8) % 10);
			compare(rx, buf, n, re, v);
		}
	}
	snprintf(v, sizeof(v), "%s5", num);
	compare(rx, buf, n, re, v);
	snprintf(v, sizeof(v), "%.*s", (int)len - 1, num);
	compare(rx, buf, n, re, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[4096], *text, *nl, *save = NULL;
	pbx_error err;
	regex_t rx;
	size_t used = 0;
	int n;

	if (size > 2048)
		return 0;
	text = fuzz_cstr(data, size);
	nl = strchr(text, '\n');
	if (nl)
		*nl++ = '\0';
	n = pbx_dialplan_patterns(text, buf, sizeof(buf));
	FUZZ_CHECK(n >= -1, "returned %d", n);
	for (const char *p = buf; n > 0 && *p; p += strlen(p) + 1) {
		FUZZ_CHECK(well_formed(p), "pattern '%s' of '%s'", p, text);
		used += strlen(p) + 1;
		FUZZ_CHECK(used < sizeof(buf), "list runs past the buffer");
	}
	if (n > 0 && pbx_policy_check_pattern("fuzz", text, &err) == 0) {
		FUZZ_CHECK(regcomp(&rx, text, REG_EXTENDED | REG_NOSUB) == 0, "regcomp '%s'", text);
		for (const char *p = buf; *p; p += strlen(p) + 1) {
			char num[64];

			instance(p, num, sizeof(num));
			compare_around(&rx, buf, n, text, num);
		}
		for (char *line = nl ? strtok_r(nl, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			compare_around(&rx, buf, n, text, line);
		regfree(&rx);
	}
	free(text);
	return 0;
}
