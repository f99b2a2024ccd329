/* SPDX-License-Identifier: MIT */
/*
 * The tsv format, for scripts: a header line of keys (unless --no-headers), then one line
 * per row, fields separated by one tab. Inside a value, tab, newline, carriage return and
 * backslash are written as \t, \n, \r and \\, so a line is always one record and `cut -f`
 * works; every other byte passes through unchanged. A null cell is an empty field (an empty
 * string looks the same; use json or yaml where the difference matters). One object (show,
 * write commands) is the header and a single line.
 */
#include "render-internal.h"

static void put_field(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '\t': fputs("\\t", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\\': fputs("\\\\", out); break;
		default: fputc(*s, out);
		}
	}
}

int cli_tsv_rows(FILE *out, const struct cli_render_opts *o, const struct cli_view *v,
		 size_t first, size_t count)
{
	if (!o->no_headers) {
		for (size_t c = 0; c < v->n_cols; c++) {
			if (c > 0)
				fputc('\t', out);
			put_field(out, cli_view_field(v, c)->key);
		}
		fputc('\n', out);
	}
	for (size_t r = first; r < first + count; r++) {
		for (size_t c = 0; c < v->n_cols; c++) {
			if (c > 0)
				fputc('\t', out);
			put_field(out, cli_view_cell(v, r, c));
		}
		fputc('\n', out);
	}
	return 0;
}
