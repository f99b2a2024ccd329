/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl me` as a real end_user login: DND and forward of its own user only, through the
 * SECURITY DEFINER functions of migration 0007 (written and audited with the login as
 * actor), bad input refused with nothing changed, no way to name another user (and a forged
 * attempt in SQL fails), and a clear refusal for an operator who is not an end user.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles-itest.h"
#include "testenv.h"

/* The schema migrated, as every other integration suite finds it. */
static void migrate(void)
{
	struct pbx_config cfg;

	testenv_free(testenv_ctx(&cfg), &cfg);
}

TestSuite(me, .init = migrate);

static char errbuf[4096];

/* Run pbxctl as @login (NULL: the owner), check the exit status, return stdout. */
#define AS(login, status, ...) as_run(login, status, __LINE__, __VA_ARGS__, NULL, NULL, NULL, NULL, NULL, NULL)

static char *as_run(const char *login, int status, int line, const char *a0, const char *a1,
		    const char *a2, const char *a3, const char *a4, const char *a5, ...)
{
	char *out, *err;
	int r;

	if (login)
		r = testenv_run_as(login, &out, &err, a0, a1, a2, a3, a4, a5, NULL);
	else
		r = testenv_run(&out, &err, a0, a1, a2, a3, a4, a5, NULL);
	snprintf(errbuf, sizeof(errbuf), "%s", err);
	free(err);
	cr_assert(eq(int, r, status), "line %d: %s %s %s: exit %d, stderr: %s", line,
		  login ? login : "owner", a0, a1 ? a1 : "", r, errbuf);
	return out;
}

static void expect_row(const char *sql, const char *id, const char *want)
{
	char *v = rt_owner_value(sql, id);

	cr_assert(eq(str, v, (char *)want), "%s: %s, want %s", sql, v, want);
	free(v);
}

#define DND "SELECT dnd::text FROM users WHERE id = $1::bigint"
#define FWD "SELECT coalesce(forward_to, '-') FROM users WHERE id = $1::bigint"

Test(me, end_user_sets_its_own_dnd_and_forward)
{
	struct world w;
	char *out, sql[256];

	world_make(&w);
	out = AS(w.eu, 0, "me", "show", "-o", "json");
	cr_assert(strstr(out, w.ua) && strstr(out, "\"extension\": 1000"), "%s", out);
	cr_assert(strstr(out, "pin_hash") == NULL && strstr(out, "argon2") == NULL, "%s", out);
	free(out);

	out = AS(w.eu, 0, "me", "dnd", "on", "-o", "json");
	cr_assert(strstr(out, "\"dnd\": true") != NULL, "%s", out);
	free(out);
	/* Pending for the next apply, and said so (this login cannot write AstDB). */
	cr_assert(strstr(errbuf, "pbxctl apply") != NULL, "%s", errbuf);
	expect_row("SELECT astdb_pending::text FROM users WHERE id = $1::bigint", w.ua_id, "true");
	expect_row(DND, w.ua_id, "true");
	expect_row(DND, w.ua2_id, "false");
	/* Audited on the server with the login as actor. */
	snprintf(sql, sizeof(sql), "SELECT count(*)::text FROM audit_log WHERE actor = $1 "
		 "AND entity = 'user' AND entity_id = '%s' AND after->>'dnd' = 'true'", w.ua_id);
	out = rt_owner_value(sql, w.eu);
	cr_assert(eq(str, out, "1"), "audit rows: %s", out);
	free(out);

	out = AS(w.eu, 0, "me", "forward", "set", "1001", "-o", "json");
	cr_assert(strstr(out, "\"forward_to\": \"1001\"") != NULL, "%s", out);
	free(out);
	expect_row(FWD, w.ua_id, "1001");
	/* A number needs an outbound policy that allows it: the tenant's default here. */
	free(AS(w.eu, 3, "me", "forward", "set", "+493012345678"));
	cr_assert(strstr(errbuf, "no outbound policy applies") != NULL, "%s", errbuf);
	free(rt_owner_value("UPDATE policy_rules SET pattern = '^[+]49' WHERE id = $1::bigint "
			    "RETURNING 'ok'", w.rule_a_id));
	free(rt_owner_value("UPDATE tenants t SET default_policy_id = r.policy_id FROM "
			    "policy_rules r WHERE r.id = $1::bigint AND t.id = (SELECT tenant_id "
			    "FROM policies WHERE id = r.policy_id) RETURNING 'ok'", w.rule_a_id));
	free(AS(w.eu, 3, "me", "forward", "set", "+442071234567"));
	cr_assert(strstr(errbuf, "blocked by outbound policy out") != NULL, "%s", errbuf);
	free(AS(w.eu, 0, "me", "forward", "set", "+493012345678"));
	expect_row(FWD, w.ua_id, "+493012345678");
	free(AS(w.eu, 0, "me", "forward", "clear"));
	expect_row(FWD, w.ua_id, "-");
	free(AS(w.eu, 0, "me", "dnd", "off"));
	expect_row(DND, w.ua_id, "false");
	snprintf(sql, sizeof(sql), "SELECT count(*)::text FROM audit_log WHERE actor = $1 "
		 "AND entity_id = '%s'", w.ua_id);
	out = rt_owner_value(sql, w.eu);
	cr_assert(eq(str, out, "5"), "audit rows: %s", out);
	free(out);
}

Test(me, bad_input_is_refused_and_changes_nothing)
{
	struct world w;

	world_make(&w);
	free(AS(w.eu, 2, "me", "dnd", "maybe"));
	cr_assert(strstr(errbuf, "dnd must be on or off") != NULL, "%s", errbuf);
	/* Outside the tenant's range 1000-1999 (a foreign tenant's or no extension at all). */
	free(AS(w.eu, 3, "me", "forward", "set", "2500"));
	cr_assert(strstr(errbuf, "forward_to: ") && strstr(errbuf, "outside"), "%s", errbuf);
	free(AS(w.eu, 3, "me", "forward", "set", "1000"));
	cr_assert(strstr(errbuf, "own extension") != NULL, "%s", errbuf);
	free(AS(w.eu, 3, "me", "forward", "set", "sip:evil@example.com"));
	cr_assert(strstr(errbuf, "or a number of 2 to 20 digits") != NULL, "%s", errbuf);
	free(AS(w.eu, 2, "me", "forward", "set"));
	free(AS(w.eu, 2, "me", "forward", "clear", "1001"));
	expect_row(DND, w.ua_id, "false");
	expect_row(FWD, w.ua_id, "-");
}

Test(me, end_user_cannot_act_on_another_user)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	/* No verb takes a user: an extra argument is a usage error. */
	free(AS(w.eu, 2, "me", "dnd", "on", w.ua));
	/* Forged in SQL as the end user's own login: no write on users, no helper to borrow. */
	pg = rt_connect(w.eu);
	cr_assert(eq(long, rt_exec(pg, "UPDATE users SET dnd = true WHERE id = $1::bigint",
				   w.ua2_id, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "42501"));
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_user()", NULL, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "42501"));
	cr_assert(eq(long, rt_exec(pg, "SET pbx.operator = 'other'", NULL, NULL), 0));
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_dnd(true)", NULL, NULL), 1));
	PQfinish(pg);
	expect_row(DND, w.ua_id, "true");
	expect_row(DND, w.ua2_id, "false");
}

Test(me, an_operator_who_is_not_an_end_user_is_told_so)
{
	struct world w;

	world_make(&w);
	free(AS(NULL, 6, "me", "dnd", "on"));
	cr_assert(strstr(errbuf, "not an end_user") && strstr(errbuf, "pbxctl user"), "%s", errbuf);
	free(AS(w.ta, 6, "me", "show"));
	cr_assert(strstr(errbuf, "tenant_admin") != NULL, "%s", errbuf);
	free(AS(w.nobody, 6, "me", "forward", "clear"));
	expect_row(DND, w.ua_id, "false");
	expect_row(DND, w.ua2_id, "false");
}
