/* SPDX-License-Identifier: MIT */
/*
 * -o table: golden layouts (default columns, --no-headers, -f, one object), widths counted
 * in terminal columns, hostile text escaped so it can neither break a row nor reach the
 * terminal, bold headers only with colour, and nothing at all for an empty list.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"

#include "fixture.h"
#include "render.h"

/* Golden tables are made in C.UTF-8, where wcwidth counts CJK characters as two columns. */
static void utf8_locale(void)
{
	cr_assert(ne(ptr, setlocale(LC_CTYPE, "C.UTF-8"), NULL));
}

static char *table(const struct cli_render_opts *o, size_t n_rows)
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

Test(render_table, list_shows_default_columns_aligned, .init = utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text = table(&o, 3);

	fx_assert_golden("list.table", text);
	free(text);
}

Test(render_table, no_headers_drops_the_header_line, .init = utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;

	o.no_headers = true;
	text = table(&o, 3);
	fx_assert_golden("list-no-headers.table", text);
	cr_assert(eq(sz, fx_count_lines(text), 3));
	free(text);
}

Test(render_table, fields_replace_the_default_columns, .init = utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;

	o.fields = "note,created_at,name";
	text = table(&o, 3);
	fx_assert_golden("list-fields.table", text);
	free(text);
}

Test(render_table, object_shows_every_field_as_key_value_lines, .init = utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 3);
	text = fx_object(&o, &rows, 1, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("object.table", text);
	cr_assert(eq(sz, fx_count_lines(text), FX_N_FIELDS));
	free(text);
	fx_rows_free(&rows);
}

Test(render_table, empty_list_prints_nothing)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text = table(&o, 0);

	cr_assert(eq(str, text, ""));
	free(text);
}

Test(render_table, wide_characters_take_two_columns, .init = utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;

	/* "Zoë 日本" is 6 code points but 8 columns wide; the next column starts after it. */
	o.fields = "name,enabled";
	text = table(&o, 2);
	cr_assert(eq(str, text,
		     "NAME      ENABLED\n"
		     "acme      true\n"
		     "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac  false\n"));
	free(text);
}

Test(render_table, counts_code_points_outside_a_utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;

	cr_assert(ne(ptr, setlocale(LC_CTYPE, "C"), NULL));
	o.fields = "name,enabled";
	text = table(&o, 2);
	cr_assert(eq(str, text,
		     "NAME    ENABLED\n"
		     "acme    true\n"
		     "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac  false\n"));
	free(text);
}

Test(render_table, hostile_text_never_reaches_the_terminal, .init = utf8_locale)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;

	o.fields = "name,note,label";
	text = table(&o, 3);
	/* One line per row plus the header, and no raw control byte anywhere. */
	cr_assert(eq(sz, fx_count_lines(text), 4));
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool printable = (*p >= 0x20 && *p != 0x7f) || *p == '\n';

		cr_assert(printable, "raw byte 0x%02x", *p);
	}
	cr_assert(ne(ptr, strstr(text, "\\x01ctl \\x1b[31mred\\x7f cr\\r"), NULL), "%s", text);
	cr_assert(ne(ptr, strstr(text, "tab\\there \"quoted\" back\\slash\\nnext line"), NULL));
	cr_assert(ne(ptr, strstr(text, "bad \xef\xbf\xbd\xef\xbf\xbd utf8"), NULL));
	free(text);
}

Test(render_table, null_is_a_dash)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "name,extensions,enabled";
	fx_rows(&rows, 3);
	text = fx_object(&o, &rows, 2, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "name        null\nextensions  -\nenabled     -\n"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_table, headers_are_bold_only_with_colour)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;

	o.fields = "name,label";
	text = table(&o, 1);
	cr_assert(eq(ptr, strchr(text, '\033'), NULL));
	free(text);
	o.color = true;
	text = table(&o, 1);
	/* Padding is computed on the visible text, not on the escape sequences. */
	cr_assert(eq(str, text, "\033[1mNAME\033[0m  \033[1mLABEL\033[0m\nacme  Head office\n"));
	free(text);
}

Test(render_table, change_prints_the_object_or_nothing)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "name,extensions";
	fx_rows(&rows, 1);
	text = fx_change(&o, "create", 1, &rows, 0, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "name        acme\nextensions  42\n"));
	free(text);
	text = fx_change(&o, "delete", 1, NULL, 0, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, ""));
	free(text);
	fx_rows_free(&rows);
}

Test(render_table, unknown_field_is_refused_and_nothing_printed)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "NAME";
	fx_rows(&rows, 1);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(str, text, ""));
	free(text);
	text = fx_object(&o, &rows, 0, &r);
	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(str, text, ""));
	free(text);
	fx_rows_free(&rows);
}
