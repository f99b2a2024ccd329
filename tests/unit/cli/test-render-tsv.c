/* SPDX-License-Identifier: MIT */
/*
 * -o tsv: golden text, one line per record whatever the cells hold, tab/newline/CR/backslash
 * escaped, null as an empty field, all fields by default, -f and --no-headers.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"

#include "fixture.h"
#include "render.h"

static char *tsv(const struct cli_render_opts *o, size_t n_rows)
{
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, n_rows);
	text = fx_list(o, &rows, &r);
	cr_assert(eq(int, r, 0));
	fx_rows_free(&rows);
	return text;
}

Test(render_tsv, list_matches_golden)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	char *text = tsv(&o, 3);

	fx_assert_golden("list.tsv", text);
	free(text);
}

Test(render_tsv, every_line_is_one_record_with_every_field)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	char *text = tsv(&o, 3), *line, *save = NULL;
	size_t lines = 0;

	cr_assert(eq(sz, fx_count_lines(text), 4));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t tabs = 0;

		for (char *p = line; *p; p++)
			tabs += *p == '\t';
		cr_assert(eq(sz, tabs, FX_N_FIELDS - 1), "line %zu: %s", lines, line);
		cr_assert(eq(ptr, strchr(line, '\r'), NULL));
		lines++;
	}
	cr_assert(eq(sz, lines, 4));
	free(text);
}

Test(render_tsv, escapes_tab_newline_cr_and_backslash)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	char *text;

	o.fields = "note";
	o.no_headers = true;
	text = tsv(&o, 2);
	cr_assert(eq(str, text,
		     "tab\\there \"quoted\" back\\\\slash\\nnext line\n"
		     "\x01" "ctl \x1b[31mred\x7f cr\\r\n"));
	free(text);
}

Test(render_tsv, null_is_an_empty_field)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "name,extensions,enabled,options";
	fx_rows(&rows, 3);
	text = fx_object(&o, &rows, 2, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "name\textensions\tenabled\toptions\nnull\t\t\t\n"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_tsv, header_uses_keys_and_no_headers_drops_it)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	char *text;

	o.fields = "tags,name";
	text = tsv(&o, 1);
	cr_assert(eq(str, text, "tags\tname\nsales,support\tacme\n"));
	free(text);
	o.no_headers = true;
	text = tsv(&o, 1);
	cr_assert(eq(str, text, "sales,support\tacme\n"));
	free(text);
}

Test(render_tsv, empty_list_prints_only_the_header)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	char *text;

	o.fields = "name,label";
	text = tsv(&o, 0);
	cr_assert(eq(str, text, "name\tlabel\n"));
	free(text);
	o.no_headers = true;
	text = tsv(&o, 0);
	cr_assert(eq(str, text, ""));
	free(text);
}

Test(render_tsv, unknown_field_is_refused_and_nothing_printed)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "name,";
	fx_rows(&rows, 1);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(str, text, ""));
	free(text);
	fx_rows_free(&rows);
}
