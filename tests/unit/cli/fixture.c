/* SPDX-License-Identifier: MIT */
/*
 * The renderer tests' fixture (see fixture.h). Rows are built by hand rather than with
 * pbx_rows_set, so these tests exercise the renderers and nothing else.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/schema.h"

#include "fixture.h"
#include "render.h"

static const struct pbx_field fx_fields[FX_N_FIELDS] = {
	[FX_NAME] = { "name", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the name" },
	[FX_LABEL] = { "label", PBX_FT_STRING, PBX_FIELD_DEFAULT, "a label" },
	[FX_EXTENSIONS] = { "extensions", PBX_FT_INT, PBX_FIELD_DEFAULT, "a count" },
	[FX_ENABLED] = { "enabled", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "a flag" },
	[FX_TAGS] = { "tags", PBX_FT_LIST, PBX_FIELD_DEFAULT, "a list" },
	[FX_CREATED_AT] = { "created_at", PBX_FT_TIME, 0, "a time" },
	[FX_SECRET] = { "secret", PBX_FT_SECRET, 0, "a masked secret" },
	[FX_OPTIONS] = { "options", PBX_FT_JSON, 0, "raw JSON" },
	[FX_NOTE] = { "note", PBX_FT_STRING, 0, "free text" },
};

const struct pbx_schema fx_schema = { "widget", fx_fields, FX_N_FIELDS };

const char *const fx_cells[3][FX_N_FIELDS] = {
	{
		[FX_NAME] = "acme",
		[FX_LABEL] = "Head office",
		[FX_EXTENSIONS] = "42",
		[FX_ENABLED] = "true",
		[FX_TAGS] = "sales,support",
		[FX_CREATED_AT] = "2024-05-01T10:00:00Z",
		[FX_SECRET] = "********",
		[FX_OPTIONS] = " {\"moh\": \"default\", \"max\": [1, 2.5e3, null]}\n",
		[FX_NOTE] = "tab\there \"quoted\" back\\slash\nnext line",
	},
	{
		[FX_NAME] = "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac",
		[FX_LABEL] = "",
		[FX_EXTENSIONS] = "0123",
		[FX_ENABLED] = "false",
		[FX_TAGS] = "",
		[FX_CREATED_AT] = NULL,
		[FX_SECRET] = NULL,
		[FX_OPTIONS] = "not json",
		[FX_NOTE] = "\x01" "ctl \x1b[31mred\x7f cr\r",
	},
	{
		[FX_NAME] = "null",
		[FX_LABEL] = "true",
		[FX_EXTENSIONS] = NULL,
		[FX_ENABLED] = NULL,
		[FX_TAGS] = "true,null,0123",
		[FX_CREATED_AT] = "yes",
		[FX_SECRET] = "~",
		[FX_OPTIONS] = NULL,
		[FX_NOTE] = "bad \xff\xfe utf8 \xe2\x82",
	},
};

void fx_rows(struct pbx_rows *rows, size_t n)
{
	*rows = (struct pbx_rows){ .schema = &fx_schema, .n_rows = n, .cap_rows = n };
	rows->cells = calloc(n * FX_N_FIELDS + 1, sizeof(char *));
	cr_assert(ne(ptr, rows->cells, NULL));
	for (size_t r = 0; r < n; r++)
		for (size_t f = 0; f < FX_N_FIELDS; f++)
			if (fx_cells[r][f])
				rows->cells[r * FX_N_FIELDS + f] = strdup(fx_cells[r][f]);
}

void fx_rows_free(struct pbx_rows *rows)
{
	for (size_t i = 0; i < rows->n_rows * FX_N_FIELDS; i++)
		free(rows->cells[i]);
	free(rows->cells);
	*rows = (struct pbx_rows){ .schema = NULL };
}

FILE *fx_open(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	cr_assert(ne(ptr, f, NULL));
	return f;
}

char *fx_close(FILE *f, char **buf)
{
	cr_assert(eq(int, fclose(f), 0));
	return *buf;
}

struct cli_render_opts fx_opts(enum cli_output mode)
{
	return (struct cli_render_opts){ .mode = mode };
}

char *fx_list(const struct cli_render_opts *o, const struct pbx_rows *rows, int *ret_r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);

	*ret_r = cli_render_list(f, o, rows);
	return fx_close(f, &buf);
}

char *fx_object(const struct cli_render_opts *o, const struct pbx_rows *rows, size_t row,
		int *ret_r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);

	*ret_r = cli_render_object(f, o, rows, row);
	return fx_close(f, &buf);
}

char *fx_change(const struct cli_render_opts *o, const char *action, int changed,
		const struct pbx_rows *rows, size_t row, int *ret_r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = fx_open(&buf, &len);

	*ret_r = cli_render_change(f, o, action, changed, rows, row);
	return fx_close(f, &buf);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

void fx_assert_golden(const char *name, const char *text)
{
	char path[512];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", CLI_GOLDEN_DIR, name);
	want = slurp(path);
	if (!want || strcmp(want, text) != 0) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.actual", CLI_ACTUAL_DIR, name);
		f = fopen(path, "wb");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
	}
	cr_assert(ne(ptr, want, NULL), "golden file %s/%s is missing (actual: %s)", CLI_GOLDEN_DIR,
		  name, path);
	cr_assert(eq(str, (char *)text, want), "output differs from golden/%s (actual: %s)", name,
		  path);
	free(want);
}

size_t fx_count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}
