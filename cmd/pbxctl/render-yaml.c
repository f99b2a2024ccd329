/* SPDX-License-Identifier: MIT */
/*
 * The yaml format, through libyaml's emitter in block style: a list is a sequence of
 * mappings ([] when empty), one object a mapping, a write command's result the same envelope
 * as json. The keys and shapes equal json's, which are the keys import reads. What libyaml
 * does not decide for us is typing: a plain scalar "null", "yes" or "0123" would come back
 * as null, a boolean or a number, so a string that could be read as anything but a string
 * is written double-quoted (pbx_yaml_needs_quotes). null, INT and BOOL cells are plain when
 * their text really is one; LIST is a flow sequence of strings; JSON cells are double-quoted
 * strings (valid JSON trimmed of surrounding whitespace, as in json output).
 * Invalid UTF-8 (which libyaml refuses) is replaced by U+FFFD first.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/error.h"

#include "json-writer.h"
#include "pbx/text.h"
#include "render-internal.h"

struct emitter {
	yaml_emitter_t e;
	bool ok;   /* false after the first failure; later events are dropped */
};

/* A copy of @s with every invalid byte replaced by U+FFFD, or NULL when out of memory. */
static char *utf8_fix(const char *s, size_t len, size_t *ret_len)
{
	char *copy = malloc(len * 3 + 1), *p = copy;

	if (!copy)
		return NULL;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		bool bad;
		size_t n = pbx_utf8_next(s + i, len - i, &cp, &bad);

		if (bad) {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
		} else {
			memcpy(p, s + i, n);
			p += n;
		}
		i += n;
	}
	*p = '\0';
	*ret_len = (size_t)(p - copy);
	return copy;
}

/* Hand an initialised event to the emitter, which owns it from then on. */
static void emit(struct emitter *em, yaml_event_t *ev, int initialised)
{
	if (!initialised) {
		em->ok = false;
		return;
	}
	if (!em->ok) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&em->e, ev))
		em->ok = false;
}

static void scalar(struct emitter *em, const char *s, size_t len, yaml_scalar_style_t style)
{
	char *fixed = NULL;
	yaml_event_t ev;
	int r;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		bool bad;

		i += pbx_utf8_next(s + i, len - i, &cp, &bad);
		if (bad) {
			fixed = utf8_fix(s, len, &len);
			if (!fixed) {
				em->ok = false;
				return;
			}
			s = fixed;
			break;
		}
	}
	r = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1,
					 style);
	emit(em, &ev, r);
	free(fixed);
}

static void string_len(struct emitter *em, const char *s, size_t len)
{
	char *copy = strndup(s, len);

	if (!copy) {
		em->ok = false;
		return;
	}
	scalar(em, copy, len,
	       pbx_yaml_needs_quotes(copy) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	free(copy);
}

static void string(struct emitter *em, const char *s)
{
	string_len(em, s, strlen(s));
}

static void plain(struct emitter *em, const char *s)
{
	scalar(em, s, strlen(s), YAML_PLAIN_SCALAR_STYLE);
}

static void mapping(struct emitter *em, bool start)
{
	yaml_event_t ev;

	if (start)
		emit(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
								  YAML_BLOCK_MAPPING_STYLE));
	else
		emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void sequence(struct emitter *em, bool start, yaml_sequence_style_t style)
{
	yaml_event_t ev;

	if (start)
		emit(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style));
	else
		emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void put_cell(struct emitter *em, const struct pbx_field *f, const char *s)
{
	if (!s) {
		plain(em, "null");
		return;
	}
	switch (f->type) {
	case PBX_FT_INT:
		if (cli_json_is_int(s))
			plain(em, s);
		else
			string(em, s);
		break;
	case PBX_FT_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
			plain(em, s);
		else
			string(em, s);
		break;
	case PBX_FT_LIST:
		/* The same elements as json: "" is [], every comma separates two. */
		sequence(em, true, YAML_FLOW_SEQUENCE_STYLE);
		while (*s) {
			size_t n = strcspn(s, ",");

			string_len(em, s, n);
			if (s[n] == '\0')
				break;
			s += n + 1;
			if (*s == '\0')
				string_len(em, s, 0);
		}
		sequence(em, false, 0);
		break;
	case PBX_FT_JSON: {
		/* Valid JSON without the whitespace around it, as json output embeds it. */
		size_t len = strlen(s);

		if (cli_json_valid(s)) {
			s += strspn(s, " \t\n\r");
			len = strlen(s);
			while (len > 0 && strchr(" \t\n\r", s[len - 1]))
				len--;
		}
		scalar(em, s, len, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		break;
	}
	case PBX_FT_STRING:
	case PBX_FT_TIME:
	case PBX_FT_SECRET:
	default:
		string(em, s);
		break;
	}
}

static void row(struct emitter *em, const struct cli_view *v, size_t r)
{
	mapping(em, true);
	for (size_t c = 0; c < v->n_cols; c++) {
		string(em, cli_view_field(v, c)->key);
		put_cell(em, cli_view_field(v, c), cli_view_cell(v, r, c));
	}
	mapping(em, false);
}

static int open_doc(struct emitter *em, FILE *out)
{
	yaml_event_t ev;

	if (!yaml_emitter_initialize(&em->e))
		return PBX_ERROR;
	yaml_emitter_set_output_file(&em->e, out);
	yaml_emitter_set_unicode(&em->e, 1);
	yaml_emitter_set_indent(&em->e, 2);
	yaml_emitter_set_width(&em->e, -1);   /* never fold long strings */
	em->ok = true;
	emit(em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
	return 0;
}

static int close_doc(struct emitter *em)
{
	yaml_event_t ev;
	bool ok;

	emit(em, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(em, &ev, yaml_stream_end_event_initialize(&ev));
	ok = em->ok && yaml_emitter_flush(&em->e);
	yaml_emitter_delete(&em->e);
	return ok ? 0 : PBX_ERROR;
}

int cli_yaml_list(FILE *out, const struct cli_view *v)
{
	struct emitter em;

	if (open_doc(&em, out) < 0)
		return PBX_ERROR;
	sequence(&em, true, YAML_BLOCK_SEQUENCE_STYLE);
	for (size_t r = 0; r < v->rows->n_rows; r++)
		row(&em, v, r);
	sequence(&em, false, 0);
	return close_doc(&em);
}

int cli_yaml_object(FILE *out, const struct cli_view *v, size_t r)
{
	struct emitter em;

	if (open_doc(&em, out) < 0)
		return PBX_ERROR;
	row(&em, v, r);
	return close_doc(&em);
}

int cli_yaml_change(FILE *out, const char *action, bool changed, const char *name,
		    const struct cli_view *v, size_t r)
{
	struct emitter em;

	if (open_doc(&em, out) < 0)
		return PBX_ERROR;
	mapping(&em, true);
	string(&em, "changed");
	plain(&em, changed ? "true" : "false");
	string(&em, "action");
	string(&em, action);
	if (name) {
		string(&em, name);
		if (v)
			row(&em, v, r);
		else
			plain(&em, "null");
	}
	mapping(&em, false);
	return close_doc(&em);
}
