/* SPDX-License-Identifier: MIT */
/*
 * The streaming JSON writer (see json-writer.h). It keeps only the nesting depth and two
 * flags, so every value goes straight to the FILE. The validator below is the minimum
 * needed to embed raw JSON cells safely: a recursive descent over RFC 8259 that builds
 * nothing and refuses deep nesting, so hostile input cannot exhaust the stack.
 */
#include <string.h>

#include "pbx/text.h"
#include "json-writer.h"

#define JSON_MAX_DEPTH 64

void cli_json_init(struct cli_json *w, FILE *out, bool pretty)
{
	*w = (struct cli_json){ .out = out, .pretty = pretty };
}

static void indent(struct cli_json *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->out);
	for (unsigned i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* Before any value: nothing after a key, else the comma and the line break. */
static void value_prefix(struct cli_json *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->need_comma)
		fputc(',', w->out);
	if (w->depth > 0)
		indent(w);
}

static void begin(struct cli_json *w, char c)
{
	value_prefix(w);
	fputc(c, w->out);
	w->depth++;
	w->need_comma = false;
}

static void end(struct cli_json *w, char c)
{
	bool had_members = w->need_comma;

	w->depth--;
	if (had_members)
		indent(w);
	fputc(c, w->out);
	w->need_comma = true;
}

void cli_json_begin_object(struct cli_json *w) { begin(w, '{'); }
void cli_json_end_object(struct cli_json *w) { end(w, '}'); }
void cli_json_begin_array(struct cli_json *w) { begin(w, '['); }
void cli_json_end_array(struct cli_json *w) { end(w, ']'); }

static void put_escaped(FILE *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	fputc('"', out);
	while (i < len) {
		uint32_t cp;
		bool bad;
		size_t n = pbx_utf8_next(s + i, len - i, &cp, &bad);

		switch (cp) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			/* Other C0, DEL, C1 and the JavaScript line separators as \u escapes. */
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
				fprintf(out, "\\u%c%c%c%c", hex[cp >> 12], hex[(cp >> 8) & 15],
					hex[(cp >> 4) & 15], hex[cp & 15]);
			else if (bad)
				fputs("\xef\xbf\xbd", out);
			else
				fwrite(s + i, 1, n, out);
		}
		i += n;
	}
	fputc('"', out);
}

void cli_json_key(struct cli_json *w, const char *key)
{
	value_prefix(w);
	put_escaped(w->out, key, strlen(key));
	fputs(w->pretty ? ": " : ":", w->out);
	w->after_key = true;
	w->need_comma = true;
}

static void scalar(struct cli_json *w, const char *text)
{
	value_prefix(w);
	fputs(text, w->out);
	w->need_comma = true;
}

void cli_json_string_len(struct cli_json *w, const char *s, size_t len)
{
	value_prefix(w);
	put_escaped(w->out, s, len);
	w->need_comma = true;
}

void cli_json_string(struct cli_json *w, const char *s)
{
	if (!s)
		cli_json_null(w);
	else
		cli_json_string_len(w, s, strlen(s));
}

void cli_json_number(struct cli_json *w, const char *text) { scalar(w, text); }
void cli_json_bool(struct cli_json *w, bool v) { scalar(w, v ? "true" : "false"); }
void cli_json_null(struct cli_json *w) { scalar(w, "null"); }

void cli_json_raw(struct cli_json *w, const char *text, size_t len)
{
	value_prefix(w);
	fwrite(text, 1, len, w->out);
	w->need_comma = true;
}

void cli_json_int(struct cli_json *w, long long v)
{
	value_prefix(w);
	fprintf(w->out, "%lld", v);
	w->need_comma = true;
}

bool cli_json_is_int(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		return s[1] == '\0';
	if (*s < '1' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

/* The validator: each function advances *p past one production or returns false. */

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool valid_string(const char **p)
{
	const char *s = *p + 1;

	for (;;) {
		unsigned char c = (unsigned char)*s;
		uint32_t cp;
		bool bad;

		if (c == '"')
			break;
		if (c < 0x20)
			return false;   /* also the terminating NUL */
		if (c == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!is_hex(s[i]))
						return false;
				s += 5;
			} else if (*s && strchr("\"\\/bfnrt", *s)) {
				s++;
			} else {
				return false;
			}
			continue;
		}
		/* A sequence is at most 4 bytes, and the NUL stops a truncated one. */
		s += pbx_utf8_next(s, strnlen(s, 4), &cp, &bad);
		if (bad)
			return false;
	}
	*p = s + 1;
	return true;
}

static bool valid_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (is_digit(*s))
			s++;
	else
		return false;
	if (*s == '.') {
		if (!is_digit(*++s))
			return false;
		while (is_digit(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	*p = s;
	return true;
}

static bool valid_literal(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool valid_value(const char **p, unsigned depth);

/* An array or an object: @close ends it, members are values or "key": value pairs. */
static bool valid_container(const char **p, unsigned depth, char close)
{
	if (depth >= JSON_MAX_DEPTH)
		return false;
	(*p)++;
	skip_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}') {
			if (**p != '"' || !valid_string(p))
				return false;
			skip_ws(p);
			if (**p != ':')
				return false;
			(*p)++;
		}
		if (!valid_value(p, depth + 1))
			return false;
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (**p != ',')
			return false;
		(*p)++;
		skip_ws(p);
	}
}

/* One value with the whitespace around it. */
static bool valid_value(const char **p, unsigned depth)
{
	bool ok;

	skip_ws(p);
	switch (**p) {
	case '{': ok = valid_container(p, depth, '}'); break;
	case '[': ok = valid_container(p, depth, ']'); break;
	case '"': ok = valid_string(p); break;
	case 't': ok = valid_literal(p, "true"); break;
	case 'f': ok = valid_literal(p, "false"); break;
	case 'n': ok = valid_literal(p, "null"); break;
	default: ok = valid_number(p); break;
	}
	skip_ws(p);
	return ok;
}

bool cli_json_valid(const char *s)
{
	return valid_value(&s, 0) && *s == '\0';
}
