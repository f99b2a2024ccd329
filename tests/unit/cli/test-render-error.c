/* SPDX-License-Identifier: MIT */
/*
 * cli_render_error: the one-line "pbxctl: ..." message with and without location and
 * object, the -v detail and hint lines, and the single-line JSON object of -o json/yaml,
 * which must parse and must stay one line whatever the record holds.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"

#include "fixture.h"
#include "render.h"
#include "tjson.h"

static char *render_error(enum cli_output mode, const pbx_error *e, int status, bool verbose)
{
	struct cli_render_opts o = fx_opts(mode);
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);

	cli_render_error(f, &o, e, status, verbose);
	return fx_close(f, &buf);
}

static void range_error(pbx_error *e)
{
	pbx_errorf(e, PBX_EINVALID, "user alice", "extension",
		   "extension 2050 is outside acme's range 1000-1999");
}

Test(render_error, text_is_one_line_with_object)
{
	pbx_error e;
	char *text;

	range_error(&e);
	pbx_error_set_detail(&e, "server said no");
	pbx_error_set_hint(&e, "Pick an extension inside the range.");
	text = render_error(CLI_OUT_TABLE, &e, 3, false);
	cr_assert(eq(str, text,
		     "pbxctl: user alice: extension 2050 is outside acme's range 1000-1999\n"));
	free(text);
}

Test(render_error, text_without_object_is_just_the_message)
{
	pbx_error e;
	char *text;

	pbx_errorf(&e, PBX_EUNAVAILABLE, NULL, NULL,
		   "postgresql at /run/pbx/pg:5432 is unreachable");
	text = render_error(CLI_OUT_TSV, &e, 7, false);
	cr_assert(eq(str, text, "pbxctl: postgresql at /run/pbx/pg:5432 is unreachable\n"));
	free(text);
}

Test(render_error, text_with_file_has_line_and_column)
{
	pbx_error e;
	char *text;

	pbx_errorf(&e, PBX_EINVALID, "device \"desk\"", "label",
		   "label is already used by alice's device");
	pbx_error_set_location(&e, "users.yaml", 14, 7);
	text = render_error(CLI_OUT_TABLE, &e, 3, false);
	cr_assert(eq(str, text,
		     "pbxctl: users.yaml:14:7: device \"desk\": label is already used by alice's device\n"));
	free(text);
	/* A file without a position (an unreadable file) names only the file. */
	pbx_error_set_location(&e, "users.yaml", 0, 0);
	text = render_error(CLI_OUT_TABLE, &e, 3, false);
	cr_assert(eq(str, text,
		     "pbxctl: users.yaml: device \"desk\": label is already used by alice's device\n"));
	free(text);
}

Test(render_error, verbose_text_adds_detail_and_hint_lines)
{
	pbx_error e;
	char *text;

	range_error(&e);
	pbx_error_set_detail(&e, "SQLSTATE 23514");
	pbx_error_set_hint(&e, "Pick an extension inside the range.");
	text = render_error(CLI_OUT_TABLE, &e, 3, true);
	cr_assert(eq(str, text,
		     "pbxctl: user alice: extension 2050 is outside acme's range 1000-1999\n"
		     "detail: SQLSTATE 23514\n"
		     "hint: Pick an extension inside the range.\n"));
	free(text);
	/* Empty detail and hint add nothing. */
	range_error(&e);
	text = render_error(CLI_OUT_TABLE, &e, 3, true);
	cr_assert(eq(sz, fx_count_lines(text), 1));
	free(text);
}

Test(render_error, json_is_one_line_with_code_exit_object_field_message)
{
	pbx_error e;
	char *text;
	struct tj *v;

	range_error(&e);
	pbx_error_set_detail(&e, "hidden without -v");
	text = render_error(CLI_OUT_JSON, &e, 3, false);
	cr_assert(eq(str, text,
		     "{\"error\":{\"code\":\"invalid\",\"exit\":3,\"object\":\"user alice\","
		     "\"field\":\"extension\",\"message\":\"extension 2050 is outside acme's range "
		     "1000-1999\"}}\n"));
	v = tj_parse(text);
	cr_assert(ne(ptr, v, NULL));
	cr_assert(eq(str, tj_get(tj_get(v, "error"), "code")->text, "invalid"));
	tj_free(v);
	free(text);
}

Test(render_error, json_has_nulls_for_missing_object_and_field)
{
	pbx_error e;
	char *text;

	pbx_errorf(&e, PBX_ENOTFOUND, NULL, NULL, "no such tenant");
	text = render_error(CLI_OUT_JSON, &e, 4, false);
	cr_assert(eq(str, text,
		     "{\"error\":{\"code\":\"not_found\",\"exit\":4,\"object\":null,\"field\":null,"
		     "\"message\":\"no such tenant\"}}\n"));
	free(text);
}

Test(render_error, json_with_file_adds_file_line_column)
{
	pbx_error e;
	char *text;

	pbx_errorf(&e, PBX_EINVALID, NULL, "extensions", "expected MIN-MAX");
	pbx_error_set_location(&e, "acme.yaml", 3, 15);
	text = render_error(CLI_OUT_JSON, &e, 3, false);
	cr_assert(eq(str, text,
		     "{\"error\":{\"code\":\"invalid\",\"exit\":3,\"object\":null,\"field\":\"extensions\","
		     "\"message\":\"expected MIN-MAX\",\"file\":\"acme.yaml\",\"line\":3,\"column\":15}}\n"));
	free(text);
}

Test(render_error, json_verbose_adds_detail_and_hint)
{
	pbx_error e;
	char *text;
	struct tj *v;
	const struct tj *err;

	range_error(&e);
	pbx_error_set_detail(&e, "SQLSTATE 23514");
	text = render_error(CLI_OUT_JSON, &e, 3, true);
	cr_assert(eq(sz, fx_count_lines(text), 1));
	v = tj_parse(text);
	cr_assert(ne(ptr, v, NULL));
	err = tj_get(v, "error");
	cr_assert(eq(str, tj_get(err, "detail")->text, "SQLSTATE 23514"));
	cr_assert(eq(int, tj_get(err, "hint")->type, TJ_NULL));
	tj_free(v);
	free(text);
}

Test(render_error, yaml_mode_also_prints_the_json_line)
{
	pbx_error e;
	char *json, *yaml;

	range_error(&e);
	json = render_error(CLI_OUT_JSON, &e, 3, false);
	yaml = render_error(CLI_OUT_YAML, &e, 3, false);
	cr_assert(eq(str, yaml, json));
	free(json);
	free(yaml);
}

Test(render_error, hostile_record_stays_one_line_in_every_mode)
{
	pbx_error e = PBX_ERROR_INIT;
	char *text;
	struct tj *v;

	/* Filled by hand, past pbx_errorf's sanitizer, as a careless caller might. */
	e.code = PBX_ECONFLICT;
	strcpy(e.object, "user \"a\nb\"");
	strcpy(e.field, "x\\y");
	strcpy(e.message, "bad\r\x1b[2Jthing\tand \xff \xc2\x9b" "1m Zo\xc3\xab");
	text = render_error(CLI_OUT_TABLE, &e, 5, false);
	cr_assert(eq(str, text, "pbxctl: user \"a?b\": bad??[2Jthing?and ? ?1m Zo\xc3\xab\n"));
	free(text);
	text = render_error(CLI_OUT_JSON, &e, 5, false);
	cr_assert(eq(sz, fx_count_lines(text), 1));
	v = tj_parse(text);
	cr_assert(ne(ptr, v, NULL), "%s", text);
	cr_assert(eq(str, tj_get(tj_get(v, "error"), "object")->text, "user \"a\nb\""));
	cr_assert(eq(str, tj_get(tj_get(v, "error"), "message")->text,
		     "bad\r\x1b[2Jthing\tand \xef\xbf\xbd \xc2\x9b" "1m Zo\xc3\xab"));
	tj_free(v);
	free(text);
}

Test(render_error, empty_message_falls_back_to_the_code_name)
{
	pbx_error e = PBX_ERROR_INIT;
	char *text;

	e.code = PBX_EBUSY;
	text = render_error(CLI_OUT_TABLE, &e, 5, false);
	cr_assert(eq(str, text, "pbxctl: busy\n"));
	free(text);
}
