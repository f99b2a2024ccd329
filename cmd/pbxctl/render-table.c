/* SPDX-License-Identifier: MIT */
/*
 * The table format, for people: aligned columns two spaces apart under the keys in capitals,
 * never truncated, and for one object "key  value" lines. Widths count what a terminal shows:
 * wcwidth(3) per code point in a UTF-8 locale, one column per code point otherwise. Hostile
 * text cannot break the layout or drive the terminal: tab, newline and carriage return are
 * shown as \t \n \r, other control characters (C0, DEL, C1), the Unicode line separators and
 * the bidirectional overrides as \xNN or \uNNNN, and invalid UTF-8 as U+FFFD. A null cell is
 * shown as "-". The table format may change between versions; scripts use json, yaml or tsv.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "pbx/text.h"
#include "pbx/error.h"

#include "json-writer.h"
#include "render-internal.h"

#define NULL_CELL "-"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* Code points shown as an escape rather than written to the terminal. */
static bool is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029 ||            /* line and paragraph separators */
	       (cp >= 0x202a && cp <= 0x202e) ||          /* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069);            /* bidi isolates */
}

/*
 * Write @s as the terminal should see it, or only measure it when @out is NULL. Returns the
 * number of columns it takes.
 */
static size_t put_cell(FILE *out, const char *s)
{
	size_t width = 0, len, i = 0;
	char esc[16];

	if (!s)
		s = NULL_CELL;
	len = strlen(s);
	while (i < len) {
		uint32_t cp;
		bool bad;
		size_t n = pbx_utf8_next(s + i, len - i, &cp, &bad);
		int w;

		if (bad) {
			if (out)
				fputs("\xef\xbf\xbd", out);
			width += 1;
		} else if (is_unsafe(cp)) {
			if (cp == '\t' || cp == '\n' || cp == '\r')
				snprintf(esc, sizeof(esc), "\\%c", cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r');
			else if (cp < 0x80)
				snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
			else
				snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			if (out)
				fputs(esc, out);
			width += strlen(esc);
		} else {
			if (out)
				fwrite(s + i, 1, n, out);
			w = cp < 0x80 ? 1 : wcwidth((wchar_t)cp);
			width += w < 0 ? 1 : (size_t)w;
		}
		i += n;
	}
	return width;
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/*
 * Padding is held back until something visible follows it, so no line ends in spaces,
 * even when its last cells are empty strings.
 */
static void put_padded(FILE *out, const char *s, size_t *pending)
{
	if (s && *s == '\0')
		return;
	pad(out, *pending);
	*pending = 0;
	put_cell(out, s);
}

/* A key in capitals (table header) or as is (object keys), bold when colour is on. */
static size_t put_key(FILE *out, const struct cli_render_opts *o, const char *key, bool upper)
{
	size_t n = 0;

	if (o->color)
		fputs(BOLD, out);
	for (const char *p = key; *p; p++, n++)
		fputc(upper && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, out);
	if (o->color)
		fputs(RESET, out);
	return n;
}

int cli_table_list(FILE *out, const struct cli_render_opts *o, const struct cli_view *v)
{
	size_t n_rows = v->rows->n_rows;
	size_t *widths;

	/* Nothing at all for an empty list: no header over no rows. */
	if (n_rows == 0 || v->n_cols == 0)
		return 0;
	widths = calloc(v->n_cols, sizeof(*widths));
	if (!widths)
		return PBX_ERROR;
	for (size_t c = 0; c < v->n_cols; c++) {
		if (!o->no_headers)
			widths[c] = strlen(cli_view_field(v, c)->key);
		for (size_t r = 0; r < n_rows; r++) {
			size_t w = put_cell(NULL, cli_view_cell(v, r, c));

			if (w > widths[c])
				widths[c] = w;
		}
	}
	if (!o->no_headers) {
		for (size_t c = 0; c < v->n_cols; c++) {
			size_t w = put_key(out, o, cli_view_field(v, c)->key, true);

			/* The last column is not padded: no trailing spaces. */
			if (c + 1 < v->n_cols)
				pad(out, widths[c] - w + 2);
		}
		fputc('\n', out);
	}
	for (size_t r = 0; r < n_rows; r++) {
		size_t pending = 0;

		for (size_t c = 0; c < v->n_cols; c++) {
			const char *s = cli_view_cell(v, r, c);

			put_padded(out, s, &pending);
			pending += widths[c] - put_cell(NULL, s) + 2;
		}
		fputc('\n', out);
	}
	free(widths);
	return 0;
}

int cli_table_object(FILE *out, const struct cli_render_opts *o, const struct cli_view *v,
		     size_t row)
{
	size_t width = 0;

	for (size_t c = 0; c < v->n_cols; c++) {
		size_t w = strlen(cli_view_field(v, c)->key);

		if (w > width)
			width = w;
	}
	for (size_t c = 0; c < v->n_cols; c++) {
		size_t pending = width - put_key(out, o, cli_view_field(v, c)->key, false) + 2;

		put_padded(out, cli_view_cell(v, row, c), &pending);
		fputc('\n', out);
	}
	return 0;
}
