/* SPDX-License-Identifier: MIT */
/*
 * The renderers' front door: parsing -o, choosing the columns (-f, or the schema's default
 * ones), dispatching to the format files, and printing errors. Errors are one line in every
 * mode: "pbxctl: ..." for people, a single-line JSON object when -o json or -o yaml asked
 * for machine output, so a script reading stderr can parse it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/text.h"
#include "pbx/error.h"
#include "pbx/schema.h"

#include "json-writer.h"
#include "render-internal.h"
#include "render.h"

int cli_output_parse(const char *s, enum cli_output *ret)
{
	static const struct {
		const char *name;
		enum cli_output mode;
	} modes[] = {
		{ "table", CLI_OUT_TABLE },
		{ "json", CLI_OUT_JSON },
		{ "yaml", CLI_OUT_YAML },
		{ "tsv", CLI_OUT_TSV },
	};

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*ret = modes[i].mode;
			return 0;
		}
	}
	return -1;
}

static int field_index(const struct pbx_schema *schema, const char *name, size_t len)
{
	for (size_t i = 0; i < schema->n_fields; i++) {
		const char *key = schema->fields[i].key;

		if (strlen(key) == len && memcmp(key, name, len) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Walk the comma-separated names of @fields (spaces around a name are ignored). With @cols,
 * store each new index there and count them in @ret_n. Returns 0, or -1 after copying the
 * first unknown name into @ret_bad.
 */
static int parse_fields(const char *fields, const struct pbx_schema *schema, size_t *cols,
			size_t *ret_n, char *ret_bad, size_t n_bad)
{
	const char *p = fields;
	size_t n = 0;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int i;

		while (len > 0 && *p == ' ')
			p++, len--;
		while (len > 0 && p[len - 1] == ' ')
			len--;
		i = field_index(schema, p, len);
		if (i < 0) {
			if (ret_bad && n_bad > 0)
				snprintf(ret_bad, n_bad, "%.*s", (int)len, p);
			return -1;
		}
		if (cols) {
			bool seen = false;

			for (size_t k = 0; k < n; k++)
				seen |= cols[k] == (size_t)i;
			if (!seen)
				cols[n++] = (size_t)i;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (ret_n)
		*ret_n = n;
	return 0;
}

int cli_render_check_fields(const struct cli_render_opts *o, const struct pbx_schema *schema,
			    char *ret_bad, size_t n)
{
	if (!o->fields)
		return 0;
	return parse_fields(o->fields, schema, NULL, NULL, ret_bad, n);
}

int cli_view_init(struct cli_view *v, const struct cli_render_opts *o,
		  const struct pbx_rows *rows, bool table_default)
{
	const struct pbx_schema *schema = rows->schema;
	size_t *cols = malloc((schema->n_fields ? schema->n_fields : 1) * sizeof(*cols));
	size_t n = 0;

	if (!cols)
		return PBX_ERROR;
	if (o->fields) {
		if (parse_fields(o->fields, schema, cols, &n, NULL, 0) < 0) {
			free(cols);
			return PBX_EINVALID;
		}
	} else {
		if (table_default)
			for (size_t i = 0; i < schema->n_fields; i++)
				if (schema->fields[i].flags & PBX_FIELD_DEFAULT)
					cols[n++] = i;
		if (n == 0)
			for (size_t i = 0; i < schema->n_fields; i++)
				cols[n++] = i;
	}
	*v = (struct cli_view){ .rows = rows, .cols = cols, .n_cols = n };
	return 0;
}

/* Flush, and report a write error (a full disk, a closed pipe) as PBX_ERROR. */
static int finish(FILE *out, int r)
{
	if (fflush(out) != 0 || ferror(out))
		return r < 0 ? r : PBX_ERROR;
	return r;
}

int cli_render_list(FILE *out, const struct cli_render_opts *o, const struct pbx_rows *rows)
{
	struct cli_view v;
	int r = cli_view_init(&v, o, rows, o->mode == CLI_OUT_TABLE);

	if (r < 0)
		return r;
	switch (o->mode) {
	case CLI_OUT_TABLE: r = cli_table_list(out, o, &v); break;
	case CLI_OUT_JSON: r = cli_json_list(out, &v); break;
	case CLI_OUT_YAML: r = cli_yaml_list(out, &v); break;
	case CLI_OUT_TSV: r = cli_tsv_rows(out, o, &v, 0, rows->n_rows); break;
	}
	free((void *)v.cols);
	return finish(out, r);
}

int cli_render_object(FILE *out, const struct cli_render_opts *o, const struct pbx_rows *rows,
		      size_t row)
{
	struct cli_view v;
	int r;

	assert(row < rows->n_rows);
	r = cli_view_init(&v, o, rows, false);
	if (r < 0)
		return r;
	switch (o->mode) {
	case CLI_OUT_TABLE: r = cli_table_object(out, o, &v, row); break;
	case CLI_OUT_JSON: r = cli_json_object(out, &v, row); break;
	case CLI_OUT_YAML: r = cli_yaml_object(out, &v, row); break;
	case CLI_OUT_TSV: r = cli_tsv_rows(out, o, &v, row, 1); break;
	}
	free((void *)v.cols);
	return finish(out, r);
}

int cli_render_change(FILE *out, const struct cli_render_opts *o, const char *action,
		      bool changed, const struct pbx_rows *rows, size_t row)
{
	const char *name = rows ? rows->schema->name : NULL;
	bool present = rows && row < rows->n_rows;
	struct cli_view v = { .rows = NULL };
	int r;

	if (o->mode == CLI_OUT_TABLE || o->mode == CLI_OUT_TSV)
		return present ? cli_render_object(out, o, rows, row) : 0;
	if (present) {
		r = cli_view_init(&v, o, rows, false);
		if (r < 0)
			return r;
	}
	if (o->mode == CLI_OUT_JSON)
		r = cli_json_change(out, action, changed, name, present ? &v : NULL, row);
	else
		r = cli_yaml_change(out, action, changed, name, present ? &v : NULL, row);
	free((void *)v.cols);
	return finish(out, r);
}

/*
 * Text for people: control characters become '?', as pbx_sanitize does, and so do C1
 * controls (U+0080..U+009F, which some terminals obey) and bytes that are not UTF-8.
 */
static void put_clean(FILE *out, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		bool bad;
		size_t n = pbx_utf8_next(s + i, len - i, &cp, &bad);

		if (bad || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			fputc('?', out);
		else
			fwrite(s + i, 1, n, out);
		i += n;
	}
}

static void error_text(FILE *out, const pbx_error *e, bool verbose)
{
	fputs("pbxctl: ", out);
	if (e->file[0]) {
		put_clean(out, e->file);
		if (e->line > 0) {
			fprintf(out, ":%d", e->line);
			if (e->column > 0)
				fprintf(out, ":%d", e->column);
		}
		fputs(": ", out);
	}
	if (e->object[0]) {
		put_clean(out, e->object);
		fputs(": ", out);
	}
	put_clean(out, e->message[0] ? e->message : pbx_code_name(e->code));
	fputc('\n', out);
	if (verbose && e->detail[0]) {
		fputs("detail: ", out);
		put_clean(out, e->detail);
		fputc('\n', out);
	}
	if (verbose && e->hint[0]) {
		fputs("hint: ", out);
		put_clean(out, e->hint);
		fputc('\n', out);
	}
}

/* Empty buffers of the record are null in JSON. */
static void json_text_or_null(struct cli_json *w, const char *key, const char *s)
{
	cli_json_key(w, key);
	if (s[0])
		cli_json_string(w, s);
	else
		cli_json_null(w);
}

static void error_json(FILE *out, const pbx_error *e, int exit_status, bool verbose)
{
	struct cli_json w;

	cli_json_init(&w, out, false);
	cli_json_begin_object(&w);
	cli_json_key(&w, "error");
	cli_json_begin_object(&w);
	cli_json_key(&w, "code");
	cli_json_string(&w, pbx_code_name(e->code));
	cli_json_key(&w, "exit");
	cli_json_int(&w, exit_status);
	json_text_or_null(&w, "object", e->object);
	json_text_or_null(&w, "field", e->field);
	cli_json_key(&w, "message");
	cli_json_string(&w, e->message[0] ? e->message : pbx_code_name(e->code));
	if (e->file[0]) {
		cli_json_key(&w, "file");
		cli_json_string(&w, e->file);
		cli_json_key(&w, "line");
		cli_json_int(&w, e->line);
		cli_json_key(&w, "column");
		cli_json_int(&w, e->column);
	}
	if (verbose) {
		json_text_or_null(&w, "detail", e->detail);
		json_text_or_null(&w, "hint", e->hint);
	}
	cli_json_end_object(&w);
	cli_json_end_object(&w);
	fputc('\n', out);
}

void cli_render_error(FILE *out, const struct cli_render_opts *o, const pbx_error *e,
		      int exit_status, bool verbose)
{
	if (o && (o->mode == CLI_OUT_JSON || o->mode == CLI_OUT_YAML))
		error_json(out, e, exit_status, verbose);
	else
		error_text(out, e, verbose);
	fflush(out);
}

void cli_bar_progress(void *ud, const char *phase, size_t done, size_t total)
{
	struct cli_bar *b = ud;
	int pct = total ? (int)(done * 100 / total) : 100, fill = pct * 30 / 100;

	if (b->drawn && pct == b->last)
		return;
	fprintf(stderr, "\r%-8s [%.*s%*s] %3d%%", phase, fill,
		"##############################", 30 - fill, "", pct);
	fflush(stderr);
	b->drawn = true;
	b->last = pct;
}

void cli_bar_clear(struct cli_bar *b)
{
	if (b->drawn)
		fputs("\r\033[K", stderr);
	b->drawn = false;
}

int cli_render_stream(FILE *out, const struct cli_render_opts *o, const struct pbx_rows *rows,
		      size_t row)
{
	struct cli_render_opts line = *o;
	struct cli_view v;
	int r;

	assert(row < rows->n_rows);
	line.no_headers = true;
	r = cli_view_init(&v, o, rows, o->mode == CLI_OUT_TABLE);
	if (r < 0)
		return r;
	switch (o->mode) {
	case CLI_OUT_JSON: r = cli_json_line(out, &v, row); break;
	case CLI_OUT_YAML:
		fputs("---\n", out);
		r = cli_yaml_object(out, &v, row);
		break;
	case CLI_OUT_TABLE:
	case CLI_OUT_TSV: r = cli_tsv_rows(out, &line, &v, row, 1); break;
	}
	free((void *)v.cols);
	return finish(out, r);
}
