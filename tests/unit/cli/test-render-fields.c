/* SPDX-License-Identifier: MIT */
/*
 * The parts shared by every mode: -o parsing, and -f checking and selection (order kept,
 * duplicates dropped, spaces around names ignored, the first unknown name reported).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"

#include "fixture.h"
#include "render.h"

Test(render_output, parse_accepts_the_four_modes)
{
	enum cli_output m = CLI_OUT_TSV;

	cr_assert(eq(int, cli_output_parse("table", &m), 0));
	cr_assert(eq(int, m, CLI_OUT_TABLE));
	cr_assert(eq(int, cli_output_parse("json", &m), 0));
	cr_assert(eq(int, m, CLI_OUT_JSON));
	cr_assert(eq(int, cli_output_parse("yaml", &m), 0));
	cr_assert(eq(int, m, CLI_OUT_YAML));
	cr_assert(eq(int, cli_output_parse("tsv", &m), 0));
	cr_assert(eq(int, m, CLI_OUT_TSV));
}

Test(render_output, parse_refuses_other_names)
{
	const char *bad[] = { "", "JSON", "Table", "xml", "yml", "json ", "tsvx", "t" };
	enum cli_output m = CLI_OUT_YAML;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(eq(int, cli_output_parse(bad[i], &m), -1), "accepted \"%s\"", bad[i]);
	cr_assert(eq(int, cli_output_parse(NULL, &m), -1));
	cr_assert(eq(int, m, CLI_OUT_YAML), "a refused name changed the mode");
}

Test(render_fields, check_accepts_known_keys_and_no_selection)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char bad[32] = "untouched";

	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, sizeof(bad)), 0));
	o.fields = "note,name, created_at ,note";
	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, sizeof(bad)), 0));
	cr_assert(eq(str, bad, "untouched"));
}

Test(render_fields, check_reports_the_first_unknown_key)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	char bad[32];

	o.fields = "name,bogus,other";
	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, sizeof(bad)), -1));
	cr_assert(eq(str, bad, "bogus"));
	/* Keys are case-sensitive, as in the JSON output. */
	o.fields = "Name";
	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, sizeof(bad)), -1));
	cr_assert(eq(str, bad, "Name"));
	/* An empty name (a stray comma, or -f "") is unknown too. */
	o.fields = "name,,note";
	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, sizeof(bad)), -1));
	cr_assert(eq(str, bad, ""));
	o.fields = "";
	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, sizeof(bad)), -1));
	/* The report is cut to the buffer given. */
	o.fields = "averyveryverylongfieldname";
	cr_assert(eq(int, cli_render_check_fields(&o, &fx_schema, bad, 6), -1));
	cr_assert(eq(str, bad, "avery"));
}

Test(render_fields, selection_keeps_order_drops_duplicates_and_trims)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TSV);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = " extensions ,name,extensions";
	fx_rows(&rows, 1);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "extensions\tname\n42\tacme\n"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_fields, without_selection_table_shows_defaults_and_the_others_all)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 1);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, strtok(text, "\n"), "NAME  LABEL        EXTENSIONS  ENABLED  TAGS"));
	free(text);
	o.mode = CLI_OUT_TSV;
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(str, strtok(text, "\n"),
		     "name\tlabel\textensions\tenabled\ttags\tcreated_at\tsecret\toptions\tnote"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_fields, schema_without_default_fields_shows_all_in_table)
{
	static const struct pbx_field fields[] = {
		{ "a", PBX_FT_STRING, 0, "a" },
		{ "b", PBX_FT_INT, 0, "b" },
	};
	static const struct pbx_schema schema = { "plain", fields, 2 };
	char *cells[] = { "x", "1" };
	struct pbx_rows rows = { .schema = &schema, .n_rows = 1, .cap_rows = 1, .cells = cells };
	struct cli_render_opts o = fx_opts(CLI_OUT_TABLE);
	char *text;
	int r;

	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "A  B\nx  1\n"));
	free(text);
}
