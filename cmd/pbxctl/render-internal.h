/* SPDX-License-Identifier: MIT */
/*
 * What the renderers share behind render.h: a view (the rows plus the columns chosen for
 * this output, in order), and one entry point per format. render.c resolves the columns and
 * dispatches; each render-<format>.c only lays out a view. All return 0, or PBX_ERROR when
 * the output cannot be written or memory runs out.
 */
#ifndef PBXCTL_RENDER_INTERNAL_H
#define PBXCTL_RENDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbx/schema.h"

#include "json-writer.h"
#include "render.h"

struct cli_view {
	const struct pbx_rows *rows;
	const size_t *cols;   /* schema field indices, in output order */
	size_t n_cols;
};

static inline const struct pbx_field *cli_view_field(const struct cli_view *v, size_t col)
{
	return &v->rows->schema->fields[v->cols[col]];
}

static inline const char *cli_view_cell(const struct cli_view *v, size_t row, size_t col)
{
	return v->rows->cells[row * v->rows->schema->n_fields + v->cols[col]];
}

/*
 * Resolve the columns of @rows for @o: the -f names in their order (duplicates dropped),
 * else the PBX_FIELD_DEFAULT fields when @table_default (all fields if none is marked),
 * else all fields. Fills @v; free v->cols with free(). Returns 0, PBX_EINVALID for an
 * unknown name, PBX_ERROR when out of memory.
 */
int cli_view_init(struct cli_view *v, const struct cli_render_opts *o,
		  const struct pbx_rows *rows, bool table_default);

/* render-table.c: aligned columns, and KEY VALUE lines for one object. */
int cli_table_list(FILE *out, const struct cli_render_opts *o, const struct cli_view *v);
int cli_table_object(FILE *out, const struct cli_render_opts *o, const struct cli_view *v,
		     size_t row);

/* render-tsv.c: the header (unless o->no_headers), then rows [first, first + count). */
int cli_tsv_rows(FILE *out, const struct cli_render_opts *o, const struct cli_view *v,
		 size_t first, size_t count);

/*
 * render-json.c. cli_json_row writes row @row of @v as one object. In cli_json_change and
 * cli_yaml_change, @v NULL means the entity is null; @name NULL leaves its key out.
 */
void cli_json_row(struct cli_json *w, const struct cli_view *v, size_t row);
int cli_json_list(FILE *out, const struct cli_view *v);
int cli_json_object(FILE *out, const struct cli_view *v, size_t row);
/* One row as one compact line (JSON Lines). */
int cli_json_line(FILE *out, const struct cli_view *v, size_t row);
int cli_json_change(FILE *out, const char *action, bool changed, const char *name,
		    const struct cli_view *v, size_t row);

/* render-yaml.c, through libyaml's emitter. */
int cli_yaml_list(FILE *out, const struct cli_view *v);
int cli_yaml_object(FILE *out, const struct cli_view *v, size_t row);
int cli_yaml_change(FILE *out, const char *action, bool changed, const char *name,
		    const struct cli_view *v, size_t row);

#endif
