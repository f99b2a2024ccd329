/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer, after iproute2's lib/json_writer.c: values are written to a
 * FILE as they come, with no tree in memory. The writer places commas, colons and (when
 * pretty) newlines and two-space indentation; strings are escaped per RFC 8259 and invalid
 * UTF-8 is replaced by U+FFFD, so whatever bytes a row holds, the output is valid JSON.
 * Also here: the strict UTF-8 decoder every renderer uses, and the checks that decide
 * whether a cell can be written as a number or embedded as raw JSON.
 */
#ifndef PBXCTL_JSON_WRITER_H
#define PBXCTL_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cli_json {
	FILE *out;
	unsigned depth;    /* open arrays and objects */
	bool pretty;       /* newline and two-space indent per level */
	bool need_comma;   /* a value was written at this level */
	bool after_key;    /* a key was written; its value comes next */
};

/* Start writing to @out; nothing is allocated, so there is nothing to free. */
void cli_json_init(struct cli_json *w, FILE *out, bool pretty);

void cli_json_begin_object(struct cli_json *w);
void cli_json_end_object(struct cli_json *w);
void cli_json_begin_array(struct cli_json *w);
void cli_json_end_array(struct cli_json *w);

/* A key inside an object; the next call writes its value. */
void cli_json_key(struct cli_json *w, const char *key);

/* A string value, escaped; NULL writes null. */
void cli_json_string(struct cli_json *w, const char *s);
/* The first @len bytes of @s as a string value. */
void cli_json_string_len(struct cli_json *w, const char *s, size_t len);
/* A number given as text the caller has checked (cli_json_is_int). */
void cli_json_number(struct cli_json *w, const char *text);
void cli_json_int(struct cli_json *w, long long v);
void cli_json_bool(struct cli_json *w, bool v);
void cli_json_null(struct cli_json *w);
/* @len bytes of JSON text written as is; the caller has checked them (cli_json_valid). */
void cli_json_raw(struct cli_json *w, const char *text, size_t len);

/* True when @s is a decimal integer in JSON syntax: -?(0|[1-9][0-9]*). */
bool cli_json_is_int(const char *s);
/*
 * True when @s is exactly one JSON value (RFC 8259, surrounding whitespace allowed, valid
 * UTF-8, nesting at most 64 deep).
 */
bool cli_json_valid(const char *s);


#endif
