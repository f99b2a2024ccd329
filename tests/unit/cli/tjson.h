/* SPDX-License-Identifier: MIT */
/*
 * A tiny JSON reader for the tests, written apart from the writer under test: it parses
 * strict RFC 8259 into a tree and decodes strings back to UTF-8, so a test can check that
 * what the renderer wrote reads back as the bytes it was given.
 */
#ifndef PBX_TEST_TJSON_H
#define PBX_TEST_TJSON_H

#include <stddef.h>

enum tj_type { TJ_NULL, TJ_BOOL, TJ_NUMBER, TJ_STRING, TJ_ARRAY, TJ_OBJECT };

struct tj {
	enum tj_type type;
	char *text;          /* decoded string, number text, "true" or "false" */
	size_t n;            /* members of an array or object */
	char **keys;         /* object keys, in order */
	struct tj *items;    /* members */
};

/* Parse exactly one value; NULL on any syntax error. Free with tj_free. */
struct tj *tj_parse(const char *s);
void tj_free(struct tj *v);
/* The member @key of an object, or NULL. */
const struct tj *tj_get(const struct tj *obj, const char *key);

#endif
