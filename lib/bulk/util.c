/* SPDX-License-Identifier: MIT */
/*
 * The small tools of lib/bulk: an arena that owns the strings of a parsed file and of a
 * plan, an open-addressing string map for natural-key lookups, field access by key, YAML
 * paths, and the problem reporter that positions every problem and caps how many are kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk-internal.h"

#define BLOCK_SIZE (64u << 10)

struct bulk_block {
	struct bulk_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

void *bulk_alloc(struct bulk_arena *a, size_t n)
{
	struct bulk_block *b = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->size - b->used < n) {
		size_t size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		/* A big one-off block goes behind the current one, which keeps its free room. */
		if (size != BLOCK_SIZE && a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *bulk_strndup(struct bulk_arena *a, const char *s, size_t n)
{
	char *p = bulk_alloc(a, n + 1);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *bulk_strdup(struct bulk_arena *a, const char *s)
{
	return s ? bulk_strndup(a, s, strlen(s)) : NULL;
}

char *bulk_printf(struct bulk_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(p = bulk_alloc(a, (size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void bulk_arena_free(struct bulk_arena *a)
{
	for (struct bulk_block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* FNV-1a */
static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int grow(struct bulk_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	const char **keys = calloc(cap, sizeof(*keys));
	size_t *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->keys[i])
			continue;
		for (j = hash(m->keys[i]) & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int bulk_map_put(struct bulk_map *m, const char *key, size_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	for (j = hash(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
		if (!strcmp(m->keys[j], key))
			return 0;
	m->keys[j] = key;
	m->vals[j] = val;
	m->n++;
	return 0;
}

size_t bulk_map_get(const struct bulk_map *m, const char *key)
{
	if (!m->cap)
		return SIZE_MAX;
	for (size_t j = hash(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
		if (!strcmp(m->keys[j], key))
			return m->vals[j];
	return SIZE_MAX;
}

void bulk_map_free(struct bulk_map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct bulk_map){ .n = 0 };
}

const char *bulk_get(const struct bulk_obj *o, const char *key)
{
	int i = pbx_schema_index(o->schema, key);

	return bulk_has(o, i) ? o->val[i] : NULL;
}

bool bulk_given(const struct bulk_obj *o, const char *key)
{
	return bulk_has(o, pbx_schema_index(o->schema, key));
}

struct bulk_pos bulk_vpos(const struct bulk_obj *o, const char *key)
{
	int i = pbx_schema_index(o->schema, key);

	return bulk_has(o, i) ? o->vpos[i] : o->pos;
}

void bulk_path(char *buf, size_t n, size_t ti, size_t ui, size_t di, const char *key)
{
	int k = snprintf(buf, n, "tenants[%zu]", ti);

	if (ui != SIZE_MAX && k >= 0 && (size_t)k < n)
		k += snprintf(buf + k, n - (size_t)k, ".users[%zu]", ui);
	if (di != SIZE_MAX && k >= 0 && (size_t)k < n)
		k += snprintf(buf + k, n - (size_t)k, ".devices[%zu]", di);
	if (key && k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, ".%s", key);
}

bool bulk_full(const struct bulk_report *rep)
{
	return rep->diag->n >= PBX_BULK_MAX_PROBLEMS;
}

static int add(struct bulk_report *rep, pbx_error *e, struct bulk_pos pos)
{
	if (bulk_full(rep) && !rep->force) {
		rep->dropped++;
		return e->code;
	}
	pbx_error_set_location(e, rep->file, (int)pos.line, (int)pos.col);
	if (pbx_diag_add(rep->diag, e) == PBX_ERROR && e->code != PBX_ERROR)
		rep->oom = true;
	return e->code;
}

int bulk_problem(struct bulk_report *rep, int code, struct bulk_pos pos, const char *path,
		 const char *fmt, ...)
{
	pbx_error e = PBX_ERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	pbx_verrorf(&e, code, path, NULL, fmt, ap);
	va_end(ap);
	return add(rep, &e, pos);
}

int bulk_problem_err(struct bulk_report *rep, struct bulk_pos pos, const char *path,
		     const pbx_error *src)
{
	pbx_error e = *src;

	snprintf(e.object, sizeof(e.object), "%s", path ? path : "");
	pbx_sanitize(e.object);
	return add(rep, &e, pos);
}

void bulk_report_end(struct bulk_report *rep)
{
	pbx_error e = PBX_ERROR_INIT;
	size_t dropped = rep->dropped;

	if (!dropped)
		return;
	pbx_errorf(&e, PBX_EINVALID, NULL, NULL,
		   "%zu more problem(s) not listed; fix the ones above and run again", dropped);
	pbx_error_set_location(&e, rep->file, 0, 0);
	/* The last line goes past the cap on purpose: it says what was left out. */
	pbx_diag_add(rep->diag, &e);
	rep->dropped = 0;
}
