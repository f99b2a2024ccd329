/* SPDX-License-Identifier: MIT */
/*
 * The renderers: one set of rows printed as an aligned table, JSON, YAML or TSV. Every
 * command prints through these; none prints field by field. Keys come from the lib
 * schema (pbx/schema.h), never from the CLI.
 */
#ifndef PBXCTL_RENDER_H
#define PBXCTL_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "pbx/error.h"
#include "pbx/schema.h"

enum cli_output { CLI_OUT_TABLE, CLI_OUT_JSON, CLI_OUT_YAML, CLI_OUT_TSV };

struct cli_render_opts {
	enum cli_output mode;
	bool no_headers;      /* table and tsv */
	bool color;           /* decoration only: bold headers on a terminal */
	const char *fields;   /* "-f a,b,c", or NULL: table shows PBX_FIELD_DEFAULT fields, others all */
};

/* Parse "table|json|yaml|tsv"; returns 0 or -1. */
int cli_output_parse(const char *s, enum cli_output *ret);

/*
 * Check that every name in o->fields is a key of @schema. Returns 0, or -1 after
 * writing the unknown key into @ret_bad (size n).
 */
int cli_render_check_fields(const struct cli_render_opts *o, const struct pbx_schema *schema,
			    char *ret_bad, size_t n);

/* A list: table/tsv rows, a JSON array ([] when empty), a YAML sequence. */
int cli_render_list(FILE *out, const struct cli_render_opts *o, const struct pbx_rows *rows);

/*
 * One row of a stream (diag watch), flushed: json one compact object per line (JSON Lines),
 * yaml one document, table and tsv one tab-separated line without a header.
 */
int cli_render_stream(FILE *out, const struct cli_render_opts *o, const struct pbx_rows *rows,
		      size_t row);

/* One object (show): table prints KEY VALUE lines, JSON an object, YAML a mapping. */
int cli_render_object(FILE *out, const struct cli_render_opts *o, const struct pbx_rows *rows,
		      size_t row);

/*
 * The result of a write command. JSON/YAML: the envelope
 * {"changed": bool, "action": "create", "<schema name>": {...}} (the object is null when
 * @rows is NULL, e.g. after delete). Table/TSV: the object as render_object does, or
 * nothing when @rows is NULL.
 */
int cli_render_change(FILE *out, const struct cli_render_opts *o, const char *action,
		      bool changed, const struct pbx_rows *rows, size_t row);

/*
 * An error, on @out (stderr). Text modes: "pbxctl: [file:line:column: ][object: ]message",
 * then with @verbose "detail: ..." and "hint: ..." lines. JSON/YAML modes: one line
 * {"error":{"code":"invalid","exit":3,"object":...,"field":...,"message":...}} (JSON
 * for both: one line a script can parse), with file/line/column when set.
 */
void cli_render_error(FILE *out, const struct cli_render_opts *o, const pbx_error *e,
		      int exit_status, bool verbose);

/* A progress bar on stderr ("phase [####   ]  42%"), for long work on a terminal only. */
struct cli_bar {
	bool drawn;
	int last;
};
/* Draw @done of @total for @phase; the signature of the library's progress callbacks. */
void cli_bar_progress(void *bar, const char *phase, size_t done, size_t total);
/* Erase the bar, if drawn. */
void cli_bar_clear(struct cli_bar *bar);

#endif
