/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of snapshots and restore against the test MariaDB: a snapshot saved
 * to a file and restored after other changes gives back exactly the snapshot rows; a
 * snapshot holds only pbxctl's rows; a restore never reaches beyond the snapshot's tenant;
 * and a restore that cannot be completed changes nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"

#include "rt-dev.h"
#include "rt-test.h"

static void snapshot_path(char *buf, size_t size, const char *slug)
{
	snprintf(buf, size, "/tmp/pbxctl-rt-%s.snap", slug);
	unlink(buf);
}

Test(restore, snapshot_file_then_other_changes_then_restore_gives_back_the_snapshot)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b, c;
	struct tdev *devs[] = { &a, &b };
	struct tdev *later[] = { &b, &c };
	struct pbx_rt_snapshot *snap = NULL, *loaded = NULL, *again = NULL;
	pbx_secret_key *key = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], path[128], *state0, *state1, *state2;
	struct stat st;

	rt_test_slug(slug, sizeof(slug), "snap");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	tdev_init(&c, slug, "1003");
	b.d.transport = "wss";
	b.d.mailboxes = b.mbox;
	plan_and_sync(rt, slug, devs, 2);
	state0 = rt_test_tenant_state(m, slug);

	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &snap, &err), 0), "%s", err.message);
	cr_assert(eq(sz, pbx_rt_rowset_count(snap->rows), 6));
	cr_assert(eq(str, snap->scope, slug));
	snapshot_path(path, sizeof(path), slug);
	cr_assert(eq(int, pbx_secret_key_generate(&key, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_rt_snapshot_save(snap, key, path, &err), 0), "%s", err.message);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600));
	cr_assert(eq(int, pbx_rt_snapshot_load(path, key, &loaded, &err), 0), "%s", err.message);

	/* something else: 1001 gone, 1002 changed, 1003 new */
	b.d.codecs = rt_codecs_ua;
	b.d.n_codecs = 2;
	b.d.password = "changed-password";
	b.d.transport = "udp";
	plan_and_sync(rt, slug, later, 2);
	state1 = rt_test_tenant_state(m, slug);
	cr_assert(strcmp(state1, state0) != 0);

	cr_assert(eq(int, pbx_realtime_restore(rt, loaded, NULL, &err), 0), "%s (%s)",
		  err.message, err.detail);
	state2 = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, state2, state0));
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &again, &err), 0));
	cr_assert(eq(sz, pbx_rt_rowset_count(again->rows), 6));
	for (size_t i = 0; i < 6; i++) {
		const struct pbx_rt_row *x = pbx_rt_rowset_row(snap->rows, i);
		const struct pbx_rt_row *y = pbx_rt_rowset_find(again->rows, x->table, x->id);

		cr_assert(y != NULL);
		for (size_t k = 0; k < x->n_values; k++) {
			bool same = (!x->values[k] && !y->values[k]) ||
				    (x->values[k] && y->values[k] &&
				     !strcmp(x->values[k], y->values[k]));

			cr_assert(same, "%s %s %s", x->table, x->id, x->columns[k]);
		}
	}
	unlink(path);
	free(state0);
	free(state1);
	free(state2);
	pbx_rt_snapshot_free(snap);
	pbx_rt_snapshot_free(loaded);
	pbx_rt_snapshot_free(again);
	pbx_secret_key_free(key);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(restore, snapshot_holds_only_rows_pbxctl_created)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct tdev *devs[] = { &a };
	struct pbx_rt_snapshot *snap = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], foreign[64];
	const char *p[] = { foreign, "site-ctx" };

	rt_test_slug(slug, sizeof(slug), "snaponly");
	rt_test_clean(m, slug);
	snprintf(foreign, sizeof(foreign), "%s-site", slug);
	rt_test_exec(m, "INSERT INTO ps_endpoints (id, context) VALUES (?, ?)", p, 2);
	tdev_init(&a, slug, "1001");
	plan_and_sync(rt, slug, devs, 1);
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &snap, &err), 0));
	cr_assert(eq(sz, pbx_rt_rowset_count(snap->rows), 3));
	cr_assert(pbx_rt_rowset_find(snap->rows, "ps_endpoints", foreign) == NULL);
	cr_assert(pbx_rt_rowset_find(snap->rows, "ps_endpoints", a.id) != NULL);
	pbx_rt_snapshot_free(snap);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(restore, refuses_a_scope_beyond_the_snapshot)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct tdev *devs[] = { &a };
	struct pbx_rt_snapshot *snap = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], other[64], *before, *after;

	rt_test_slug(slug, sizeof(slug), "wide");
	snprintf(other, sizeof(other), "%s-o", slug);
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	plan_and_sync(rt, slug, devs, 1);
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &snap, &err), 0));
	before = rt_test_tenant_state(m, slug);
	cr_assert(eq(int, pbx_realtime_restore(rt, snap, other, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "tenant"));
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
	pbx_rt_snapshot_free(snap);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(restore, restoring_one_tenant_leaves_other_tenants_alone)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, x;
	struct tdev *devs_a[] = { &a };
	struct tdev *devs_x[] = { &x };
	struct pbx_rt_snapshot *snap = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], other[64], *state_x, *after_x, *allow;
	const char *pa[] = { a.id };

	rt_test_slug(slug, sizeof(slug), "pair");
	snprintf(other, sizeof(other), "%s-x", slug);
	rt_test_clean(m, slug);   /* also matches the other tenant's ids */
	tdev_init(&a, slug, "1001");
	tdev_init(&x, other, "1001");
	plan_and_sync(rt, slug, devs_a, 1);
	plan_and_sync(rt, other, devs_x, 1);
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &snap, &err), 0));
	cr_assert(eq(sz, pbx_rt_rowset_count(snap->rows), 3));
	/* change both tenants after the snapshot */
	a.d.codecs = rt_codecs_ua;
	a.d.n_codecs = 2;
	x.d.codecs = rt_codecs_ua;
	x.d.n_codecs = 2;
	plan_and_sync(rt, slug, devs_a, 1);
	plan_and_sync(rt, other, devs_x, 1);
	state_x = rt_test_tenant_state(m, other);
	cr_assert(eq(int, pbx_realtime_restore(rt, snap, NULL, &err), 0), "%s", err.message);
	after_x = rt_test_tenant_state(m, other);
	cr_assert(eq(str, after_x, state_x));
	cr_assert(strstr(after_x, "ulaw,alaw") != NULL);
	allow = rt_test_query(m, "SELECT allow FROM ps_endpoints WHERE id = ?", pa, 1);
	cr_assert(eq(str, allow, "ulaw\n"));
	free(allow);
	free(state_x);
	free(after_x);
	pbx_rt_snapshot_free(snap);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(restore, conflict_during_restore_changes_nothing)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b, c;
	struct tdev *devs[] = { &a, &b };
	struct tdev *later[] = { &c };
	struct pbx_rt_snapshot *snap = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *before, *after;
	const char *p[] = { b.id, "taken" };

	rt_test_slug(slug, sizeof(slug), "rconf");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	tdev_init(&c, slug, "1003");
	plan_and_sync(rt, slug, devs, 2);
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &snap, &err), 0));
	plan_and_sync(rt, slug, later, 1);
	/* meanwhile someone else took 1002's auth id */
	rt_test_exec(m, "INSERT INTO ps_auths (id, password) VALUES (?, ?)", p, 2);
	before = rt_test_tenant_state(m, slug);
	cr_assert(eq(int, pbx_realtime_restore(rt, snap, slug, &err), PBX_ECONFLICT));
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	cr_assert(strstr(after, c.id) != NULL);   /* 1003 not deleted */
	free(before);
	free(after);
	pbx_rt_snapshot_free(snap);
	mysql_close(m);
	pbx_realtime_close(rt);
}
