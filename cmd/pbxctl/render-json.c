/* SPDX-License-Identifier: MIT */
/*
 * The json format: a list is an array of objects ([] when empty), one object is an object,
 * a write command's result is the {"changed", "action", "<entity>"} envelope. Output is
 * pretty-printed with two spaces and ends with a newline; keys come in schema (or -f) order
 * and every selected key is present, null when the cell is null. Cells are typed by the
 * schema: INT a number and BOOL true/false when the text really is one (else a string, so
 * the output stays valid), LIST an array of strings ("" is []), JSON embedded as is when it
 * is valid JSON (else a string), everything else a string.
 */
#include <string.h>

#include "json-writer.h"
#include "render-internal.h"

/* Embed the raw JSON of a cell without the whitespace around it. */
static void put_raw(struct cli_json *w, const char *s)
{
	const char *ws = " \t\n\r";
	size_t len;

	s += strspn(s, ws);
	len = strlen(s);
	while (len > 0 && strchr(ws, s[len - 1]))
		len--;
	cli_json_raw(w, s, len);
}

static void put_cell(struct cli_json *w, const struct pbx_field *f, const char *s)
{
	if (!s) {
		cli_json_null(w);
		return;
	}
	switch (f->type) {
	case PBX_FT_INT:
		if (cli_json_is_int(s))
			cli_json_number(w, s);
		else
			cli_json_string(w, s);
		break;
	case PBX_FT_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
			cli_json_bool(w, s[0] == 't');
		else
			cli_json_string(w, s);
		break;
	case PBX_FT_LIST:
		/* "" is the empty list; otherwise every comma separates two elements. */
		cli_json_begin_array(w);
		while (*s) {
			size_t n = strcspn(s, ",");

			cli_json_string_len(w, s, n);
			if (s[n] == '\0')
				break;
			s += n + 1;
			if (*s == '\0')
				cli_json_string_len(w, s, 0);
		}
		cli_json_end_array(w);
		break;
	case PBX_FT_JSON:
		if (cli_json_valid(s))
			put_raw(w, s);
		else
			cli_json_string(w, s);
		break;
	case PBX_FT_STRING:
	case PBX_FT_TIME:
	case PBX_FT_SECRET:
	default:
		cli_json_string(w, s);
		break;
	}
}

void cli_json_row(struct cli_json *w, const struct cli_view *v, size_t row)
{
	cli_json_begin_object(w);
	for (size_t c = 0; c < v->n_cols; c++) {
		cli_json_key(w, cli_view_field(v, c)->key);
		put_cell(w, cli_view_field(v, c), cli_view_cell(v, row, c));
	}
	cli_json_end_object(w);
}

int cli_json_list(FILE *out, const struct cli_view *v)
{
	struct cli_json w;

	cli_json_init(&w, out, true);
	cli_json_begin_array(&w);
	for (size_t r = 0; r < v->rows->n_rows; r++)
		cli_json_row(&w, v, r);
	cli_json_end_array(&w);
	fputc('\n', out);
	return 0;
}

static int json_one(FILE *out, const struct cli_view *v, size_t row, bool pretty)
{
	struct cli_json w;

	cli_json_init(&w, out, pretty);
	cli_json_row(&w, v, row);
	fputc('\n', out);
	return 0;
}

int cli_json_object(FILE *out, const struct cli_view *v, size_t row)
{
	return json_one(out, v, row, true);
}

int cli_json_line(FILE *out, const struct cli_view *v, size_t row)
{
	return json_one(out, v, row, false);
}

int cli_json_change(FILE *out, const char *action, bool changed, const char *name,
		    const struct cli_view *v, size_t row)
{
	struct cli_json w;

	cli_json_init(&w, out, true);
	cli_json_begin_object(&w);
	cli_json_key(&w, "changed");
	cli_json_bool(&w, changed);
	cli_json_key(&w, "action");
	cli_json_string(&w, action);
	if (name) {
		cli_json_key(&w, name);
		if (v)
			cli_json_row(&w, v, row);
		else
			cli_json_null(&w);
	}
	cli_json_end_object(&w);
	fputc('\n', out);
	return 0;
}
