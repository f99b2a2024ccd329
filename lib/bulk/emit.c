/* SPDX-License-Identifier: MIT */
/*
 * One writer for the two forms of the import format: YAML through libyaml's emitter in
 * block style, JSON by hand (indented, keys in the order given). Values are typed by the
 * schema, as the CLI renderers type them: null is null, an INT or BOOL is plain when its
 * text really is one, a LIST is a flow sequence, and a string that YAML would read back as
 * something else ("no", "0123", "null", "") is double-quoted, so the file reads back to the
 * same strings.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/text.h"
#include "bulk-internal.h"

#define MAX_NEST 16

struct bulk_emitter {
	pbx_bulk_format format;
	FILE *out;
	yaml_emitter_t y;
	bool ok;
	int depth;
	bool first[MAX_NEST];    /* json: nothing written yet at this level */
	bool is_map[MAX_NEST];
	bool after_key;          /* json: the next value follows "key": */
};

static bool is_int(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return false;
	return n == 1 || s[0] != '0';
}

/* ---- yaml --------------------------------------------------------------------------- */

static void y_emit(struct bulk_emitter *em, yaml_event_t *ev, int initialised)
{
	if (!initialised) {
		em->ok = false;
		return;
	}
	if (!em->ok) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&em->y, ev))
		em->ok = false;
}

static void y_scalar(struct bulk_emitter *em, const char *s, yaml_scalar_style_t style)
{
	size_t len = strlen(s);
	char *fixed = NULL;
	yaml_event_t ev;

	/* libyaml refuses invalid UTF-8: replace bad bytes, as the renderers do. */
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		bool bad;

		i += pbx_utf8_next(s + i, len - i, &cp, &bad);
		if (bad && !fixed) {
			char *p = fixed = malloc(len * 3 + 1);

			if (!fixed) {
				em->ok = false;
				return;
			}
			for (size_t k = 0; k < len;) {
				size_t w = pbx_utf8_next(s + k, len - k, &cp, &bad);

				if (bad) {
					memcpy(p, "\xef\xbf\xbd", 3);
					p += 3;
				} else {
					memcpy(p, s + k, w);
					p += w;
				}
				k += w;
			}
			*p = '\0';
			s = fixed;
			len = (size_t)(p - fixed);
			break;
		}
	}
	y_emit(em, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len,
						     1, 1, style));
	free(fixed);
}

static void y_string(struct bulk_emitter *em, const char *s)
{
	y_scalar(em, s, pbx_yaml_needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE :
		 YAML_ANY_SCALAR_STYLE);
}

/* ---- json --------------------------------------------------------------------------- */

static void j_indent(struct bulk_emitter *em)
{
	fputc('\n', em->out);
	for (int i = 0; i < em->depth; i++)
		fputs("  ", em->out);
}

/* Separators before a value: nothing after a key, a comma and a new line in a list. */
static void j_value_start(struct bulk_emitter *em)
{
	if (em->after_key) {
		em->after_key = false;
		return;
	}
	if (em->depth > 0) {
		if (!em->first[em->depth - 1])
			fputc(',', em->out);
		em->first[em->depth - 1] = false;
		j_indent(em);
	}
}

static void j_string(struct bulk_emitter *em, const char *s)
{
	fputc('"', em->out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(em->out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", em->out);
		else if (*p == '\t')
			fputs("\\t", em->out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(em->out, "\\u%04x", *p);
		else
			fputc(*p, em->out);
	}
	fputc('"', em->out);
}

static void open_level(struct bulk_emitter *em, bool map)
{
	if (em->depth >= MAX_NEST) {
		em->ok = false;
		return;
	}
	em->first[em->depth] = true;
	em->is_map[em->depth] = map;
	em->depth++;
}

static void close_level(struct bulk_emitter *em, char c)
{
	bool empty = em->depth > 0 && em->first[em->depth - 1];

	if (em->depth > 0)
		em->depth--;
	if (!empty)
		j_indent(em);
	fputc(c, em->out);
}

/* ---- the common front --------------------------------------------------------------- */

int bulk_emit_open(struct bulk_emitter **ret, FILE *out, pbx_bulk_format format)
{
	struct bulk_emitter *em = calloc(1, sizeof(*em));
	yaml_event_t ev;

	if (!em)
		return PBX_ERROR;
	em->format = format;
	em->out = out;
	em->ok = true;
	if (format == PBX_BULK_YAML) {
		if (!yaml_emitter_initialize(&em->y)) {
			free(em);
			return PBX_ERROR;
		}
		yaml_emitter_set_output_file(&em->y, out);
		yaml_emitter_set_unicode(&em->y, 1);
		yaml_emitter_set_indent(&em->y, 2);
		yaml_emitter_set_width(&em->y, -1);
		y_emit(em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
		y_emit(em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
	}
	*ret = em;
	return 0;
}

int bulk_emit_close(struct bulk_emitter *em)
{
	yaml_event_t ev;
	bool ok;

	if (em->format == PBX_BULK_YAML) {
		y_emit(em, &ev, yaml_document_end_event_initialize(&ev, 1));
		y_emit(em, &ev, yaml_stream_end_event_initialize(&ev));
		ok = em->ok && yaml_emitter_flush(&em->y);
		yaml_emitter_delete(&em->y);
	} else {
		fputc('\n', em->out);
		ok = em->ok;
	}
	ok = ok && fflush(em->out) == 0 && !ferror(em->out);
	free(em);
	return ok ? 0 : PBX_ERROR;
}

void bulk_emit_map_start(struct bulk_emitter *em)
{
	yaml_event_t ev;

	if (em->format == PBX_BULK_YAML) {
		y_emit(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
								    YAML_BLOCK_MAPPING_STYLE));
		return;
	}
	j_value_start(em);
	fputc('{', em->out);
	open_level(em, true);
}

void bulk_emit_map_end(struct bulk_emitter *em)
{
	yaml_event_t ev;

	if (em->format == PBX_BULK_YAML)
		y_emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
	else
		close_level(em, '}');
}

void bulk_emit_seq_start(struct bulk_emitter *em, bool flow)
{
	yaml_event_t ev;

	if (em->format == PBX_BULK_YAML) {
		y_emit(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
		return;
	}
	j_value_start(em);
	fputc('[', em->out);
	open_level(em, false);
}

void bulk_emit_seq_end(struct bulk_emitter *em)
{
	yaml_event_t ev;

	if (em->format == PBX_BULK_YAML)
		y_emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
	else
		close_level(em, ']');
}

void bulk_emit_key(struct bulk_emitter *em, const char *key)
{
	if (em->format == PBX_BULK_YAML) {
		y_string(em, key);
		return;
	}
	j_value_start(em);
	j_string(em, key);
	fputs(": ", em->out);
	em->after_key = true;
}

static void plain(struct bulk_emitter *em, const char *s)
{
	if (em->format == PBX_BULK_YAML) {
		y_scalar(em, s, YAML_PLAIN_SCALAR_STYLE);
	} else {
		j_value_start(em);
		fputs(s, em->out);
	}
}

static void string(struct bulk_emitter *em, const char *s)
{
	if (em->format == PBX_BULK_YAML) {
		y_string(em, s);
	} else {
		j_value_start(em);
		j_string(em, s);
	}
}

void bulk_emit_value(struct bulk_emitter *em, pbx_field_type type, const char *s)
{
	if (!s) {
		plain(em, "null");
		return;
	}
	switch (type) {
	case PBX_FT_INT:
		if (is_int(s))
			plain(em, s);
		else
			string(em, s);
		break;
	case PBX_FT_BOOL:
		if (!strcmp(s, "true") || !strcmp(s, "false"))
			plain(em, s);
		else
			string(em, s);
		break;
	case PBX_FT_LIST:
		bulk_emit_seq_start(em, true);
		while (*s) {
			size_t n = strcspn(s, ",");
			char *item = strndup(s, n);

			if (!item) {
				em->ok = false;
				break;
			}
			string(em, item);
			free(item);
			if (!s[n])
				break;
			s += n + 1;
		}
		bulk_emit_seq_end(em);
		break;
	default:
		string(em, s);
		break;
	}
}
