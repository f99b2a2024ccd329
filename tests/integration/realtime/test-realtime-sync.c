/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of plan and sync against the test MariaDB: the rows written hold
 * exactly the expected values (read back with SELECT), a second plan is empty, a codec
 * change touches only ps_endpoints, removing a device deletes its three rows, rows pbxctl
 * did not create are never touched, a colliding id is a conflict with nothing written,
 * over-long values are refused before anything is written, and a failure in the middle of
 * a sync leaves everything as it was. Each test has its own tenant.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "rt-dev.h"
#include "rt-test.h"

static char *endpoint_row(MYSQL *m, const char *id)
{
	const char *p[] = { id };

	return rt_test_query(m,
		"SELECT id, transport, aors, auth, context, disallow, allow, direct_media,"
		" dtmf_mode, force_rport, mailboxes, rewrite_contact, rtp_symmetric, callerid,"
		" webrtc, identify_by, ice_support FROM ps_endpoints WHERE id = ?", p, 1);
}

static char *auth_row(MYSQL *m, const char *id)
{
	const char *p[] = { id };

	return rt_test_query(m, "SELECT id, auth_type, username, password, realm, md5_cred"
			     " FROM ps_auths WHERE id = ?", p, 1);
}

static char *aor_row(MYSQL *m, const char *id)
{
	const char *p[] = { id };

	return rt_test_query(m, "SELECT id, max_contacts, remove_existing, qualify_frequency,"
			     " contact, mailboxes, minimum_expiration, default_expiration, maximum_expiration"
			     " FROM ps_aors WHERE id = ?", p, 1);
}

static void expect_str(char *got, const char *want)
{
	cr_assert(eq(str, got, (char *)want), "got:\n%s\nwant:\n%s", got, want);
	free(got);
}

Test(sync, inserts_endpoint_auth_and_aor_with_exact_values)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b;
	struct pbx_rt_device d[2];
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], want[1024], own[64];
	const char *p[] = { own };

	rt_test_slug(slug, sizeof(slug), "ins");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	b.d.transport = "wss";
	b.d.codecs = rt_codecs_ua;
	b.d.n_codecs = 2;
	b.d.mailboxes = b.mbox;
	b.d.callerid_name = "Bob \"The\" <Builder>";
	d[0] = a.d;
	d[1] = b.d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, 2, &plan, &err), 0), "%s", err.message);
	cr_assert(eq(sz, plan->n_changes, 6));
	for (size_t i = 0; i < 3; i++)
		cr_assert(eq(sz, plan->tables[i].n_insert, 2));
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), 0), "%s (%s)", err.message,
		  err.detail);
	pbx_rt_plan_free(plan);

	snprintf(want, sizeof(want),
		 "%s|transport-udp|%s|%s|%s-internal|all|ulaw|no|rfc4733|yes|NULL|yes|yes|"
		 "\"Test User\" <1001>|NULL|NULL|NULL\n", a.id, a.id, a.id, slug);
	expect_str(endpoint_row(m, a.id), want);
	snprintf(want, sizeof(want),
		 "%s|transport-wss|%s|%s|%s-internal|all|ulaw,alaw|no|rfc4733|yes|1002@%s|yes|yes|"
		 "\"Bob The Builder\" <1002>|yes|NULL|NULL\n", b.id, b.id, b.id, slug, slug);
	expect_str(endpoint_row(m, b.id), want);
	snprintf(want, sizeof(want), "%s|userpass|%s|pw-1001-secret|NULL|NULL\n", a.id, a.id);
	expect_str(auth_row(m, a.id), want);
	snprintf(want, sizeof(want), "%s|1|yes|60|NULL|NULL|30|60|60\n", b.id);
	expect_str(aor_row(m, b.id), want);
	snprintf(own, sizeof(own), "%s", slug);
	snprintf(want, sizeof(want), "ps_aors|%s|%s\nps_aors|%s|%s\nps_auths|%s|%s\n"
		 "ps_auths|%s|%s\nps_endpoints|%s|%s\nps_endpoints|%s|%s\n",
		 a.id, slug, b.id, slug, a.id, slug, b.id, slug, a.id, slug, b.id, slug);
	expect_str(rt_test_query(m, "SELECT tbl, id, owner FROM pbxctl_realtime_rows"
				 " WHERE owner = ? ORDER BY tbl, id", p, 1), want);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, second_plan_is_empty)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b;
	struct tdev *devs[] = { &a, &b };
	struct pbx_rt_device d[2];
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *text = NULL;

	rt_test_slug(slug, sizeof(slug), "again");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	b.d.transport = "tls";
	b.d.codecs = rt_codecs_ua;
	b.d.n_codecs = 2;
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 2), 6));
	d[0] = a.d;
	d[1] = b.d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, 2, &plan, &err), 0));
	cr_assert(eq(sz, plan->n_changes, 0));
	cr_assert(eq(int, pbx_rt_plan_summary(plan, &text, &err), 0));
	cr_assert(eq(str, text, "ps_endpoints: +0 ~0 -0\nps_auths: +0 ~0 -0\nps_aors: +0 ~0 -0\n"
		     "ps_registrations: +0 ~0 -0\nps_endpoint_id_ips: +0 ~0 -0\n"));
	free(text);
	/* an empty plan syncs as a no-op */
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), 0));
	pbx_rt_plan_free(plan);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, codec_change_updates_only_ps_endpoints)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct tdev *devs[] = { &a };
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *before_auth, *before_aor, *text = NULL, *allow;
	const char *p[] = { a.id };

	rt_test_slug(slug, sizeof(slug), "codec");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	plan_and_sync(rt, slug, devs, 1);
	before_auth = auth_row(m, a.id);
	before_aor = aor_row(m, a.id);
	a.d.codecs = rt_codecs_ua;
	a.d.n_codecs = 2;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, &a.d, 1, &plan, &err), 0));
	cr_assert(eq(sz, plan->n_changes, 1));
	cr_assert(eq(str, (char *)plan->changes[0].table, "ps_endpoints"));
	cr_assert(eq(int, plan->changes[0].op, PBX_RT_UPDATE));
	cr_assert(eq(sz, plan->changes[0].n_changed, 1));
	cr_assert(eq(str, (char *)plan->changes[0].changed[0], "allow"));
	cr_assert(eq(int, pbx_rt_plan_summary(plan, &text, &err), 0));
	cr_assert(strstr(text, "ps_endpoints: +0 ~1 -0\n") != NULL, "%s", text);
	cr_assert(strstr(text, "allow changed") != NULL, "%s", text);
	free(text);
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), 0), "%s", err.message);
	pbx_rt_plan_free(plan);
	allow = rt_test_query(m, "SELECT allow FROM ps_endpoints WHERE id = ?", p, 1);
	expect_str(allow, "ulaw,alaw\n");
	expect_str(auth_row(m, a.id), before_auth);
	expect_str(aor_row(m, a.id), before_aor);
	free(before_auth);
	free(before_aor);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, password_change_is_summarised_without_the_password)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct tdev *devs[] = { &a };
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *text = NULL;

	rt_test_slug(slug, sizeof(slug), "pwchg");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	plan_and_sync(rt, slug, devs, 1);
	a.d.password = "Brand-New-Secret-99";
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, &a.d, 1, &plan, &err), 0));
	cr_assert(eq(int, pbx_rt_plan_summary(plan, &text, &err), 0));
	cr_assert(strstr(text, "ps_auths: +0 ~1 -0\n") != NULL, "%s", text);
	cr_assert(strstr(text, ": password changed\n") != NULL, "%s", text);
	cr_assert(strstr(text, "Brand-New") == NULL && strstr(text, "pw-1001") == NULL);
	free(text);
	pbx_rt_plan_free(plan);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, removing_a_device_deletes_its_three_rows)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b;
	struct tdev *devs[] = { &a, &b };
	char slug[32], *keep_ep;
	const char *pb[] = { b.id };

	rt_test_slug(slug, sizeof(slug), "remove");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	plan_and_sync(rt, slug, devs, 2);
	keep_ep = endpoint_row(m, a.id);
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 1), 3));
	expect_str(endpoint_row(m, b.id), "");
	expect_str(auth_row(m, b.id), "");
	expect_str(aor_row(m, b.id), "");
	expect_str(rt_test_query(m, "SELECT COUNT(*) FROM pbxctl_realtime_rows WHERE id = ?", pb,
				 1), "0\n");
	expect_str(endpoint_row(m, a.id), keep_ep);
	free(keep_ep);
	/* and a tenant with no devices left loses them all */
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 0), 3));
	expect_str(endpoint_row(m, a.id), "");
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, drifted_owned_row_is_put_back)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct tdev *devs[] = { &a };
	char slug[32], *good_ep, *good_aor;
	const char *p[] = { a.id };

	rt_test_slug(slug, sizeof(slug), "drift");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	plan_and_sync(rt, slug, devs, 1);
	good_ep = endpoint_row(m, a.id);
	good_aor = aor_row(m, a.id);
	/* someone edits pbxctl's row by hand and deletes its AOR */
	rt_test_exec(m, "UPDATE ps_endpoints SET allow = 'g729', direct_media = 'yes'"
		     " WHERE id = ?", p, 1);
	rt_test_exec(m, "DELETE FROM ps_aors WHERE id = ?", p, 1);
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 1), 2));
	expect_str(endpoint_row(m, a.id), good_ep);
	expect_str(aor_row(m, a.id), good_aor);
	free(good_ep);
	free(good_aor);
	mysql_close(m);
	pbx_realtime_close(rt);
}

static void insert_foreign(MYSQL *m, const char *id)
{
	const char *p[] = { id, "transport-udp", "site-ctx" };
	const char *pa[] = { id, "site-password" };
	const char *po[] = { id, "5" };

	rt_test_exec(m, "INSERT INTO ps_endpoints (id, transport, context) VALUES (?, ?, ?)", p,
		     3);
	rt_test_exec(m, "INSERT INTO ps_auths (id, password) VALUES (?, ?)", pa, 2);
	rt_test_exec(m, "INSERT INTO ps_aors (id, max_contacts) VALUES (?, ?)", po, 2);
}

Test(sync, foreign_rows_are_never_touched)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct tdev *devs[] = { &a };
	char slug[32], foreign[64], *before, *after;

	rt_test_slug(slug, sizeof(slug), "foreign");
	rt_test_clean(m, slug);
	snprintf(foreign, sizeof(foreign), "%s-site-phone", slug);
	insert_foreign(m, foreign);
	before = rt_test_tenant_state(m, slug);
	tdev_init(&a, slug, "1001");
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 1), 3));
	a.d.codecs = rt_codecs_ua;
	a.d.n_codecs = 2;
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 1), 1));
	cr_assert(eq(sz, plan_and_sync(rt, slug, devs, 0), 3));
	/* a plan over every owner at once: still not pbxctl's to delete */
	plan_and_sync(rt, NULL, devs, 0);
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	cr_assert(strstr(after, "site-password") != NULL);
	free(before);
	free(after);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, id_taken_by_a_foreign_row_is_a_conflict_and_nothing_is_written)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b;
	struct pbx_rt_device d[2];
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *before, *after, object[192];
	const char *p[] = { b.id, "site-password" };

	rt_test_slug(slug, sizeof(slug), "collide");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	rt_test_exec(m, "INSERT INTO ps_auths (id, password) VALUES (?, ?)", p, 2);
	before = rt_test_tenant_state(m, slug);
	d[0] = a.d;
	d[1] = b.d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, 2, &plan, &err), PBX_ECONFLICT));
	cr_assert(plan == NULL);
	snprintf(object, sizeof(object), "ps_auths row %s", b.id);
	cr_assert(eq(str, err.object, object));
	cr_assert(strstr(err.message, "not created by pbxctl") != NULL, "%s", err.message);
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, id_owned_by_another_tenant_is_a_conflict)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b;
	struct tdev *devs[] = { &a };
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], other[64];

	/* tenant "own-N" makes "own-N-q-1001"; tenant "own-N-q" wants the same id */
	rt_test_slug(slug, sizeof(slug), "own");
	snprintf(other, sizeof(other), "%s-q", slug);
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "q-1001");
	tdev_init(&b, other, "1001");
	a.d.callerid_num = NULL;
	cr_assert(eq(str, a.id, b.id));
	plan_and_sync(rt, slug, devs, 1);
	cr_assert(eq(int, pbx_realtime_plan(rt, other, &b.d, 1, &plan, &err), PBX_ECONFLICT));
	cr_assert(strstr(err.message, "belongs to tenant") != NULL, "%s", err.message);
	cr_assert(strstr(err.message, slug) != NULL, "%s", err.message);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, device_of_another_tenant_is_refused_by_a_tenant_plan)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], other[64];

	rt_test_slug(slug, sizeof(slug), "scope");
	snprintf(other, sizeof(other), "%s-x", slug);
	tdev_init(&a, other, "1001");
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, &a.d, 1, &plan, &err), PBX_EINVALID));
	cr_assert(plan == NULL);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, too_long_context_is_refused_before_anything_is_written)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b;
	struct pbx_rt_device d[2];
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], longctx[96], *before, *after;

	rt_test_slug(slug, sizeof(slug), "long");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	before = rt_test_tenant_state(m, slug);
	snprintf(longctx, sizeof(longctx), "%s-internal-%s", slug, "0123456789abcdefghij0123");
	cr_assert(strlen(longctx) > 40);
	b.d.context = longctx;
	d[0] = a.d;
	d[1] = b.d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, 2, &plan, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "context"));
	cr_assert(strstr(err.object, b.id) != NULL, "%s", err.object);
	b.d.context = b.ctx;
	/* a display name longer than the caller ID holds is cut to fit, not refused */
	b.d.callerid_name = "Somebody With A Very Long Display Name";
	d[1] = b.d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, 2, &plan, &err), 0), "%s", err.message);
	pbx_rt_plan_free(plan);
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	cr_assert(eq(str, after, ""));
	free(before);
	free(after);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, failure_in_the_middle_rolls_everything_back)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a, b, c, e;
	struct tdev *devs[] = { &a, &b };
	struct pbx_rt_device d[3];
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *before, *after, object[192];
	const char *p[] = { e.id, "7" };

	rt_test_slug(slug, sizeof(slug), "rollback");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	tdev_init(&b, slug, "1002");
	tdev_init(&c, slug, "1003");
	tdev_init(&e, slug, "1004");
	plan_and_sync(rt, slug, devs, 2);
	/* delete 1001, change 1002, add 1003 and 1004: 9 changes before ps_aors 1004 */
	b.d.codecs = rt_codecs_ua;
	b.d.n_codecs = 2;
	d[0] = b.d;
	d[1] = c.d;
	d[2] = e.d;
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, d, 3, &plan, &err), 0), "%s", err.message);
	cr_assert(eq(sz, plan->n_changes, 10));
	cr_assert(eq(str, (char *)plan->changes[9].table, "ps_aors"));
	cr_assert(eq(str, (char *)plan->changes[9].id, e.id));
	/* between plan and sync another writer takes the id of the last insert */
	rt_test_exec(m, "INSERT INTO ps_aors (id, max_contacts) VALUES (?, ?)", p, 2);
	before = rt_test_tenant_state(m, slug);
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), PBX_ECONFLICT));
	snprintf(object, sizeof(object), "ps_aors row %s", e.id);
	cr_assert(eq(str, err.object, object));
	cr_assert(strstr(err.hint, "rolled back") != NULL, "%s", err.hint);
	cr_assert(err.detail[0] != '\0');
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	/* 1001 is still there, 1002 unchanged, 1003 absent */
	cr_assert(strstr(after, a.id) != NULL);
	cr_assert(strstr(after, c.id) == NULL);
	cr_assert(strstr(after, "ulaw,alaw") == NULL);
	pbx_rt_plan_free(plan);
	free(before);
	free(after);
	mysql_close(m);
	pbx_realtime_close(rt);
}

Test(sync, applying_a_plan_twice_is_refused_and_changes_nothing)
{
	pbx_realtime *rt = rt_test_connect();
	MYSQL *m = rt_test_raw();
	struct tdev a;
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *before, *after;

	rt_test_slug(slug, sizeof(slug), "twice");
	rt_test_clean(m, slug);
	tdev_init(&a, slug, "1001");
	cr_assert(eq(int, pbx_realtime_plan(rt, slug, &a.d, 1, &plan, &err), 0));
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), 0));
	before = rt_test_tenant_state(m, slug);
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), PBX_ECONFLICT));
	after = rt_test_tenant_state(m, slug);
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
	pbx_rt_plan_free(plan);
	mysql_close(m);
	pbx_realtime_close(rt);
}
