/* SPDX-License-Identifier: MIT */
/*
 * Shared by the renderer tests: a schema with one field of every type, rows holding hostile
 * text (tabs, newlines, quotes, backslashes, UTF-8, control characters, invalid UTF-8, and
 * strings that look like null, booleans and numbers), rendering into a memory buffer, and
 * comparison with the golden files in golden/.
 */
#ifndef PBX_TEST_CLI_FIXTURE_H
#define PBX_TEST_CLI_FIXTURE_H

#include <stdio.h>

#include "pbx/schema.h"

#include "render.h"

/* Field positions in fx_schema. */
enum { FX_NAME, FX_LABEL, FX_EXTENSIONS, FX_ENABLED, FX_TAGS, FX_CREATED_AT, FX_SECRET,
       FX_OPTIONS, FX_NOTE, FX_N_FIELDS };

extern const struct pbx_schema fx_schema;
/* The raw cells of the three hostile rows (NULL = null), FX_N_FIELDS per row. */
extern const char *const fx_cells[3][FX_N_FIELDS];

/* Fill @rows with the first @n of the hostile rows (built by hand, owned strings). */
void fx_rows(struct pbx_rows *rows, size_t n);
void fx_rows_free(struct pbx_rows *rows);

/* A memory stream for rendering; fx_close returns its NUL-terminated text (free it). */
FILE *fx_open(char **buf, size_t *len);
char *fx_close(FILE *f, char **buf);

/* The options of a mode, no headers, no colour, all fields. */
struct cli_render_opts fx_opts(enum cli_output mode);

/* Render with each entry point and return the text (free it); @ret_r gets the result. */
char *fx_list(const struct cli_render_opts *o, const struct pbx_rows *rows, int *ret_r);
char *fx_object(const struct cli_render_opts *o, const struct pbx_rows *rows, size_t row,
		int *ret_r);
char *fx_change(const struct cli_render_opts *o, const char *action, int changed,
		const struct pbx_rows *rows, size_t row, int *ret_r);

/*
 * Assert that @text equals the file golden/@name byte for byte. On a mismatch the actual
 * text is also written to <build dir>/@name.actual, for diff(1).
 */
void fx_assert_golden(const char *name, const char *text);

/* Number of '\n' in @s. */
size_t fx_count_lines(const char *s);

#endif
