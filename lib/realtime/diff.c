/* SPDX-License-Identifier: MIT */
/*
 * The pure half of planning: rows pbxctl owns (as read from MariaDB) against the desired
 * rows, column by column, giving the inserts, updates and deletes per table; plus the
 * plan's text summary for `apply --dry-run`, which names columns and never prints values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "realtime-internal.h"

static bool same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static int by_id(const void *a, const void *b)
{
	const struct rt_row *x = *(const struct rt_row *const *)a;
	const struct rt_row *y = *(const struct rt_row *const *)b;

	return strcmp(x->pub.id, y->pub.id);
}

/* The rows of @set in table @t, sorted by id; *ret is malloc'd (may be NULL when empty). */
static int rows_of(const pbx_rt_rowset *set, const struct rt_table *t, struct rt_row ***ret,
		   size_t *ret_n, pbx_error *err)
{
	struct rt_row **v = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!pbx_rt_rowset_count(set))
		return 0;
	v = malloc(set->n * sizeof(*v));
	if (!v)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < set->n; i++)
		if (set->rows[i]->def == t)
			v[n++] = set->rows[i];
	qsort(v, n, sizeof(*v), by_id);
	*ret = v;
	*ret_n = n;
	return 0;
}

void pbx_rt_plan_free(struct pbx_rt_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_changes; i++)
		free(plan->changes[i].changed);
	free(plan->changes);
	free(plan->tables);
	free(plan->scope);
	pbx_rt_rowset_free(plan->desired);
	pbx_rt_rowset_free(plan->removed);
	free(plan);
}

static int push(struct pbx_rt_plan *plan, size_t *cap, const struct pbx_rt_change *c,
		pbx_error *err)
{
	if (plan->n_changes == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct pbx_rt_change *v = realloc(plan->changes, ncap * sizeof(*v));

		if (!v)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		plan->changes = v;
		*cap = ncap;
	}
	plan->changes[plan->n_changes++] = *c;
	return 0;
}

/* The update (or nothing) that turns @have into @want; *ret_changed lists the columns. */
static int compare(const struct rt_row *have, const struct rt_row *want, const char ***ret,
		   size_t *ret_n, pbx_error *err)
{
	const struct rt_table *t = want->def;
	const char **changed;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	changed = calloc(t->n_cols + 2, sizeof(*changed));
	if (!changed)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	/* the same id spelled differently (MariaDB compares ids case-insensitively) */
	if (strcmp(have->pub.id, want->pub.id) != 0)
		changed[n++] = "id";
	for (size_t i = 0; i < t->n_cols; i++)
		if (!same(have->pub.values[i], want->pub.values[i]))
			changed[n++] = t->cols[i].name;
	if (strcmp(have->pub.owner, want->pub.owner) != 0)
		changed[n++] = "owner";
	if (!n) {
		free(changed);
		return 0;
	}
	*ret = changed;
	*ret_n = n;
	return 0;
}

static int diff_table(struct pbx_rt_plan *plan, size_t *cap, const struct rt_table *t,
		      const pbx_rt_rowset *owned, struct pbx_rt_table_count *count,
		      pbx_error *err)
{
	struct rt_row **have = NULL, **want = NULL;
	size_t n_have = 0, n_want = 0;
	int r;

	count->table = t->name;
	r = rows_of(owned, t, &have, &n_have, err);
	if (r < 0)
		goto cleanup;
	r = rows_of(plan->desired, t, &want, &n_want, err);
	if (r < 0)
		goto cleanup;

	for (size_t i = 0; i < n_have; i++) {
		struct pbx_rt_change c = { .op = PBX_RT_DELETE, .table = t->name };
		const struct rt_row *kept;

		if (rt_rowset_lookup(plan->desired, t, have[i]->pub.id))
			continue;
		/* the plan outlives @owned: keep its own copy of the row */
		r = rt_rowset_add_raw(plan->removed, t, have[i]->pub.id, have[i]->pub.owner,
				      (const char *const *)have[i]->pub.values, have[i]->missing,
				      err);
		if (r < 0)
			goto cleanup;
		kept = rt_rowset_lookup(plan->removed, t, have[i]->pub.id);
		c.id = kept->pub.id;
		c.owner = kept->pub.owner;
		r = push(plan, cap, &c, err);
		if (r < 0)
			goto cleanup;
		count->n_delete++;
	}
	for (size_t i = 0; i < n_want; i++) {
		const struct rt_row *h = rt_rowset_lookup(owned, t, want[i]->pub.id);
		struct pbx_rt_change c = {
			.op = PBX_RT_UPDATE, .table = t->name, .id = want[i]->pub.id,
			.owner = want[i]->pub.owner, .row = &want[i]->pub,
		};

		if (!h || h->missing)
			continue;
		r = compare(h, want[i], &c.changed, &c.n_changed, err);
		if (r < 0)
			goto cleanup;
		if (!c.n_changed)
			continue;
		r = push(plan, cap, &c, err);
		if (r < 0) {
			free(c.changed);
			goto cleanup;
		}
		count->n_update++;
	}
	for (size_t i = 0; i < n_want; i++) {
		const struct rt_row *h = rt_rowset_lookup(owned, t, want[i]->pub.id);
		struct pbx_rt_change c = {
			.op = PBX_RT_INSERT, .table = t->name, .id = want[i]->pub.id,
			.owner = want[i]->pub.owner, .row = &want[i]->pub,
		};

		if (h && !h->missing)
			continue;
		r = push(plan, cap, &c, err);
		if (r < 0)
			goto cleanup;
		count->n_insert++;
	}
cleanup:
	free(have);
	free(want);
	return r;
}

int rt_diff(const pbx_rt_rowset *owned, const pbx_rt_rowset *desired, const char *scope,
	    struct pbx_rt_plan **ret, pbx_error *err)
{
	struct pbx_rt_plan *plan;
	size_t cap = 0;
	int r;

	if (scope && !rt_valid_owner(scope))
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant must be a slug of a-z 0-9 - (at most 24)");
	for (size_t i = 0; i < pbx_rt_rowset_count(desired); i++) {
		const struct pbx_rt_row *row = pbx_rt_rowset_row(desired, i);

		char object[PBX_ERR_OBJECT];

		if (!scope || strcmp(row->owner, scope) == 0)
			continue;
		snprintf(object, sizeof(object), "%s row %s", row->table, row->id);
		return pbx_errorf(err, PBX_EINVALID, object, "owner",
				  "%s row %s belongs to %s, outside the scope %s",
				  row->table, row->id, row->owner, scope);
	}
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	plan->tables = calloc(rt_n_tables, sizeof(*plan->tables));
	plan->scope = scope ? strdup(scope) : NULL;
	if (!plan->tables || (scope && !plan->scope)) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto fail;
	}
	plan->n_tables = rt_n_tables;
	r = rt_rowset_clone(desired, &plan->desired, err);
	if (r < 0)
		goto fail;
	r = pbx_rt_rowset_new(&plan->removed, err);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < rt_n_tables; i++) {
		r = diff_table(plan, &cap, &rt_tables[i], owned, &plan->tables[i], err);
		if (r < 0)
			goto fail;
	}
	*ret = plan;
	return 0;
fail:
	pbx_rt_plan_free(plan);
	return r;
}

static const char op_mark[] = { [PBX_RT_DELETE] = '-', [PBX_RT_UPDATE] = '~',
				 [PBX_RT_INSERT] = '+' };

/* An id read back from MariaDB could hold anything: never let it break a line. */
static void put_id(FILE *f, const char *id)
{
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

int pbx_rt_plan_summary(const struct pbx_rt_plan *plan, char **ret, pbx_error *err)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t t = 0; t < plan->n_tables; t++) {
		const struct pbx_rt_table_count *c = &plan->tables[t];

		fprintf(f, "%s: +%zu ~%zu -%zu\n", c->table, c->n_insert, c->n_update,
			c->n_delete);
		for (size_t i = 0; i < plan->n_changes; i++) {
			const struct pbx_rt_change *ch = &plan->changes[i];

			if (strcmp(ch->table, c->table) != 0)
				continue;
			fprintf(f, "  %c ", op_mark[ch->op]);
			put_id(f, ch->id);
			for (size_t k = 0; k < ch->n_changed; k++)
				fprintf(f, "%s%s", k ? ", " : ": ", ch->changed[k]);
			fputs(ch->n_changed ? " changed\n" : "\n", f);
		}
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	*ret = buf;
	return 0;
}
