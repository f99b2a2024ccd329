/* SPDX-License-Identifier: MIT */
/*
 * Planning against MariaDB: read the rows pbxctl owns (through pbxctl_realtime_rows) in
 * one consistent snapshot, diff them with the desired rows, and probe every id about to
 * be inserted, so a collision with a row pbxctl did not create, or with another owner's
 * row, is reported as a conflict before anything is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "realtime-internal.h"

#define ID_BUF (255 * 4 + 1)
#define OWNER_BUF (64 * 4 + 1)
#define SMALL_BUF 64

struct result_col {
	char *buf;
	unsigned long size, len;
	my_bool null_flag, error;
};

static int read_table(pbx_realtime *rt, const struct rt_table *t, const char *scope,
		      pbx_rt_rowset *out, pbx_error *err)
{
	size_t n = t->n_cols + 3;
	MYSQL_STMT *st = NULL;
	MYSQL_BIND *bind = calloc(n, sizeof(*bind));
	struct result_col *col = calloc(n, sizeof(*col));
	const char **values = calloc(t->n_cols, sizeof(*values));
	int r = 0;

	if (!bind || !col || !values) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (i == 0)
			col[i].size = ID_BUF;
		else if (i == 1)
			col[i].size = OWNER_BUF;
		else if (i >= 3 && t->cols[i - 3].kind == RT_STR)
			col[i].size = t->cols[i - 3].max * 4 + 1;
		else
			col[i].size = SMALL_BUF;
		col[i].buf = malloc(col[i].size);
		if (!col[i].buf) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto cleanup;
		}
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = col[i].buf;
		bind[i].buffer_length = col[i].size - 1;
		bind[i].length = &col[i].len;
		bind[i].is_null = &col[i].null_flag;
		bind[i].error = &col[i].error;
	}
	r = rt_prepare(rt, scope ? t->sql_select_scope : t->sql_select_all, &st, err);
	if (r < 0)
		goto cleanup;
	r = rt_execute(rt, st, &scope, scope ? 1 : 0, err);
	if (r < 0)
		goto cleanup;
	if (mysql_stmt_bind_result(st, bind) != 0) {
		r = rt_fail_stmt(rt, st, err, t->name, "could not read the rows of %s", t->name);
		goto cleanup;
	}
	for (;;) {
		int f = mysql_stmt_fetch(st);

		if (f == MYSQL_NO_DATA)
			break;
		if (f == MYSQL_DATA_TRUNCATED) {
			r = pbx_errorf(err, PBX_ERROR, t->name, NULL,
				       "a value in %s is longer than its column allows", t->name);
			goto cleanup;
		}
		if (f != 0) {
			r = rt_fail_stmt(rt, st, err, t->name, "could not read the rows of %s",
					 t->name);
			goto cleanup;
		}
		for (size_t i = 0; i < n; i++)
			col[i].buf[col[i].null_flag ? 0 : col[i].len] = '\0';
		for (size_t i = 0; i < t->n_cols; i++)
			values[i] = col[i + 3].null_flag ? NULL : col[i + 3].buf;
		r = rt_rowset_add_raw(out, t, col[0].buf, col[1].buf, values,
				      strcmp(col[2].buf, "1") == 0, err);
		if (r < 0)
			goto cleanup;
	}
cleanup:
	if (st)
		mysql_stmt_close(st);
	for (size_t i = 0; col && i < n; i++)
		free(col[i].buf);
	free(col);
	free(bind);
	free(values);
	return r;
}

int rt_read_owned(pbx_realtime *rt, const char *scope, pbx_rt_rowset *out, pbx_error *err)
{
	for (size_t i = 0; i < rt_n_tables; i++) {
		int r = read_table(rt, &rt_tables[i], scope, out, err);

		if (r < 0)
			return r;
	}
	return 0;
}

int rt_plan_in_txn(pbx_realtime *rt, const char *scope, const pbx_rt_rowset *desired,
		   struct pbx_rt_plan **ret, pbx_error *err)
{
	pbx_rt_rowset *owned = NULL;
	struct pbx_rt_plan *plan = NULL;
	int r;

	if (scope && !rt_valid_owner(scope))
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant must be a slug of a-z 0-9 - (at most 24)");
	r = pbx_rt_rowset_new(&owned, err);
	if (r < 0)
		return r;
	r = rt_read_owned(rt, scope, owned, err);
	if (r < 0)
		goto cleanup;
	r = rt_diff(owned, desired, scope, &plan, err);
	if (r < 0)
		goto cleanup;
	r = rt_probe_inserts(rt, plan, err);
	if (r < 0)
		goto cleanup;
	*ret = plan;
	plan = NULL;
cleanup:
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	return r;
}

int pbx_realtime_plan_rows(pbx_realtime *rt, const char *tenant, const pbx_rt_rowset *desired,
			   struct pbx_rt_plan **ret, pbx_error *err)
{
	int r;

	r = rt_begin(rt, true, err);
	if (r < 0)
		return r;
	r = rt_plan_in_txn(rt, tenant, desired, ret, err);
	rt_rollback(rt);
	return r;
}

int pbx_realtime_plan(pbx_realtime *rt, const char *tenant, const struct pbx_rt_device *devs,
		      size_t n, struct pbx_rt_plan **ret, pbx_error *err)
{
	pbx_rt_rowset *set = NULL;
	int r;

	r = pbx_rt_rowset_new(&set, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = pbx_rt_rowset_add_device(set, &devs[i], err);
		if (r < 0)
			goto cleanup;
	}
	r = pbx_realtime_plan_rows(rt, tenant, set, ret, err);
cleanup:
	pbx_rt_rowset_free(set);
	return r;
}

int pbx_realtime_keep_owner(pbx_realtime *rt, const char *owner, pbx_rt_rowset *desired,
			    pbx_error *err)
{
	pbx_rt_rowset *owned = NULL;
	int r;

	if (!rt_valid_owner(owner))
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant must be a slug of a-z 0-9 - (at most 24)");
	if ((r = pbx_rt_rowset_new(&owned, err)) < 0)
		return r;
	r = rt_read_owned(rt, owner, owned, err);
	for (size_t i = 0; r == 0 && i < owned->n; i++) {
		const struct rt_row *row = owned->rows[i];

		if (!row->missing && !rt_rowset_lookup(desired, row->def, row->pub.id))
			r = rt_rowset_add_raw(desired, row->def, row->pub.id, row->pub.owner,
					      (const char *const *)row->pub.values, false, err);
	}
	pbx_rt_rowset_free(owned);
	return r;
}
