/* SPDX-License-Identifier: MIT */
/*
 * -o json: the golden text of a list, an object and the write envelope, and the same output
 * read back with an independent parser: every key present in schema order, types from the
 * schema, hostile strings decoded to the bytes they were (invalid UTF-8 as U+FFFD).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"

#include "fixture.h"
#include "render.h"
#include "tjson.h"

static struct tj *render_list_parsed(size_t n_rows, const char *fields)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	struct tj *v;
	char *text;
	int r;

	o.fields = fields;
	fx_rows(&rows, n_rows);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	v = tj_parse(text);
	cr_assert(ne(ptr, v, NULL), "output is not JSON:\n%s", text);
	free(text);
	fx_rows_free(&rows);
	return v;
}

static void assert_string(const struct tj *v, const char *want)
{
	cr_assert(ne(ptr, (void *)v, NULL));
	cr_assert(eq(int, v->type, TJ_STRING));
	cr_assert(eq(str, v->text, (char *)want));
}

Test(render_json, list_matches_golden)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 3);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("list.json", text);
	free(text);
	fx_rows_free(&rows);
}

Test(render_json, list_has_every_key_in_schema_order_with_nulls)
{
	struct tj *v = render_list_parsed(3, NULL);

	cr_assert(eq(int, v->type, TJ_ARRAY));
	cr_assert(eq(sz, v->n, 3));
	for (size_t r = 0; r < 3; r++) {
		const struct tj *row = &v->items[r];

		cr_assert(eq(int, row->type, TJ_OBJECT));
		cr_assert(eq(sz, row->n, FX_N_FIELDS));
		for (size_t f = 0; f < FX_N_FIELDS; f++) {
			cr_assert(eq(str, row->keys[f], (char *)fx_schema.fields[f].key));
			if (!fx_cells[r][f])
				cr_assert(eq(int, row->items[f].type, TJ_NULL), "row %zu key %s", r,
					  row->keys[f]);
		}
	}
	tj_free(v);
}

Test(render_json, types_follow_the_schema)
{
	struct tj *v = render_list_parsed(3, NULL);
	const struct tj *acme = &v->items[0], *zoe = &v->items[1], *nul = &v->items[2];
	const struct tj *tags, *opts;

	cr_assert(eq(int, tj_get(acme, "extensions")->type, TJ_NUMBER));
	cr_assert(eq(str, tj_get(acme, "extensions")->text, "42"));
	cr_assert(eq(int, tj_get(acme, "enabled")->type, TJ_BOOL));
	cr_assert(eq(str, tj_get(acme, "enabled")->text, "true"));
	cr_assert(eq(str, tj_get(zoe, "enabled")->text, "false"));
	assert_string(tj_get(acme, "created_at"), "2024-05-01T10:00:00Z");
	assert_string(tj_get(acme, "secret"), "********");
	tags = tj_get(acme, "tags");
	cr_assert(eq(int, tags->type, TJ_ARRAY));
	cr_assert(eq(sz, tags->n, 2));
	assert_string(&tags->items[0], "sales");
	assert_string(&tags->items[1], "support");
	/* Raw JSON is embedded as a value, not a string. */
	opts = tj_get(acme, "options");
	cr_assert(eq(int, opts->type, TJ_OBJECT));
	assert_string(tj_get(opts, "moh"), "default");
	cr_assert(eq(sz, tj_get(opts, "max")->n, 3));
	/* Strings that look like other types stay strings. */
	assert_string(tj_get(nul, "name"), "null");
	assert_string(tj_get(nul, "label"), "true");
	assert_string(&tj_get(nul, "tags")->items[1], "null");
	assert_string(&tj_get(nul, "tags")->items[2], "0123");
	tj_free(v);
}

Test(render_json, cells_that_are_not_their_type_become_strings)
{
	struct tj *v = render_list_parsed(3, NULL);
	const struct tj *zoe = &v->items[1];

	/* "0123" is no JSON number, "not json" no JSON text: both stay valid as strings. */
	assert_string(tj_get(zoe, "extensions"), "0123");
	assert_string(tj_get(zoe, "options"), "not json");
	tj_free(v);
}

Test(render_json, empty_list_cell_is_an_empty_array)
{
	struct tj *v = render_list_parsed(2, NULL);
	const struct tj *tags = tj_get(&v->items[1], "tags");

	cr_assert(eq(int, tags->type, TJ_ARRAY));
	cr_assert(eq(sz, tags->n, 0));
	tj_free(v);
}

Test(render_json, hostile_strings_read_back_unchanged)
{
	struct tj *v = render_list_parsed(3, NULL);

	assert_string(tj_get(&v->items[0], "note"), fx_cells[0][FX_NOTE]);
	assert_string(tj_get(&v->items[1], "name"), fx_cells[1][FX_NAME]);
	assert_string(tj_get(&v->items[1], "note"), fx_cells[1][FX_NOTE]);
	assert_string(tj_get(&v->items[1], "label"), "");
	/* Invalid bytes, one U+FFFD each; the rest is kept. */
	assert_string(tj_get(&v->items[2], "note"),
		      "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd");
	tj_free(v);
}

Test(render_json, empty_list_prints_brackets)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 0);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "[]\n"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_json, object_matches_golden)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	char *text;
	struct tj *v;
	int r;

	fx_rows(&rows, 3);
	text = fx_object(&o, &rows, 1, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("object.json", text);
	v = tj_parse(text);
	cr_assert(ne(ptr, v, NULL));
	cr_assert(eq(int, v->type, TJ_OBJECT));
	assert_string(tj_get(v, "name"), fx_cells[1][FX_NAME]);
	tj_free(v);
	free(text);
	fx_rows_free(&rows);
}

Test(render_json, change_envelope_matches_golden)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	char *text;
	struct tj *v;
	int r;

	fx_rows(&rows, 1);
	text = fx_change(&o, "create", 1, &rows, 0, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("change.json", text);
	v = tj_parse(text);
	cr_assert(ne(ptr, v, NULL));
	cr_assert(eq(str, v->keys[0], "changed"));
	cr_assert(eq(str, tj_get(v, "changed")->text, "true"));
	assert_string(tj_get(v, "action"), "create");
	assert_string(tj_get(tj_get(v, "widget"), "name"), "acme");
	tj_free(v);
	free(text);
	fx_rows_free(&rows);
}

Test(render_json, change_without_a_row_has_a_null_entity)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 0);
	text = fx_change(&o, "delete", 0, &rows, 0, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text,
		     "{\n  \"changed\": false,\n  \"action\": \"delete\",\n  \"widget\": null\n}\n"));
	free(text);
	/* Without rows there is no schema, so no entity key at all. */
	text = fx_change(&o, "delete", 1, NULL, 0, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "{\n  \"changed\": true,\n  \"action\": \"delete\"\n}\n"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_json, fields_select_and_order_keys)
{
	struct tj *v = render_list_parsed(2, "note,name");

	for (size_t r = 0; r < 2; r++) {
		cr_assert(eq(sz, v->items[r].n, 2));
		cr_assert(eq(str, v->items[r].keys[0], "note"));
		cr_assert(eq(str, v->items[r].keys[1], "name"));
	}
	tj_free(v);
}

Test(render_json, unknown_field_is_refused_and_nothing_printed)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_JSON);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "name,bogus";
	fx_rows(&rows, 2);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(str, text, ""));
	free(text);
	text = fx_change(&o, "create", 1, &rows, 0, &r);
	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(str, text, ""));
	free(text);
	fx_rows_free(&rows);
}
