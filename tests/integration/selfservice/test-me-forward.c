/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl me forward` as a hostile end user (a real end_user login, under row-level
 * security and the column grants of migration 0007): a forward to a number its outbound
 * policy blocks is refused with one line and changes nothing (PostgreSQL, the audit log,
 * the AMI peer's AstDB); and the same forward made on the phone never becomes the record.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "me-itest.h"

static void setup(void)
{
	me_setup();
}

TestSuite(me, .init = setup, .fini = me_teardown, .timeout = 90);

Test(me, a_forward_to_a_number_the_policy_blocks_is_refused_and_changes_nothing)
{
	char *out, *err, *audit;
	int puts;
	static const char *const blocked[] = { "+442071234567", "0044207123456", "+12125550100" };

	alice();
	domestic_policy();
	audit = sql(AUDIT_ROWS);
	puts = peer_count(&peer, "DBPut");
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		cr_assert(eq(int, me(&out, &err, "forward", "set", blocked[i], NULL), 3),
			  "%s accepted: %s", blocked[i], out);
		expect_one_line(err, "forward_to", "is blocked by outbound policy domestic");
		cr_assert_not_null(strstr(err, blocked[i]), "%s", err);
		free(out);
		free(err);
	}
	/* Not a number at all, and a direct call of the SQL function: refused the same way. */
	cr_assert(eq(int, me(&out, &err, "forward", "set", "+44abc", NULL), 3));
	expect_one_line(err, "forward_to", "must be an extension of the tenant or a number");
	free(out);
	free(err);
	expect_sql(ALICE_FORWARD, "none");
	expect_sql(AUDIT_ROWS, audit);
	{
		char *v = astdb("forward");

		cr_assert_null(v, "AstDB took %s", v);
		free(v);
	}
	cr_assert(eq(int, peer_count(&peer, "DBPut"), puts));
	free(audit);
}

Test(me, a_forward_the_policy_allows_is_taken)
{
	char *out, *err;

	alice();
	domestic_policy();
	cr_assert(eq(int, me(&out, &err, "forward", "set", "+4930123456", NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"forward_to\": \"+4930123456\""), "%s", out);
	free(out);
	free(err);
	expect_sql(ALICE_FORWARD, "+4930123456");
	cr_assert(eq(int, me(&out, &err, "forward", "set", "030123456", NULL), 0), "%s", err);
	free(out);
	free(err);
	expect_sql(ALICE_FORWARD, "030123456");
}

Test(me, without_any_policy_no_number_is_allowed)
{
	char *out, *err;

	alice();
	cr_assert(eq(int, me(&out, &err, "forward", "set", "+4930123456", NULL), 3));
	expect_one_line(err, "forward_to", "no outbound policy applies to alice");
	free(out);
	free(err);
	expect_sql(ALICE_FORWARD, "none");
}

/* The UserEvent of the recording userevent-from-dialplan, for this test's tenant. */
/*
 * *72 with a number the policy blocks: the phone wrote AstDB and raised the event; the
 * event's consumer refuses the change and writes PostgreSQL's setting back. (The dialplan
 * itself dials a forward only under the forwarding user's policy: test-dialplan-selfservice.)
 */
Test(me, a_phone_made_forward_the_policy_blocks_is_reverted)
{
	struct pbx_ami_msg ev = peer_recorded_event("userevent-from-dialplan.recv", slug);
	pbx_error e = PBX_ERROR_INIT;
	bool changed = true;
	char *v;

	alice();
	domestic_policy();
	astdb_put("forward", "+442071234567");
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &e), 0), "%s", e.message);
	cr_assert(not(changed));
	expect_sql(ALICE_FORWARD, "none");
	v = astdb("forward");
	cr_assert_null(v, "the blocked forward stayed in AstDB: %s", v);
	/* An allowed one is taken. */
	astdb_put("forward", "+4930123456");
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &e), 0), "%s", e.message);
	cr_assert(changed);
	expect_sql(ALICE_FORWARD, "+4930123456");
	peer_event_free(&ev);
}
