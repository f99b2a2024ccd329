/* SPDX-License-Identifier: MIT */
/*
 * Writing a plan: every change and its pbxctl_realtime_rows bookkeeping inside one
 * MariaDB transaction, committed only when all of it worked and rolled back otherwise.
 * Restore is the same path with a snapshot as the desired rows, planned and written in
 * one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "realtime-internal.h"

enum { ST_INSERT, ST_UPDATE, ST_DELETE, ST_COUNT };

struct stmts {
	MYSQL_STMT *table[8][ST_COUNT];
	MYSQL_STMT *own_upsert, *own_delete;
};

static void stmts_close(struct stmts *s)
{
	for (size_t t = 0; t < 8; t++)
		for (size_t k = 0; k < ST_COUNT; k++)
			if (s->table[t][k])
				mysql_stmt_close(s->table[t][k]);
	if (s->own_upsert)
		mysql_stmt_close(s->own_upsert);
	if (s->own_delete)
		mysql_stmt_close(s->own_delete);
}

/* The prepared statement of kind @k for table @t, prepared on first use. */
static int stmt_get(pbx_realtime *rt, struct stmts *s, const struct rt_table *t, int k,
		    MYSQL_STMT **ret, pbx_error *err)
{
	size_t ti = (size_t)(t - rt_tables);
	const char *sql[ST_COUNT] = { t->sql_insert, t->sql_update, t->sql_delete };
	int r;

	if (ti >= 8)
		PBX_BUG("too many realtime tables");
	if (!s->table[ti][k]) {
		r = rt_prepare(rt, sql[k], &s->table[ti][k], err);
		if (r < 0)
			return r;
	}
	*ret = s->table[ti][k];
	return 0;
}

static int own_stmts(pbx_realtime *rt, struct stmts *s, pbx_error *err)
{
	int r = 0;

	if (!s->own_upsert)
		r = rt_prepare(rt, rt_sql_own_upsert, &s->own_upsert, err);
	if (r >= 0 && !s->own_delete)
		r = rt_prepare(rt, rt_sql_own_delete, &s->own_delete, err);
	return r;
}

static const char *const op_verb[] = {
	[PBX_RT_DELETE] = "delete", [PBX_RT_UPDATE] = "update", [PBX_RT_INSERT] = "insert",
};

static int apply_one(pbx_realtime *rt, struct stmts *s, const struct pbx_rt_plan *plan,
		     const struct pbx_rt_change *c, pbx_error *err)
{
	const struct rt_table *t = rt_table_find(c->table);
	const struct rt_row *old = c->op == PBX_RT_DELETE ?
		rt_rowset_lookup(plan->removed, t, c->id) : NULL;
	/* a delete of an owned row whose ps_* row was already gone matches nothing */
	bool gone = old && old->missing;
	const char *params[64];
	char object[PBX_ERR_OBJECT];
	MYSQL_STMT *st = NULL;
	size_t n = 0;
	int r;

	if (!t || (c->op != PBX_RT_DELETE && !c->row) || t->n_cols + 2 > 64)
		PBX_BUG("malformed realtime plan");
	snprintf(object, sizeof(object), "%s row %s", c->table, c->id);
	r = stmt_get(rt, s, t, c->op == PBX_RT_INSERT ? ST_INSERT :
		     c->op == PBX_RT_UPDATE ? ST_UPDATE : ST_DELETE, &st, err);
	if (r < 0)
		return r;
	params[n++] = c->id;
	if (c->op != PBX_RT_DELETE)
		for (size_t i = 0; i < t->n_cols; i++)
			params[n++] = c->row->values[i];
	if (c->op == PBX_RT_UPDATE)
		params[n++] = c->id;
	if (rt_execute(rt, st, params, n, err) < 0)
		return rt_fail_stmt(rt, st, err, object, "could not %s %s row %s",
				    op_verb[c->op], c->table, c->id);
	/* CLIENT_FOUND_ROWS: affected means matched, so 0 is a row that is gone */
	if (mysql_stmt_affected_rows(st) != 1 && c->op != PBX_RT_INSERT && !gone)
		return pbx_errorf(err, PBX_ECONFLICT, object, NULL,
				  "%s row %s vanished since the plan was made", c->table, c->id);

	if (c->op == PBX_RT_DELETE) {
		const char *own[] = { c->table, c->id };

		st = s->own_delete;
		r = rt_execute(rt, st, own, 2, err);
	} else {
		const char *own[] = { c->table, c->id, c->owner };

		st = s->own_upsert;
		r = rt_execute(rt, st, own, 3, err);
	}
	if (r < 0)
		return rt_fail_stmt(rt, st, err, object,
				    "could not record the ownership of %s row %s", c->table, c->id);
	return 0;
}

int rt_apply_in_txn(pbx_realtime *rt, const struct pbx_rt_plan *plan, pbx_error *err)
{
	struct stmts s = { .own_upsert = NULL };
	int r;

	r = own_stmts(rt, &s, err);
	for (size_t i = 0, n = 1; r >= 0 && i < plan->n_changes; i += n) {
		/* inserts and deletes many rows per statement (batch.c); updates, and a batch
		 * that met a taken id, one by one */
		n = 1;
		if (plan->changes[i].op != PBX_RT_UPDATE) {
			if ((r = rt_write_batch(rt, plan, i, &n, err)) <= 0)
				continue;
			r = 0;
		}
		for (size_t k = i; r >= 0 && k < i + n; k++)
			r = apply_one(rt, &s, plan, &plan->changes[k], err);
	}
	stmts_close(&s);
	return r < 0 ? r : 0;
}

static void rolled_back(pbx_error *err)
{
	if (err && !err->hint[0])
		pbx_error_set_hint(err, "The realtime transaction was rolled back; nothing was "
				   "changed.");
}

int pbx_realtime_sync(pbx_realtime *rt, const struct pbx_rt_plan *plan, pbx_error *err)
{
	int r;

	if (plan->n_changes == 0)
		return 0;
	r = rt_begin(rt, false, err);
	if (r < 0)
		return r;
	r = rt_apply_in_txn(rt, plan, err);
	if (r >= 0)
		r = rt_commit(rt, err);
	if (r < 0) {
		rt_rollback(rt);
		rolled_back(err);
	}
	return r;
}

int pbx_realtime_restore(pbx_realtime *rt, const struct pbx_rt_snapshot *snap,
			 const char *tenant, pbx_error *err)
{
	pbx_rt_rowset *desired = NULL;
	struct pbx_rt_plan *plan = NULL;
	const char *scope = tenant ? tenant : snap->scope;
	int r;

	/* a narrower scope than the snapshot's is fine, a wider or another one is not */
	if (snap->scope && tenant && strcmp(tenant, snap->scope) != 0)
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "the snapshot holds tenant %s only, not %s", snap->scope, tenant);
	r = pbx_rt_rowset_new(&desired, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < pbx_rt_rowset_count(snap->rows); i++) {
		const struct rt_row *row = rt_rowset_get(snap->rows, i);

		if (scope && strcmp(row->pub.owner, scope) != 0)
			continue;
		r = rt_rowset_add_raw(desired, row->def, row->pub.id, row->pub.owner,
				      (const char *const *)row->pub.values, false, err);
		if (r < 0)
			goto cleanup;
	}
	r = rt_begin(rt, false, err);
	if (r < 0)
		goto cleanup;
	r = rt_plan_in_txn(rt, scope, desired, &plan, err);
	if (r >= 0)
		r = rt_apply_in_txn(rt, plan, err);
	if (r >= 0)
		r = rt_commit(rt, err);
	if (r < 0) {
		rt_rollback(rt);
		rolled_back(err);
	}
cleanup:
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(desired);
	return r;
}
