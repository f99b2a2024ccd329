/* SPDX-License-Identifier: MIT */
/*
 * Rows of strings in schema order: what every lib query returns and every renderer reads.
 */
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"
#include "pbx/schema.h"

int pbx_schema_index(const struct pbx_schema *schema, const char *key)
{
	for (size_t i = 0; i < schema->n_fields; i++)
		if (strcmp(schema->fields[i].key, key) == 0)
			return (int)i;
	return -1;
}

void pbx_rows_init(struct pbx_rows *rows, const struct pbx_schema *schema)
{
	*rows = (struct pbx_rows){ .schema = schema };
}

long pbx_rows_add(struct pbx_rows *rows)
{
	size_t nf = rows->schema->n_fields;

	if (rows->n_rows == rows->cap_rows) {
		size_t cap = rows->cap_rows ? rows->cap_rows * 2 : 16;
		char **p = realloc(rows->cells, cap * nf * sizeof(*p));

		if (!p)
			return -1;
		rows->cells = p;
		rows->cap_rows = cap;
	}
	memset(rows->cells + rows->n_rows * nf, 0, nf * sizeof(char *));
	return (long)rows->n_rows++;
}

int pbx_rows_set(struct pbx_rows *rows, size_t row, const char *key, const char *value)
{
	int i = pbx_schema_index(rows->schema, key);
	char **cell;

	if (i < 0 || row >= rows->n_rows)
		PBX_BUG("pbx_rows_set: unknown key or row");
	cell = &rows->cells[row * rows->schema->n_fields + (size_t)i];
	free(*cell);
	*cell = NULL;
	if (value && !(*cell = strdup(value)))
		return PBX_ERROR;
	return 0;
}

const char *pbx_rows_get(const struct pbx_rows *rows, size_t row, const char *key)
{
	int i = pbx_schema_index(rows->schema, key);

	if (i < 0 || row >= rows->n_rows)
		return NULL;
	return rows->cells[row * rows->schema->n_fields + (size_t)i];
}

void pbx_rows_free(struct pbx_rows *rows)
{
	if (!rows->cells) {
		free(rows->next_cursor);
		rows->next_cursor = NULL;
		return;
	}
	for (size_t i = 0; i < rows->n_rows * rows->schema->n_fields; i++)
		free(rows->cells[i]);
	free(rows->cells);
	free(rows->next_cursor);
	rows->cells = NULL;
	rows->n_rows = rows->cap_rows = 0;
	rows->next_cursor = NULL;
}
