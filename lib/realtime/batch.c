/* SPDX-License-Identifier: MIT */
/*
 * Many rows per statement: the inserts and deletes of a plan, their pbxctl_realtime_rows
 * bookkeeping, and the probes of the ids about to be inserted, as multi-row statements of
 * up to RT_BATCH_ROWS rows (and about RT_BATCH_BYTES of SQL) instead of one round trip per
 * row. Values go into the SQL text escaped by MariaDB's own mysql_real_escape_string for
 * the connection's character set, each between quotes; NULL stays NULL. Each statement
 * runs inside the caller's transaction, so a failure rolls back everything as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>

#include "pbx/error.h"
#include "pbx/realtime.h"
#include "pbx/schema.h"

#include "bulk-store.h"
#include "realtime-internal.h"

#define RT_BATCH_ROWS 500
#define RT_BATCH_BYTES (512 * 1024)

/* The SQL is built in the growable buffer of the bulk import (bulk-store.h). */
#define sqlbuf pbx_store_bulk_buf

static void sb_add(struct sqlbuf *b, const char *text)
{
	pbx_store_bulk_put(b, text, strlen(text));
}

/* A value as an SQL literal: 'escaped' or NULL. */
static void sb_value(struct sqlbuf *b, pbx_realtime *rt, const char *v)
{
	char small[1024], *esc = small;
	size_t n;

	if (!v) {
		sb_add(b, "NULL");
		return;
	}
	n = strlen(v);
	if (2 * n + 3 > sizeof(small) && !(esc = malloc(2 * n + 3))) {
		b->oom = true;
		return;
	}
	esc[0] = '\'';
	n = mysql_real_escape_string(rt->db, esc + 1, v, (unsigned long)n);
	esc[n + 1] = '\'';
	pbx_store_bulk_put(b, esc, n + 2);
	if (esc != small)
		free(esc);
}

static void sb_reset(struct sqlbuf *b)
{
	b->n = 0;
}

/* How many changes from @from on are of the same op and table (at most one batch). */
static size_t run_of(const struct pbx_rt_change *c, size_t from, size_t n)
{
	size_t k = from + 1;

	while (k < n && k - from < RT_BATCH_ROWS && c[k].op == c[from].op &&
	       c[k].table == c[from].table)
		k++;
	return k - from;
}

static int run_sql(pbx_realtime *rt, struct sqlbuf *b, pbx_error *err)
{
	if (b->oom)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (mysql_real_query(rt->db, b->p, (unsigned long)b->n) != 0)
		return -1;
	return 0;
}

/*
 * One statement of rows from a run of @n inserts (as many as fit), then their ownership;
 * *@used says how many. 1 when an id was taken: MariaDB undid only that statement, and the
 * caller writes those rows one by one to name the row.
 */
static int insert_run(pbx_realtime *rt, struct sqlbuf *b, const struct pbx_rt_change *c,
		      size_t n, size_t *used, pbx_error *err)
{
	const struct rt_table *t = rt_table_find(c[0].table);
	char object[PBX_ERR_OBJECT];
	size_t k;

	sb_reset(b);
	sb_add(b, "INSERT INTO `");
	sb_add(b, t->name);
	sb_add(b, "` (`id`");
	for (size_t i = 0; i < t->n_cols; i++) {
		sb_add(b, ", `");
		sb_add(b, t->cols[i].name);
		sb_add(b, "`");
	}
	sb_add(b, ") VALUES ");
	for (k = 0; k < n && b->n < RT_BATCH_BYTES; k++) {
		sb_add(b, k ? ", (" : "(");
		sb_value(b, rt, c[k].id);
		for (size_t i = 0; i < t->n_cols; i++) {
			sb_add(b, ", ");
			sb_value(b, rt, c[k].row->values[i]);
		}
		sb_add(b, ")");
	}
	*used = k;
	snprintf(object, sizeof(object), "%s row %s", t->name, c[0].id);
	if (run_sql(rt, b, err) < 0) {
		if (!b->oom && mysql_errno(rt->db) == 1062)
			return 1;
		return b->oom ? err->code :
		       rt_fail_db(rt, err, object, "could not insert %s rows %s to %s", t->name,
				  c[0].id, c[k - 1].id);
	}
	sb_reset(b);
	sb_add(b, "INSERT INTO pbxctl_realtime_rows (tbl, id, owner) VALUES ");
	for (size_t i = 0; i < k; i++) {
		sb_add(b, i ? ", (" : "(");
		sb_value(b, rt, t->name);
		sb_add(b, ", ");
		sb_value(b, rt, c[i].id);
		sb_add(b, ", ");
		sb_value(b, rt, c[i].owner);
		sb_add(b, ")");
	}
	sb_add(b, " ON DUPLICATE KEY UPDATE owner = VALUES(owner)");
	if (run_sql(rt, b, err) < 0)
		return b->oom ? err->code :
		       rt_fail_db(rt, err, object, "could not record the ownership of %s rows %s "
				  "to %s", t->name, c[0].id, c[k - 1].id);
	return 0;
}

/* `id` IN ('a', 'b', ...) of @n changes from @c. */
static void id_list(struct sqlbuf *b, pbx_realtime *rt, const struct pbx_rt_change *c, size_t n)
{
	sb_add(b, "(");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_add(b, ", ");
		sb_value(b, rt, c[i].id);
	}
	sb_add(b, ")");
}

/* Run the SELECT in @b about the rows of @n changes from @c; its result, or NULL. */
static MYSQL_RES *select_rows(pbx_realtime *rt, struct sqlbuf *b, const struct pbx_rt_change *c,
			      size_t n, pbx_error *err)
{
	MYSQL_RES *res = NULL;

	if (run_sql(rt, b, err) < 0 || !(res = mysql_store_result(rt->db))) {
		if (!b->oom)
			rt_fail_db(rt, err, c->table, "could not look up %s rows %s to %s",
				   c->table, c[0].id, c[n - 1].id);
		return NULL;
	}
	return res;
}

/* Lock the rows a run of deletes removes; PBX_ECONFLICT naming the first that vanished
 * since the plan was made (an owned row already gone then is no surprise). */
static int vanished(pbx_realtime *rt, struct sqlbuf *b, const struct pbx_rt_plan *plan,
		    const struct rt_table *t, const struct pbx_rt_change *c, size_t n,
		    pbx_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int r = 0;

	sb_reset(b);
	sb_add(b, "SELECT `id` FROM `");
	sb_add(b, t->name);
	sb_add(b, "` WHERE `id` IN ");
	id_list(b, rt, c, n);
	sb_add(b, " FOR UPDATE");
	if (!(res = select_rows(rt, b, c, n, err)))
		return err->code;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct rt_row *old = rt_rowset_lookup(plan->removed, t, c[i].id);
		bool found = false;

		if (old && old->missing)
			continue;
		mysql_data_seek(res, 0);
		while (!found && (row = mysql_fetch_row(res)))
			found = row[0] && !strcasecmp(row[0], c[i].id);
		if (!found) {
			char object[PBX_ERR_OBJECT];

			snprintf(object, sizeof(object), "%s row %s", t->name, c[i].id);
			r = pbx_errorf(err, PBX_ECONFLICT, object, NULL,
				       "%s row %s vanished since the plan was made", t->name, c[i].id);
		}
	}
	mysql_free_result(res);
	return r;
}

/* A run of deletes: the rows (each must still be there, unless already gone), then the
 * ownership records. */
static int delete_run(pbx_realtime *rt, struct sqlbuf *b, const struct pbx_rt_plan *plan,
		      const struct pbx_rt_change *c, size_t n, pbx_error *err)
{
	const struct rt_table *t = rt_table_find(c[0].table);
	char object[PBX_ERR_OBJECT];
	size_t present = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rt_row *old = rt_rowset_lookup(plan->removed, t, c[i].id);

		present += !(old && old->missing);
	}
	snprintf(object, sizeof(object), "%s row %s", t->name, c[0].id);
	if (vanished(rt, b, plan, t, c, n, err) < 0)
		return err->code;
	sb_reset(b);
	sb_add(b, "DELETE FROM `");
	sb_add(b, t->name);
	sb_add(b, "` WHERE `id` IN ");
	id_list(b, rt, c, n);
	if (run_sql(rt, b, err) < 0)
		return b->oom ? err->code :
		       rt_fail_db(rt, err, object, "could not delete %s rows %s to %s", t->name,
				  c[0].id, c[n - 1].id);
	if (mysql_affected_rows(rt->db) != present)
		return pbx_errorf(err, PBX_ECONFLICT, object, NULL,
				  "%s rows vanished since the plan was made (%zu of %s to %s left)",
				  t->name, (size_t)mysql_affected_rows(rt->db), c[0].id,
				  c[n - 1].id);
	sb_reset(b);
	sb_add(b, "DELETE FROM pbxctl_realtime_rows WHERE tbl = ");
	sb_value(b, rt, t->name);
	sb_add(b, " AND id IN ");
	id_list(b, rt, c, n);
	if (run_sql(rt, b, err) < 0)
		return b->oom ? err->code :
		       rt_fail_db(rt, err, object, "could not record the ownership of %s rows %s "
				  "to %s", t->name, c[0].id, c[n - 1].id);
	return 0;
}

int rt_write_batch(pbx_realtime *rt, const struct pbx_rt_plan *plan, size_t from, size_t *used,
		   pbx_error *err)
{
	const struct pbx_rt_change *c = &plan->changes[from];
	size_t n = run_of(plan->changes, from, plan->n_changes);
	struct sqlbuf b = { 0 };
	int r;

	*used = n;
	if (!rt_table_find(c->table))
		PBX_BUG("malformed realtime plan");
	r = c->op == PBX_RT_INSERT ? insert_run(rt, &b, c, n, used, err) :
	    delete_run(rt, &b, plan, c, n, err);
	free(b.p);
	return r;
}

/* The conflict message for insert @c whose id is held by @owner ("" or NULL: foreign). */
static int conflict(const struct pbx_rt_change *c, const char *owner, pbx_error *err)
{
	char object[PBX_ERR_OBJECT];
	int r;

	snprintf(object, sizeof(object), "%s row %s", c->table, c->id);
	if (!owner || !*owner) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "id",
			       "%s row %s already exists and was not created by pbxctl",
			       c->table, c->id);
		pbx_error_set_hint(err, "pbxctl never changes rows it did not create: "
				   "remove that row or choose another id.");
	} else if (strcmp(owner, PBX_RT_OWNER_GLOBAL) == 0) {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "id",
			       "%s row %s already exists and belongs to no tenant", c->table, c->id);
	} else {
		r = pbx_errorf(err, PBX_ECONFLICT, object, "id",
			       "%s row %s already exists and belongs to tenant %s",
			       c->table, c->id, owner);
	}
	return r;
}

/* Probe a run of @n inserts from @c: the first whose id a row already holds is refused. */
static int probe_run(pbx_realtime *rt, struct sqlbuf *b, const struct pbx_rt_change *c,
		     size_t n, pbx_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int r = 0;

	sb_reset(b);
	sb_add(b, "SELECT t.id, o.owner FROM `");
	sb_add(b, c->table);
	sb_add(b, "` t LEFT JOIN pbxctl_realtime_rows o ON o.tbl = ");
	sb_value(b, rt, c->table);
	sb_add(b, " AND o.id = t.id WHERE t.id IN ");
	id_list(b, rt, c, n);
	if (!(res = select_rows(rt, b, c, n, err)))
		return err->code;
	if (mysql_num_rows(res)) {
		/* In plan order; ids compare as MariaDB compares them (case-insensitively). */
		for (size_t i = 0; i < n && r == 0; i++) {
			mysql_data_seek(res, 0);
			while (r == 0 && (row = mysql_fetch_row(res)))
				if (row[0] && !strcasecmp(row[0], c[i].id))
					r = conflict(&c[i], row[1], err);
		}
		if (r == 0) {
			mysql_data_seek(res, 0);
			row = mysql_fetch_row(res);
			r = conflict(&c[0], row ? row[1] : NULL, err);
		}
	}
	mysql_free_result(res);
	return r;
}

int rt_probe_inserts(pbx_realtime *rt, const struct pbx_rt_plan *plan, pbx_error *err)
{
	struct sqlbuf b = { 0 };
	int r = 0;

	for (size_t i = 0; i < plan->n_changes && r == 0;) {
		size_t n = run_of(plan->changes, i, plan->n_changes);

		if (plan->changes[i].op == PBX_RT_INSERT)
			r = probe_run(rt, &b, &plan->changes[i], n, err);
		i += n;
	}
	free(b.p);
	return r;
}
