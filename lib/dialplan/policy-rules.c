/* SPDX-License-Identifier: MIT */
/*
 * The outbound policy rule engine, pure: the checks a rule's fields must pass before they
 * are saved or reach a generated file, the evaluation `pbxctl policy test` and the
 * emergency-number checks use, and the emergency-number list. A pattern is a POSIX extended
 * regular expression, but only over a character set that is inert in Asterisk's dialplan:
 * it ends up inside ${REGEX("...")}, where a backslash would be eaten by Asterisk's argument
 * parser, a quote would end the expression, "${" or "$[" would be expanded, and unbalanced
 * brackets would hide the closing quote. So those are refused, and what is left means the
 * same thing to regcomp here and to Asterisk's REGEX() there.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"

static const char PATTERN_CHARS[] = "0123456789+*^$[]()|?{},.-";

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int pbx_policy_check_pattern(const char *object, const char *pattern, pbx_error *err)
{
	int paren = 0, bracket = 0, brace = 0, rc;
	size_t n = pattern ? strlen(pattern) : 0;
	regex_t re;

	if (n < 1 || n > PBX_POLICY_PATTERN_MAX)
		return pbx_errorf(err, PBX_EINVALID, object, "pattern",
				  "pattern must be 1 to %d characters", PBX_POLICY_PATTERN_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = pattern[i];

		if (!strchr(PATTERN_CHARS, c)) {
			if (c == '\\')
				return pbx_errorf(err, PBX_EINVALID, object, "pattern",
						  "pattern \"%s\": backslashes are not allowed; write a "
						  "literal + as [+]", pattern);
			return pbx_errorf(err, PBX_EINVALID, object, "pattern",
					  "pattern \"%s\" may only hold 0-9 + * ^ $ [ ] ( ) | ? { } , . -",
					  pattern);
		}
		if (c == '$' && (pattern[i + 1] == '{' || pattern[i + 1] == '['))
			return pbx_errorf(err, PBX_EINVALID, object, "pattern",
					  "pattern \"%s\": \"$%c\" would be expanded by Asterisk",
					  pattern, pattern[i + 1]);
		paren += c == '(' ? 1 : c == ')' ? -1 : 0;
		bracket += c == '[' ? 1 : c == ']' ? -1 : 0;
		brace += c == '{' ? 1 : c == '}' ? -1 : 0;
		if (paren < 0 || bracket < 0 || brace < 0)
			break;
	}
	if (paren || bracket || brace)
		return pbx_errorf(err, PBX_EINVALID, object, "pattern",
				  "pattern \"%s\": ( ), [ ] and { } must come in balanced pairs",
				  pattern);
	rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[128];

		regerror(rc, &re, why, sizeof(why));
		return pbx_errorf(err, PBX_EINVALID, object, "pattern",
				  "pattern \"%s\" is not a valid extended regular expression: %s",
				  pattern, why);
	}
	regfree(&re);
	return 0;
}

int pbx_policy_check_number(const char *object, const char *number, pbx_error *err)
{
	const char *p = number ? number : "";
	size_t n;

	if (*p == '+')
		p++;
	n = strspn(p, "0123456789");
	if (p[n] != '\0' || n < 2 || n > 20)
		return pbx_errorf(err, PBX_EINVALID, object, "number",
				  "number \"%.40s\" must be 2 to 20 digits, optionally after a +",
				  number ? number : "");
	return 0;
}

int pbx_policy_check_prepend(const char *object, const char *prepend, pbx_error *err)
{
	size_t n = prepend ? strlen(prepend) : 0;

	if (n > PBX_POLICY_PREPEND_MAX || strspn(prepend ? prepend : "", "0123456789*#+") != n)
		return pbx_errorf(err, PBX_EINVALID, object, "prepend",
				  "prepend \"%.40s\" must be at most %d of 0-9 * # +",
				  prepend ? prepend : "", PBX_POLICY_PREPEND_MAX);
	return 0;
}

int pbx_policy_check_name(const char *object, const char *name, pbx_error *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > 32 || name[0] < 'a' || name[0] > 'z' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return pbx_errorf(err, PBX_EINVALID, object, "name",
				  "policy name \"%.40s\" must match [a-z][a-z0-9-]{0,31}",
				  name ? name : "");
	return 0;
}

int pbx_policy_evaluate(const struct pbx_policy_rule *rules, size_t n, const char *number,
			struct pbx_policy_verdict *ret, pbx_error *err)
{
	struct pbx_policy_verdict v = { .allowed = false };
	int r;

	if ((r = pbx_policy_check_number("policy test", number, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char object[48];
		regex_t re;
		int hit;

		snprintf(object, sizeof(object), "rule %zu", i + 1);
		if ((r = pbx_policy_check_pattern(object, rules[i].pattern, err)) < 0)
			return r;
		if (regcomp(&re, rules[i].pattern, REG_EXTENDED | REG_NOSUB) != 0)
			return pbx_errorf(err, PBX_EINVALID, object, "pattern", "pattern does not compile");
		hit = regexec(&re, number, 0, NULL, 0) == 0;
		regfree(&re);
		if (!hit)
			continue;
		v.rule = i + 1;
		v.allowed = rules[i].allow;
		if (v.allowed) {
			size_t len = strlen(number), strip = (size_t)(rules[i].strip > 0 ? rules[i].strip : 0);

			snprintf(v.dial, sizeof(v.dial), "%s%s", rules[i].prepend ? rules[i].prepend : "",
				 number + (strip < len ? strip : len));
		}
		break;
	}
	*ret = v;
	return 0;
}

int pbx_policy_emergency_numbers(const char *list, char ***ret, size_t *ret_n, pbx_error *err)
{
	const char *p = list && *list ? list : PBX_POLICY_EMERGENCY_DEFAULT;
	char **v = NULL;
	size_t n = 0;

	for (;;) {
		size_t len;
		char **grown;
		bool dup = false;

		p += strspn(p, " \t");
		len = strspn(p, "0123456789");
		if (len < 2 || len > 8)
			goto bad;
		for (size_t i = 0; i < n; i++)
			dup = dup || (strlen(v[i]) == len && !strncmp(v[i], p, len));
		if (!dup) {
			if (!(grown = realloc(v, (n + 2) * sizeof(*v))))
				goto oom;
			v = grown;
			if (!(v[n] = strndup(p, len)))
				goto oom;
			v[++n] = NULL;
		}
		p += len;
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (*p != ',' || !is_digit(p[1 + strspn(p + 1, " \t")]))
			goto bad;
		p++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
bad:
	pbx_policy_strv_free(v);
	return pbx_errorf(err, PBX_EINVALID, "configuration", "emergency_numbers",
			  "asterisk.emergency_numbers \"%.60s\" must be a comma-separated list of "
			  "numbers of 2 to 8 digits", list ? list : "");
oom:
	pbx_policy_strv_free(v);
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
}

void pbx_policy_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
