/* SPDX-License-Identifier: MIT */
/*
 * The tests' JSON reader (see tjson.h): recursive descent, strict, allocation per node.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tjson.h"

static void ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void put_utf8(char **o, unsigned cp)
{
	char *p = *o;

	if (cp < 0x80) {
		*p++ = (char)cp;
	} else if (cp < 0x800) {
		*p++ = (char)(0xc0 | cp >> 6);
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*p++ = (char)(0xe0 | cp >> 12);
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*p++ = (char)(0xf0 | cp >> 18);
		*p++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = p;
}

static char *string(const char **p)
{
	const char *s = *p + 1;
	char *out = malloc(strlen(s) * 4 + 1), *o = out;

	for (;;) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			break;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			int cp = hex4(s), lo;

			if (cp < 0)
				goto bad;
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s[0] != '\\' || s[1] != 'u' || (lo = hex4(s + 2)) < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				goto bad;
			}
			put_utf8(&o, (unsigned)cp);
			break;
		}
		default:
			goto bad;
		}
	}
	*o = '\0';
	*p = s + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static bool digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

static bool value(const char **p, struct tj *v, int depth);

static bool members(const char **p, struct tj *v, int depth, char close)
{
	(*p)++;
	ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		char *key = NULL;

		if (close == '}') {
			if (**p != '"' || !(key = string(p)))
				return false;
			ws(p);
			if (*(*p)++ != ':') {
				free(key);
				return false;
			}
		}
		v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
		v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
		v->keys[v->n] = key;
		v->items[v->n] = (struct tj){ .type = TJ_NULL };
		if (!value(p, &v->items[v->n++], depth + 1))
			return false;
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
		ws(p);
	}
}

static bool value(const char **p, struct tj *v, int depth)
{
	const char *start;
	bool ok = true;

	if (depth > 100)
		return false;
	ws(p);
	start = *p;
	switch (**p) {
	case '{': v->type = TJ_OBJECT; ok = members(p, v, depth, '}'); break;
	case '[': v->type = TJ_ARRAY; ok = members(p, v, depth, ']'); break;
	case '"': v->type = TJ_STRING; ok = (v->text = string(p)) != NULL; break;
	case 't':
	case 'f':
		v->type = TJ_BOOL;
		ok = strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0;
		if (ok)
			*p += **p == 't' ? 4 : 5;
		v->text = strndup(start, (size_t)(*p - start));
		break;
	case 'n':
		ok = strncmp(*p, "null", 4) == 0;
		*p += ok ? 4 : 0;
		break;
	default:
		v->type = TJ_NUMBER;
		if (**p == '-')
			(*p)++;
		if (**p == '0')
			(*p)++;
		else
			ok = digits(p);
		if (ok && **p == '.') {
			(*p)++;
			ok = digits(p);
		}
		if (ok && (**p == 'e' || **p == 'E')) {
			(*p)++;
			if (**p == '+' || **p == '-')
				(*p)++;
			ok = digits(p);
		}
		v->text = strndup(start, (size_t)(*p - start));
		break;
	}
	ws(p);
	return ok;
}

struct tj *tj_parse(const char *s)
{
	struct tj *v = calloc(1, sizeof(*v));

	if (!value(&s, v, 0) || *s != '\0') {
		tj_free(v);
		return NULL;
	}
	return v;
}

static void tj_clear(struct tj *v)
{
	for (size_t i = 0; i < v->n; i++) {
		tj_clear(&v->items[i]);
		free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
}

void tj_free(struct tj *v)
{
	if (!v)
		return;
	tj_clear(v);
	free(v);
}

const struct tj *tj_get(const struct tj *obj, const char *key)
{
	if (!obj || obj->type != TJ_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}
