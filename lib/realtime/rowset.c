/* SPDX-License-Identifier: MIT */
/*
 * Row sets: the desired rows every kind of object (devices, later trunks) is turned into,
 * the rows read back from MariaDB, and the rows of a snapshot. A set owns copies of its
 * strings and indexes its rows by table and id in a small hash table, so plans over tens of
 * thousands of rows stay linear.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "realtime-internal.h"

static uint64_t row_hash(const struct rt_table *t, const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = t->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static void hash_put(pbx_rt_rowset *set, size_t index)
{
	const struct rt_row *r = set->rows[index];
	size_t mask = set->hash_cap - 1;
	size_t i = (size_t)row_hash(r->def, r->pub.id) & mask;

	while (set->hash[i])
		i = (i + 1) & mask;
	set->hash[i] = index + 1;
}

static int hash_grow(pbx_rt_rowset *set, pbx_error *err)
{
	size_t cap = set->hash_cap ? set->hash_cap * 2 : 64;
	size_t *h = calloc(cap, sizeof(*h));

	if (!h)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	free(set->hash);
	set->hash = h;
	set->hash_cap = cap;
	for (size_t i = 0; i < set->n; i++)
		hash_put(set, i);
	return 0;
}

struct rt_row *rt_rowset_lookup(const pbx_rt_rowset *set, const struct rt_table *t,
				const char *id)
{
	size_t mask, i;

	if (!set || !set->hash_cap || !t || !id)
		return NULL;
	mask = set->hash_cap - 1;
	for (i = (size_t)row_hash(t, id) & mask; set->hash[i]; i = (i + 1) & mask) {
		struct rt_row *r = set->rows[set->hash[i] - 1];

		if (r->def == t && strcmp(r->pub.id, id) == 0)
			return r;
	}
	return NULL;
}

int pbx_rt_rowset_new(pbx_rt_rowset **ret, pbx_error *err)
{
	pbx_rt_rowset *set = calloc(1, sizeof(*set));

	if (!set)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	*ret = set;
	return 0;
}

static void row_free(struct rt_row *r)
{
	if (!r)
		return;
	/* values include SIP passwords: wipe them before they go back to the allocator */
	sodium_memzero(r, r->size);
	free(r);
}

void rt_rowset_clear(pbx_rt_rowset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		row_free(set->rows[i]);
	set->n = 0;
	if (set->hash)
		memset(set->hash, 0, set->hash_cap * sizeof(*set->hash));
}

void pbx_rt_rowset_free(pbx_rt_rowset *set)
{
	if (!set)
		return;
	rt_rowset_clear(set);
	free(set->rows);
	free(set->hash);
	free(set);
}

size_t pbx_rt_rowset_count(const pbx_rt_rowset *set)
{
	return set ? set->n : 0;
}

struct rt_row *rt_rowset_get(const pbx_rt_rowset *set, size_t i)
{
	return set && i < set->n ? set->rows[i] : NULL;
}

const struct pbx_rt_row *pbx_rt_rowset_row(const pbx_rt_rowset *set, size_t i)
{
	struct rt_row *r = rt_rowset_get(set, i);

	return r ? &r->pub : NULL;
}

const struct pbx_rt_row *pbx_rt_rowset_find(const pbx_rt_rowset *set, const char *table,
					    const char *id)
{
	struct rt_row *r = rt_rowset_lookup(set, rt_table_find(table), id);

	return r ? &r->pub : NULL;
}

const char *pbx_rt_row_value(const struct pbx_rt_row *row, const char *column)
{
	for (size_t i = 0; row && column && i < row->n_values; i++)
		if (strcmp(row->columns[i], column) == 0)
			return row->values[i];
	return NULL;
}

int rt_rowset_add_raw(pbx_rt_rowset *set, const struct rt_table *t, const char *id,
		      const char *owner, const char *const *values, bool missing,
		      pbx_error *err)
{
	struct rt_row *r = NULL;
	int rc;

	if (rt_rowset_lookup(set, t, id))
		return pbx_errorf(err, PBX_ECONFLICT, NULL, "id",
				  "%s row %s appears twice", t->name, id);
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct rt_row **rows = realloc(set->rows, cap * sizeof(*rows));

		if (!rows)
			goto oom;
		set->rows = rows;
		set->cap = cap;
	}
	if ((set->n + 1) * 2 > set->hash_cap) {
		rc = hash_grow(set, err);
		if (rc < 0)
			return rc;
	}
	{
		/* One allocation per row (30 000 rows of 10 000 users were 600 000 mallocs). */
		size_t size = sizeof(*r) + t->n_cols * sizeof(char *) + strlen(id) + strlen(owner) + 2;
		char *p;

		for (size_t i = 0; values && i < t->n_cols; i++)
			size += values[i] ? strlen(values[i]) + 1 : 0;
		if (!(r = calloc(1, size)))
			goto oom;
		r->size = size;
		r->pub.values = (char **)(r + 1);
		p = (char *)(r->pub.values + t->n_cols);
		r->pub.id = strcpy(p, id);
		p += strlen(id) + 1;
		r->pub.owner = strcpy(p, owner);
		p += strlen(owner) + 1;
		for (size_t i = 0; values && i < t->n_cols; i++) {
			if (!values[i])
				continue;
			r->pub.values[i] = strcpy(p, values[i]);
			p += strlen(values[i]) + 1;
		}
	}
	r->def = t;
	r->missing = missing;
	r->pub.table = t->name;
	r->pub.columns = t->col_names;
	r->pub.n_values = t->n_cols;
	set->rows[set->n] = r;
	hash_put(set, set->n);
	set->n++;
	return 0;
oom:
	row_free(r);
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
}

int pbx_rt_rowset_add(pbx_rt_rowset *set, const char *table, const char *id,
		      const char *owner, const char *const *columns,
		      const char *const *values, size_t n, pbx_error *err)
{
	const struct rt_table *t = rt_table_find(table);
	const char *vals[64] = { NULL };
	char object[PBX_ERR_OBJECT];
	long idlen;

	if (!t)
		return pbx_errorf(err, PBX_EINVALID, table, NULL,
				  "%s is not a realtime table pbxctl manages",
				  table ? table : "(null)");
	if (t->n_cols > sizeof(vals) / sizeof(vals[0]))
		PBX_BUG("too many managed columns");
	idlen = id ? rt_utf8_len(id) : -1;
	if (idlen < 1 || idlen > 255 || rt_has_control(id))
		return pbx_errorf(err, PBX_EINVALID, t->name, "id",
				  "%s row id must be 1 to 255 printable characters", t->name);
	snprintf(object, sizeof(object), "%s row %s", t->name, id);
	if (!rt_valid_owner(owner))
		return pbx_errorf(err, PBX_EINVALID, object, "owner",
				  "owner must be a tenant slug or %s", PBX_RT_OWNER_GLOBAL);
	for (size_t i = 0; i < n; i++) {
		int c = rt_column_index(t, columns[i]);
		const char *why;
		long len;

		if (c < 0)
			return pbx_errorf(err, PBX_EINVALID, object, columns[i],
					  "%s is not a column pbxctl writes in %s",
					  columns[i] ? columns[i] : "(null)", t->name);
		if (vals[c])
			return pbx_errorf(err, PBX_EINVALID, object, columns[i],
					  "column %s is given twice", columns[i]);
		len = values[i] ? rt_utf8_len(values[i]) : 0;
		if (t->cols[c].kind == RT_STR && len > (long)t->cols[c].max)
			return pbx_errorf(err, PBX_EINVALID, object, columns[i],
					  "%s is %ld characters long; %s.%s holds at most %u",
					  columns[i], len, t->name, columns[i], t->cols[c].max);
		why = rt_check_value(&t->cols[c], values[i]);
		if (why)
			return pbx_errorf(err, PBX_EINVALID, object, columns[i], "%s %s",
					  columns[i], why);
		vals[c] = values[i];
	}
	return rt_rowset_add_raw(set, t, id, owner, vals, false, err);
}

int rt_rowset_clone(const pbx_rt_rowset *src, pbx_rt_rowset **ret, pbx_error *err)
{
	pbx_rt_rowset *set = NULL;
	int r;

	r = pbx_rt_rowset_new(&set, err);
	if (r < 0)
		return r;
	for (size_t i = 0; src && i < src->n; i++) {
		const struct rt_row *row = src->rows[i];

		r = rt_rowset_add_raw(set, row->def, row->pub.id, row->pub.owner,
				      (const char *const *)row->pub.values, row->missing, err);
		if (r < 0) {
			pbx_rt_rowset_free(set);
			return r;
		}
	}
	*ret = set;
	return 0;
}
