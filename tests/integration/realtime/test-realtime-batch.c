/* SPDX-License-Identifier: MIT */
/*
 * Plans larger than one multi-row statement (lib/realtime/batch.c writes up to 500 rows per
 * statement): every row arrives with its ownership record and is deleted again; a row
 * deleted by hand between plan and sync, or an id taken meanwhile, is named exactly and
 * nothing is written.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "rt-dev.h"
#include "rt-test.h"

#define MANY 700   /* 2100 rows: several statements per table */

/* The extensions: tdev_init keeps a pointer to its @ext as the caller ID number. */
static struct ext {
	char s[8];
} exts[MANY];

static struct tdev *many(const char *slug)
{
	struct tdev *t = calloc(MANY, sizeof(*t));

	cr_assert_not_null(t);
	for (size_t i = 0; i < MANY; i++) {
		char ext[8];

		snprintf(ext, sizeof(ext), "%zu", 2000 + i % 8000);
		tdev_init(&t[i], slug, ext);
		memcpy(exts[i].s, ext, sizeof(ext));
		t[i].d.callerid_num = exts[i].s;
	}
	return t;
}

static struct pbx_rt_plan *plan_of(pbx_realtime *rt, const char *slug, struct tdev *t, size_t n)
{
	struct pbx_rt_device *d = calloc(n + 1, sizeof(*d));
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert_not_null(d);
	for (size_t i = 0; i < n; i++)
		d[i] = t[i].d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, n, &plan, &err), 0), "%s", err.message);
	free(d);
	return plan;
}

static void sync_ok(pbx_realtime *rt, struct pbx_rt_plan *plan)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), 0), "%s (%s)", err.message,
		  err.detail);
	pbx_rt_plan_free(plan);
}

static char *count(MYSQL *m, const char *sql, const char *slug)
{
	char like[48];
	const char *p[] = { like };

	snprintf(like, sizeof(like), "%s-%%", slug);
	return rt_test_query(m, sql, p, 1);
}

static void expect_rows(MYSQL *m, const char *slug, const char *want)
{
	char like[48], *got;
	const char *p[] = { like, like, like };

	snprintf(like, sizeof(like), "%s-%%", slug);
	got = rt_test_query(m, "SELECT (SELECT COUNT(*) FROM ps_endpoints WHERE id LIKE ?) + "
			    "(SELECT COUNT(*) FROM ps_auths WHERE id LIKE ?) + (SELECT COUNT(*) "
			    "FROM ps_aors WHERE id LIKE ?)", p, 3);
	cr_assert(eq(str, got, (char *)want));
	free(got);
}

Test(batch, many_rows_arrive_with_their_owner_and_go_again)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct pbx_rt_plan *plan;
	char slug[32], *got;
	struct tdev *t;

	rt_test_slug(slug, sizeof(slug), "batch");
	rt_test_clean(m, slug);
	t = many(slug);
	plan = plan_of(rt, slug, t, MANY);
	cr_assert(eq(sz, plan->n_changes, 3 * MANY));
	sync_ok(rt, plan);
	expect_rows(m, slug, "2100\n");
	got = count(m, "SELECT COUNT(*) FROM pbxctl_realtime_rows WHERE id LIKE ?", slug);
	cr_assert(eq(str, got, "2100\n"));
	free(got);
	{
		const char *p[] = { t[MANY - 1].id };

		got = rt_test_query(m, "SELECT context, callerid, password FROM ps_endpoints e "
				    "JOIN ps_auths a ON a.id = e.id WHERE e.id = ?", p, 1);
		cr_assert_not_null(strstr(got, t[MANY - 1].ctx), "%s", got);
		cr_assert_not_null(strstr(got, t[MANY - 1].pw), "%s", got);
		free(got);
	}
	plan = plan_of(rt, slug, t, MANY);
	cr_assert(eq(sz, plan->n_changes, 0));
	pbx_rt_plan_free(plan);

	plan = plan_of(rt, slug, t, 0);
	cr_assert(eq(sz, plan->n_changes, 3 * MANY));
	sync_ok(rt, plan);
	expect_rows(m, slug, "0\n");
	got = count(m, "SELECT COUNT(*) FROM pbxctl_realtime_rows WHERE id LIKE ?", slug);
	cr_assert(eq(str, got, "0\n"));
	free(got);
	free(t);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(batch, a_row_deleted_by_hand_before_the_sync_is_named_and_nothing_changes)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct pbx_rt_plan *plan;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], object[192], *before, *after;
	struct tdev *t;

	rt_test_slug(slug, sizeof(slug), "batchgone");
	rt_test_clean(m, slug);
	t = many(slug);
	sync_ok(rt, plan_of(rt, slug, t, MANY));
	plan = plan_of(rt, slug, t, 0);
	{
		const char *p[] = { t[600].id };

		rt_test_exec(m, "DELETE FROM ps_aors WHERE id = ?", p, 1);
	}
	before = rt_test_tenant_state(m, slug);
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), PBX_ECONFLICT));
	snprintf(object, sizeof(object), "ps_aors row %s", t[600].id);
	cr_assert(eq(str, err.object, object));
	cr_assert_not_null(strstr(err.message, "vanished"), "%s", err.message);
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
	pbx_rt_plan_free(plan);
	free(t);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(batch, an_id_taken_before_the_sync_is_named_and_nothing_is_written)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct pbx_rt_plan *plan;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], object[192], *got;
	struct tdev *t;

	rt_test_slug(slug, sizeof(slug), "batchtaken");
	rt_test_clean(m, slug);
	t = many(slug);
	plan = plan_of(rt, slug, t, MANY);
	{
		const char *p[] = { t[550].id };

		rt_test_exec(m, "INSERT INTO ps_endpoints (id) VALUES (?)", p, 1);
	}
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), PBX_ECONFLICT));
	snprintf(object, sizeof(object), "ps_endpoints row %s", t[550].id);
	cr_assert(eq(str, err.object, object));
	got = count(m, "SELECT COUNT(*) FROM pbxctl_realtime_rows WHERE id LIKE ?", slug);
	cr_assert(eq(str, got, "0\n"));
	free(got);
	expect_rows(m, slug, "1\n");   /* the foreign row alone */
	pbx_rt_plan_free(plan);
	{
		const char *p[] = { t[550].id };

		rt_test_exec(m, "DELETE FROM ps_endpoints WHERE id = ?", p, 1);
	}
	free(t);
	mysql_close(m);
	pbx_realtime_close(rt);
}
