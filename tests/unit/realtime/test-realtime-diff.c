/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/realtime/diff.c: owned rows against desired rows, column by column,
 * without a database; and the dry-run summary, which names columns but never values.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "realtime-internal.h"

static const char *const codecs_u[] = { "ulaw" };
static const char *const codecs_ua[] = { "ulaw", "alaw" };

static struct pbx_rt_device device(const char *id)
{
	return (struct pbx_rt_device){
		.id = id, .tenant = "acme", .context = "acme-internal", .password = "pw-one",
		.transport = "udp", .codecs = codecs_u, .n_codecs = 1,
	};
}

static pbx_rt_rowset *set_of(const struct pbx_rt_device *devs, size_t n)
{
	pbx_rt_rowset *set = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_new(&set, &err), 0));
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(int, pbx_rt_rowset_add_device(set, &devs[i], &err), 0), "%s",
			  err.message);
	return set;
}

static struct pbx_rt_plan *diff(const pbx_rt_rowset *owned, const pbx_rt_rowset *desired,
				const char *scope)
{
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, rt_diff(owned, desired, scope, &plan, &err), 0), "%s", err.message);
	return plan;
}

Test(diff, identical_rows_give_an_empty_plan)
{
	struct pbx_rt_device d[] = { device("acme-1"), device("acme-2") };
	pbx_rt_rowset *owned = set_of(d, 2), *desired = set_of(d, 2);
	struct pbx_rt_plan *plan = diff(owned, desired, "acme");

	cr_assert(eq(sz, plan->n_changes, 0));
	cr_assert(eq(sz, plan->n_tables, 5));
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, new_device_is_three_inserts)
{
	struct pbx_rt_device d[] = { device("acme-1"), device("acme-2") };
	pbx_rt_rowset *owned = set_of(d, 1), *desired = set_of(d, 2);
	struct pbx_rt_plan *plan = diff(owned, desired, "acme");

	cr_assert(eq(sz, plan->n_changes, 3));
	for (size_t i = 0; i < 3; i++) {
		cr_assert(eq(int, plan->changes[i].op, PBX_RT_INSERT));
		cr_assert(eq(str, (char *)plan->changes[i].id, "acme-2"));
		cr_assert(plan->changes[i].row != NULL);
		cr_assert(eq(sz, plan->tables[i].n_insert, 1));
	}
	cr_assert(eq(str, (char *)plan->changes[0].table, "ps_endpoints"));
	cr_assert(eq(str, (char *)plan->changes[1].table, "ps_auths"));
	cr_assert(eq(str, (char *)plan->changes[2].table, "ps_aors"));
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, codec_change_updates_only_the_endpoint_allow_column)
{
	struct pbx_rt_device d = device("acme-1");
	pbx_rt_rowset *owned = set_of(&d, 1), *desired;
	struct pbx_rt_plan *plan;

	d.codecs = codecs_ua;
	d.n_codecs = 2;
	desired = set_of(&d, 1);
	plan = diff(owned, desired, "acme");
	cr_assert(eq(sz, plan->n_changes, 1));
	cr_assert(eq(int, plan->changes[0].op, PBX_RT_UPDATE));
	cr_assert(eq(str, (char *)plan->changes[0].table, "ps_endpoints"));
	cr_assert(eq(sz, plan->changes[0].n_changed, 1));
	cr_assert(eq(str, (char *)plan->changes[0].changed[0], "allow"));
	cr_assert(eq(sz, plan->tables[0].n_update, 1));
	cr_assert(eq(sz, plan->tables[1].n_update, 0));
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, removed_device_is_three_deletes)
{
	struct pbx_rt_device d[] = { device("acme-1"), device("acme-2") };
	pbx_rt_rowset *owned = set_of(d, 2), *desired = set_of(d, 1);
	struct pbx_rt_plan *plan = diff(owned, desired, "acme");

	cr_assert(eq(sz, plan->n_changes, 3));
	for (size_t i = 0; i < 3; i++) {
		cr_assert(eq(int, plan->changes[i].op, PBX_RT_DELETE));
		cr_assert(eq(str, (char *)plan->changes[i].id, "acme-2"));
		cr_assert(eq(str, (char *)plan->changes[i].owner, "acme"));
		cr_assert(eq(sz, plan->tables[i].n_delete, 1));
	}
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, owned_row_that_vanished_is_inserted_again)
{
	struct pbx_rt_device d = device("acme-1");
	pbx_rt_rowset *desired = set_of(&d, 1), *owned = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rt_plan *plan;

	cr_assert(eq(int, pbx_rt_rowset_new(&owned, &err), 0));
	for (size_t i = 0; i < pbx_rt_rowset_count(desired); i++) {
		const struct rt_row *r = rt_rowset_get(desired, i);

		cr_assert(eq(int, rt_rowset_add_raw(owned, r->def, r->pub.id, r->pub.owner,
						    (const char *const *)r->pub.values,
						    strcmp(r->pub.table, "ps_aors") == 0, &err), 0));
	}
	plan = diff(owned, desired, "acme");
	cr_assert(eq(sz, plan->n_changes, 1));
	cr_assert(eq(int, plan->changes[0].op, PBX_RT_INSERT));
	cr_assert(eq(str, (char *)plan->changes[0].table, "ps_aors"));
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, ownership_move_is_an_update_of_owner)
{
	static const char *const cols[] = { "max_contacts" };
	const char *vals[] = { "1" };
	pbx_rt_rowset *owned = NULL, *desired = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rt_plan *plan;

	cr_assert(eq(int, pbx_rt_rowset_new(&owned, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_new(&desired, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add(owned, "ps_aors", "x-1", "acme", cols, vals, 1,
					    &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add(desired, "ps_aors", "x-1", "globex", cols, vals, 1,
					    &err), 0));
	plan = diff(owned, desired, NULL);
	cr_assert(eq(sz, plan->n_changes, 1));
	cr_assert(eq(sz, plan->changes[0].n_changed, 1));
	cr_assert(eq(str, (char *)plan->changes[0].changed[0], "owner"));
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, refuses_desired_rows_outside_the_scope)
{
	struct pbx_rt_device d = device("acme-1");
	pbx_rt_rowset *desired = set_of(&d, 1), *owned = NULL;
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_new(&owned, &err), 0));
	cr_assert(eq(int, rt_diff(owned, desired, "globex", &plan, &err), PBX_EINVALID));
	cr_assert(plan == NULL);
	cr_assert(eq(int, rt_diff(owned, desired, "Bad Scope", &plan, &err), PBX_EINVALID));
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, summary_counts_every_table_and_hides_passwords)
{
	struct pbx_rt_device have[] = { device("acme-1"), device("acme-2"), device("acme-3") };
	struct pbx_rt_device want[] = { device("acme-1"), device("acme-2"), device("acme-4") };
	pbx_rt_rowset *owned = set_of(have, 3), *desired;
	struct pbx_rt_plan *plan;
	pbx_error err = PBX_ERROR_INIT;
	char *text = NULL;

	want[0].codecs = codecs_ua;
	want[0].n_codecs = 2;
	want[0].callerid_num = "1001";
	want[1].password = "pw-two-new";
	desired = set_of(want, 3);
	plan = diff(owned, desired, "acme");
	cr_assert(eq(int, pbx_rt_plan_summary(plan, &text, &err), 0));
	cr_assert(eq(str, text,
		     "ps_endpoints: +1 ~1 -1\n"
		     "  - acme-3\n"
		     "  ~ acme-1: allow, callerid changed\n"
		     "  + acme-4\n"
		     "ps_auths: +1 ~1 -1\n"
		     "  - acme-3\n"
		     "  ~ acme-2: password changed\n"
		     "  + acme-4\n"
		     "ps_aors: +1 ~0 -1\n"
		     "  - acme-3\n"
		     "  + acme-4\n"
		     "ps_registrations: +0 ~0 -0\n"
		     "ps_endpoint_id_ips: +0 ~0 -0\n"));
	cr_assert(strstr(text, "pw-") == NULL);
	free(text);
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}

Test(diff, summary_of_an_empty_plan_lists_zero_counts)
{
	struct pbx_rt_device d = device("acme-1");
	pbx_rt_rowset *owned = set_of(&d, 1), *desired = set_of(&d, 1);
	struct pbx_rt_plan *plan = diff(owned, desired, "acme");
	pbx_error err = PBX_ERROR_INIT;
	char *text = NULL;

	cr_assert(eq(int, pbx_rt_plan_summary(plan, &text, &err), 0));
	cr_assert(eq(str, text, "ps_endpoints: +0 ~0 -0\nps_auths: +0 ~0 -0\nps_aors: +0 ~0 -0\n"
		     "ps_registrations: +0 ~0 -0\nps_endpoint_id_ips: +0 ~0 -0\n"));
	free(text);
	pbx_rt_plan_free(plan);
	pbx_rt_rowset_free(owned);
	pbx_rt_rowset_free(desired);
}
