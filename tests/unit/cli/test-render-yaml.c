/* SPDX-License-Identifier: MIT */
/*
 * -o yaml: golden text, and a round trip through libyaml's parser. The round trip checks
 * what matters for import: every value reads back as the same string, and no string comes
 * back as null, a boolean or a number. That last check uses the YAML 1.1 resolver patterns
 * (as PyYAML applies them), written here independently of the renderer's own rule.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/text.h"
#include "pbx/error.h"

#include "fixture.h"
#include "render-internal.h"
#include "render.h"

/* YAML 1.1 implicit types (yaml.org/type, as resolved by PyYAML), plus y/n. */
static const char *const special_res[] = {
	"^(~|null|Null|NULL|)$",
	"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
	"^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?0o[0-7]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
	"|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	"^([-+]?[0-9][0-9_]*\\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?\\.[0-9][0-9_]*([eE][-+]?[0-9]+)?"
	"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)"
	"|[-+]?[0-9]+[eE][-+]?[0-9]+)$",
	"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?",
	"^(<<|=)$",
};

/* True when a plain scalar @s would not be read as a string. */
static bool resolves_special(const char *s)
{
	bool hit = false;

	for (size_t i = 0; i < sizeof(special_res) / sizeof(special_res[0]) && !hit; i++) {
		regex_t re;

		cr_assert(eq(int, regcomp(&re, special_res[i], REG_EXTENDED | REG_NOSUB), 0));
		hit = regexec(&re, s, 0, NULL, 0) == 0;
		regfree(&re);
	}
	return hit;
}

static void load(const char *text, yaml_document_t *doc)
{
	yaml_parser_t p;

	cr_assert(eq(int, yaml_parser_initialize(&p), 1));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	cr_assert(eq(int, yaml_parser_load(&p, doc), 1), "yaml does not parse: %s\n%s",
		  p.problem ? p.problem : "?", text);
	cr_assert(ne(ptr, yaml_document_get_root_node(doc), NULL), "empty document");
	yaml_parser_delete(&p);
}

static yaml_node_t *node(yaml_document_t *doc, int id)
{
	yaml_node_t *n = yaml_document_get_node(doc, id);

	cr_assert(ne(ptr, n, NULL));
	return n;
}

static const char *scalar_value(yaml_node_t *n)
{
	cr_assert(eq(int, n->type, YAML_SCALAR_NODE));
	return (const char *)n->data.scalar.value;
}

/* A string must read back as @want and, if written plain, must not resolve as non-string. */
static void assert_string_node(yaml_node_t *n, const char *want)
{
	const char *v = scalar_value(n);

	cr_assert(eq(str, (char *)v, (char *)want));
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		cr_assert(not(resolves_special(v)), "string \"%s\" written plain", v);
}

static void assert_plain_special(yaml_node_t *n, const char *want)
{
	cr_assert(eq(str, (char *)scalar_value(n), (char *)want));
	cr_assert(eq(int, n->data.scalar.style, YAML_PLAIN_SCALAR_STYLE));
	cr_assert(resolves_special(want));
}

/*
 * The value a cell should read back as: invalid UTF-8 replaced by U+FFFD, valid raw JSON
 * without the whitespace around it (only the fixture's cases).
 */
static const char *fixed_cell(size_t r, size_t f)
{
	if (r == 2 && f == FX_NOTE)
		return "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd";
	if (r == 0 && f == FX_OPTIONS)
		return "{\"moh\": \"default\", \"max\": [1, 2.5e3, null]}";
	return fx_cells[r][f];
}

/* Check a mapping against row @r of the fixture. */
static void assert_row(yaml_document_t *doc, yaml_node_t *map, size_t r)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);

	cr_assert(eq(int, map->type, YAML_MAPPING_NODE));
	cr_assert(eq(sz, n, FX_N_FIELDS));
	for (size_t f = 0; f < FX_N_FIELDS; f++) {
		yaml_node_pair_t *pair = &map->data.mapping.pairs.start[f];
		yaml_node_t *k = node(doc, pair->key), *v = node(doc, pair->value);
		const char *want = fixed_cell(r, f);

		assert_string_node(k, fx_schema.fields[f].key);
		if (!want) {
			assert_plain_special(v, "null");
			continue;
		}
		switch (fx_schema.fields[f].type) {
		case PBX_FT_INT:
		case PBX_FT_BOOL:
			if (strcmp(want, "0123") == 0)
				assert_string_node(v, want);
			else
				assert_plain_special(v, want);
			break;
		case PBX_FT_LIST: {
			yaml_node_item_t *it = v->data.sequence.items.start;
			char joined[256] = "";

			cr_assert(eq(int, v->type, YAML_SEQUENCE_NODE));
			for (; it < v->data.sequence.items.top; it++) {
				yaml_node_t *item = node(doc, *it);

				assert_string_node(item, scalar_value(item));
				if (joined[0])
					strcat(joined, ",");
				strcat(joined, scalar_value(item));
			}
			cr_assert(eq(str, joined, (char *)want));
			break;
		}
		case PBX_FT_JSON:
			assert_string_node(v, want);
			cr_assert(eq(int, v->data.scalar.style, YAML_DOUBLE_QUOTED_SCALAR_STYLE));
			break;
		default:
			assert_string_node(v, want);
		}
	}
}

Test(render_yaml, list_matches_golden)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 3);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("list.yaml", text);
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, list_round_trips_through_libyaml_with_strings_kept_strings)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	yaml_document_t doc;
	yaml_node_t *root;
	char *text;
	int r;

	fx_rows(&rows, 3);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	load(text, &doc);
	root = yaml_document_get_root_node(&doc);
	cr_assert(eq(int, root->type, YAML_SEQUENCE_NODE));
	cr_assert(eq(long, (long)(root->data.sequence.items.top - root->data.sequence.items.start), 3));
	for (size_t i = 0; i < 3; i++)
		assert_row(&doc, node(&doc, root->data.sequence.items.start[i]), i);
	yaml_document_delete(&doc);
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, object_round_trips_and_matches_golden)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	yaml_document_t doc;
	char *text;
	int r;

	fx_rows(&rows, 3);
	text = fx_object(&o, &rows, 2, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("object.yaml", text);
	load(text, &doc);
	assert_row(&doc, yaml_document_get_root_node(&doc), 2);
	yaml_document_delete(&doc);
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, empty_list_is_an_empty_sequence)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	yaml_document_t doc;
	yaml_node_t *root;
	char *text;
	int r;

	fx_rows(&rows, 0);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "--- []\n"));
	load(text, &doc);
	root = yaml_document_get_root_node(&doc);
	cr_assert(eq(int, root->type, YAML_SEQUENCE_NODE));
	cr_assert(eq(ptr, root->data.sequence.items.top, root->data.sequence.items.start));
	yaml_document_delete(&doc);
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, change_envelope_matches_golden_and_has_json_keys)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pairs;
	char *text;
	int r;

	fx_rows(&rows, 1);
	text = fx_change(&o, "create", 1, &rows, 0, &r);
	cr_assert(eq(int, r, 0));
	fx_assert_golden("change.yaml", text);
	load(text, &doc);
	root = yaml_document_get_root_node(&doc);
	pairs = root->data.mapping.pairs.start;
	cr_assert(eq(long, (long)(root->data.mapping.pairs.top - pairs), 3));
	assert_string_node(node(&doc, pairs[0].key), "changed");
	assert_plain_special(node(&doc, pairs[0].value), "true");
	assert_string_node(node(&doc, pairs[1].key), "action");
	assert_string_node(node(&doc, pairs[1].value), "create");
	assert_string_node(node(&doc, pairs[2].key), "widget");
	assert_row(&doc, node(&doc, pairs[2].value), 0);
	yaml_document_delete(&doc);
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, change_without_a_row_has_a_null_entity)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	char *text;
	int r;

	fx_rows(&rows, 0);
	text = fx_change(&o, "delete", 0, &rows, 0, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "---\nchanged: false\naction: delete\nwidget: null\n"));
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, fields_select_and_order_keys)
{
	struct cli_render_opts o = fx_opts(CLI_OUT_YAML);
	struct pbx_rows rows;
	char *text;
	int r;

	o.fields = "extensions,name";
	fx_rows(&rows, 1);
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(str, text, "---\n- extensions: 42\n  name: acme\n"));
	free(text);
	o.fields = "extensions,nope";
	text = fx_list(&o, &rows, &r);
	cr_assert(eq(int, r, PBX_EINVALID));
	cr_assert(eq(str, text, ""));
	free(text);
	fx_rows_free(&rows);
}

Test(render_yaml, quotes_strings_that_would_not_read_back_as_strings)
{
	const char *quoted[] = {
		"", "null", "Null", "~", "true", "FALSE", "yes", "No", "on", "OFF", "y", "n",
		"0", "0123", "42", "99", "-1", "+1", "1e3", "1.5", ".5", "-.5", ".inf", "-.Inf", ".NaN",
		"0x1f", "0o17", "0b101", "1_000", "1:20", "2024-01-02", "2024-05-01T10:00:00Z", "<<",
		"=", "a\tb", "line\nbreak", "\x1b[1m", "del\x7f", "c1\xc2\x85", "bad\xff",
	};
	const char *plain[] = { "acme", "hello world", "-foo", "Zo\xc3\xab", "nully", "yes please",
				"a.b", "x1", "_1" };

	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++)
		cr_assert(pbx_yaml_needs_quotes(quoted[i]), "\"%s\" left unquoted", quoted[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		cr_assert(not(pbx_yaml_needs_quotes(plain[i])), "\"%s\" quoted", plain[i]);
	/* The test's own resolver agrees on the plain ones. */
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		cr_assert(not(resolves_special(plain[i])), "\"%s\"", plain[i]);
}
