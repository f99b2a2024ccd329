/* SPDX-License-Identifier: MIT */
/*
 * Emergency numbers through the built pbxctl: a tenant that could not route them is refused
 * by apply's validation with the fix named, one with an emergency trunk and no policy gets
 * them as exact extensions in its planned dialplan, and a display name longer than a
 * caller ID holds passes validation (the rows carry it cut: tests/unit/realtime). `apply --dry-run` plans and validates without Asterisk.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/db.h"
#include "routing-itest.h"
#include "testenv.h"

static void setup(void)
{
	pbx_error err = PBX_ERROR_INIT;

	it_setup();
	it_cli_key();
	/* apply --dry-run reads the realtime tables: whatever test ran first, they exist */
	cr_assert(eq(int, pbx_db_migrate_realtime(it_ctx, &err), 0), "%s", err.message);
}

TestSuite(emergency, .init = setup, .fini = it_teardown, .timeout = 90);

/* testenv_run with the terminating NULL added. */
#define run(out, err, ...) testenv_run(out, err, __VA_ARGS__, (char *)NULL)

Test(emergency, tenant_without_any_route_is_refused_naming_the_fix)
{
	char slug[32], *out, *err;

	snprintf(slug, sizeof(slug), "%s", it_tenant("en"));
	/* through pbxctl, so that the device's secret is sealed with the CLI's key */
	cr_assert(eq(int, run(&out, &err, "user", "create", "ann", "--tenant", slug), 0), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "device", "create", "ann", "desk", "--tenant", slug), 0),
		  "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "apply", "--tenant", slug, "--dry-run"), 3), "%s%s", out, err);
	cr_assert_not_null(strstr(err, "emergency number 911 cannot be called from ann's phones"),
			   "%s", err);
	cr_assert_not_null(strstr(err, "--emergency-trunk"), "%s", err);
	free(out);
	free(err);
	/* the bad input of the new options is refused, and changes nothing */
	cr_assert(eq(int, run(&out, &err, "tenant", "update", slug, "--emergency-callerid", "12;3"), 3));
	cr_assert_not_null(strstr(err, "emergency caller ID \"12;3\" must be"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "tenant", "update", slug, "--emergency-trunk", "no-such"), 4));
	cr_assert_not_null(strstr(err, "no trunk no-such"), "%s", err);
	free(out);
	free(err);
}

Test(emergency, emergency_trunk_routes_911_without_any_policy)
{
	char slug[32], trunk[40], *out, *err, *cid;
	const char *name = "Maximiliane Alexandra von Hohenzollern-Sigmaringen II";

	snprintf(slug, sizeof(slug), "%s", it_tenant("er"));
	snprintf(trunk, sizeof(trunk), "%s", it_name("em"));
	it_trunk_tenant(slug, trunk);
	cr_assert(eq(int, run(&out, &err, "-o", "json", "tenant", "update", slug, "--emergency-trunk",
			      trunk, "--emergency-callerid", "+4930555000"), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"emergency_trunk\": \""), "%s", out);
	cr_assert_not_null(strstr(out, "\"emergency_callerid\": \"+4930555000\""), "%s", out);
	free(out);
	free(err);
	/* the trunk is in use now */
	cr_assert(eq(int, run(&out, &err, "trunk", "delete", trunk), 5));
	cr_assert_not_null(strstr(err, "the emergency trunk of tenant"), "%s", err);
	free(out);
	free(err);
	/* the issue's 53-character display name */
	cr_assert(eq(int, run(&out, &err, "user", "create", "bea", "--tenant", slug, "--name", name),
		     0), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "device", "create", "bea", "desk", "--tenant", slug), 0),
		  "%s", err);
	free(out);
	free(err);
	/* validation passes (the caller ID no longer overflows), and the planned dialplan has
	 * 911 as an exact extension going out through the trunk with the emergency caller ID */
	cr_assert(eq(int, run(&out, &err, "apply", "--tenant", slug, "--dry-run"), 0), "%s%s", out,
		  err);
	cr_assert_not_null(strstr(out, "exten => 911,1,NoOp(emergency number 911"), "%s", out);
	cr_assert_not_null(strstr(out, "same => n,Set(CALLERID(num)=+4930555000)"), "%s", out);
	cr_assert_not_null(strstr(out, "same => n(em),Dial(PJSIP/911@"), "%s", out);
	free(out);
	free(err);
	cid = it_pg1("SELECT display_name FROM users WHERE username = 'bea' AND tenant_id = "
		     "(SELECT id FROM tenants WHERE slug = $1)", slug);
	cr_assert(eq(str, cid, (char *)name), "PostgreSQL keeps the whole name");
	free(cid);
}
