/* SPDX-License-Identifier: MIT */
/*
 * One schema per entity, defined once: the keys, their types and flags. The CLI
 * renderers, export and import all read these, so `-o json` keys equal import keys.
 * Rows are returned by lib as a pbx_rows table of strings laid out in schema order.
 */
#ifndef PBX_SCHEMA_H
#define PBX_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pbx_field_type {
	PBX_FT_STRING,
	PBX_FT_INT,     /* decimal text, rendered as a JSON number */
	PBX_FT_BOOL,    /* "true" / "false" */
	PBX_FT_TIME,    /* RFC 3339 UTC text */
	PBX_FT_SECRET,  /* lib already masks it ("********") unless revealed */
	PBX_FT_LIST,    /* elements joined by ',' (elements never contain ',') */
	PBX_FT_JSON,    /* raw JSON text, embedded as is in json output */
} pbx_field_type;

#define PBX_FIELD_DEFAULT  (1u << 0)  /* a column of the default table view */
#define PBX_FIELD_READONLY (1u << 1)  /* computed or server-assigned; import ignores it */
#define PBX_FIELD_EXPORT   (1u << 2)  /* written by export and read by import */

struct pbx_field {
	const char *key;        /* snake_case */
	pbx_field_type type;
	unsigned flags;
	const char *help;       /* one line, for man pages and completion */
};

struct pbx_schema {
	const char *name;       /* "tenant", "user", ... also the envelope key */
	const struct pbx_field *fields;
	size_t n_fields;
};

/* Index of @key in @schema, or -1. */
int pbx_schema_index(const struct pbx_schema *schema, const char *key);

/*
 * A table of rows. cells[row * n_fields + field] is an owned string or NULL (null).
 * next_cursor, when set, is the keyset cursor for the following page.
 */
struct pbx_rows {
	const struct pbx_schema *schema;
	size_t n_rows, cap_rows;
	char **cells;
	char *next_cursor;
};

/* Initialise an empty table; no allocation until the first row. */
void pbx_rows_init(struct pbx_rows *rows, const struct pbx_schema *schema);
/* Append an all-null row; returns its index or -1 when out of memory. */
long pbx_rows_add(struct pbx_rows *rows);
/* Set a cell to a copy of @value (NULL = null); returns 0 or PBX_ERROR. */
int pbx_rows_set(struct pbx_rows *rows, size_t row, const char *key, const char *value);
/* The cell of @key in @row, or NULL. */
const char *pbx_rows_get(const struct pbx_rows *rows, size_t row, const char *key);
void pbx_rows_free(struct pbx_rows *rows);

/* The schemas of the entities. */
extern const struct pbx_schema pbx_schema_tenant;
extern const struct pbx_schema pbx_schema_tenant_stats;
extern const struct pbx_schema pbx_schema_audit;
extern const struct pbx_schema pbx_schema_migration;
extern const struct pbx_schema pbx_schema_user;
extern const struct pbx_schema pbx_schema_device;
extern const struct pbx_schema pbx_schema_secret_check;
extern const struct pbx_schema pbx_schema_key_file;
extern const struct pbx_schema pbx_schema_did;
extern const struct pbx_schema pbx_schema_trunk;
extern const struct pbx_schema pbx_schema_trunk_status;
extern const struct pbx_schema pbx_schema_policy;
extern const struct pbx_schema pbx_schema_policy_rule;
extern const struct pbx_schema pbx_schema_policy_test;
extern const struct pbx_schema pbx_schema_policy_user;

#endif
