/* SPDX-License-Identifier: MIT */
/*
 * The small pieces the plan is made of, shared by plan-users.c and plan-routing.c with
 * the files of each routing object: state cells and columns, final values (given, else
 * current, else default), the list of keys that differ, composite keys for the natural-key
 * maps, and growing vectors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

int bulk_field(const struct pbx_schema *s, const char *key)
{
	int i = pbx_schema_index(s, key);

	if (i < 0)
		PBX_BUG("bulk: a schema lost a key the import relies on");
	return i;
}

const char *bulk_cell(const PGresult *res, int row, int col)
{
	return col < 0 || PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

void bulk_columns(const PGresult *res, const struct pbx_schema *s, int *cols)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		char over[64];

		/* A column "_key" overrides "key": the store knows better than the SELECT. */
		snprintf(over, sizeof(over), "_%s", s->fields[i].key);
		cols[i] = PQfnumber(res, over) >= 0 ? PQfnumber(res, over) :
			  PQfnumber(res, s->fields[i].key);
	}
}

/* Final values: given in the file, else current, else the default. */
const char **bulk_finals(struct bulk_plan *p, const struct bulk_obj *o, const PGresult *res,
			   int row, const int *cols, const char *const *defaults)
{
	const struct pbx_schema *s = o->schema;
	const char **v = bulk_alloc(&p->arena, s->n_fields * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n_fields; i++) {
		if (bulk_has(o, (int)i))
			v[i] = o->val[i];
		else if (row >= 0)
			v[i] = bulk_cell(res, row, cols[i]);
		else
			v[i] = defaults ? defaults[i] : NULL;
	}
	return v;
}

/* Whether @key is one of the comma-separated @list. */
static bool in_list(const char *key, const char *list)
{
	size_t n = strlen(key);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
		if (strcspn(p, ",") == n && !strncmp(p, key, n))
			return true;
	return false;
}

/* "name, status": the export keys whose final value differs from the current one. */
const char *bulk_diff(struct bulk_plan *p, const struct pbx_schema *s, const char **v,
			const PGresult *res, int row, const int *cols, const char *skip)
{
	char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_fields; i++) {
		const struct pbx_field *f = &s->fields[i];

		if (!(f->flags & PBX_FIELD_EXPORT) || in_list(f->key, skip) ||
		    same(v[i], bulk_cell(res, row, cols[i])))
			continue;
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s",
				      n ? ", " : "", f->key);
	}
	return n ? bulk_strdup(&p->arena, buf) : NULL;
}

void *bulk_push(void **vec, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void *q = realloc(*vec, c * size);

		if (!q)
			return NULL;
		*vec = q;
		*cap = c;
	}
	memset((char *)*vec + *n * size, 0, size);
	return (char *)*vec + (*n)++ * size;
}

const char *bulk_key2(struct bulk_plan *p, const char *a, const char *b)
{
	return bulk_printf(&p->arena, "%s\x1f%s", a, b);
}
