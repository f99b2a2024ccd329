/* SPDX-License-Identifier: MIT */
/*
 * The did, trunk and policy commands through the built pbxctl: -o json envelopes and
 * objects, the exit statuses of refused input (3), missing objects (4) and conflicts (5),
 * `policy test` output, the secret only ever printed by an audited reveal, `tenant update
 * --default-policy`, and completion of DID numbers, trunk names and policy names.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/secret.h"
#include "routing-itest.h"
#include "testenv.h"

static char slug[32], num[24], trunk[40];

static void setup(void)
{
	it_setup();
	it_cli_key();
	snprintf(slug, sizeof(slug), "%s", it_tenant("xc"));
	snprintf(num, sizeof(num), "+49303%05d001", (int)getpid() % 100000);
	snprintf(trunk, sizeof(trunk), "%s", it_name("cli"));
}

TestSuite(routing_cli, .init = setup, .fini = it_teardown, .timeout = 60);

/* testenv_run with the terminating NULL added; extra NULLs end the list early. */
#define run(out, err, ...) testenv_run(out, err, __VA_ARGS__, (char *)NULL)

Test(routing_cli, did_json_envelope_and_exit_statuses)
{
	char *out, *err;

	it_user(slug, "alice", 0);
	cr_assert(eq(int, run(&out, &err, "-o", "json", "did", "create", num, "--tenant", slug,
			      "--destination", "user:alice"), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"changed\": true"), "%s", out);
	cr_assert_not_null(strstr(out, "\"action\": \"create\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"destination\": \"user:alice\""), "%s", out);
	free(out);
	free(err);
	/* the same number again: conflict */
	cr_assert(eq(int, run(&out, &err, "-o", "json", "did", "create", num, "--tenant", slug,
			      NULL, NULL), 5));
	cr_assert(eq(str, out, ""), "stdout stays empty on error");
	cr_assert_not_null(strstr(err, "\"code\":\"conflict\""), "%s", err);
	free(out);
	free(err);
	/* a destination of nobody: invalid input */
	cr_assert(eq(int, run(&out, &err, "did", "update", num, "--destination", "user:nobody",
			      NULL, NULL, NULL, NULL), 3));
	cr_assert_not_null(strstr(err, "has no user nobody"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "did", "show", "+4930000000000", NULL, NULL, NULL, NULL,
			      NULL), 4));
	free(out);
	free(err);
	/* completion offers the number */
	cr_assert(eq(int, run(&out, &err, "__complete", "--", "did", "show", "+49303", NULL, NULL,
			      NULL), 0));
	cr_assert_not_null(strstr(out, num), "%s", out);
	cr_assert_not_null(strstr(out, ":nofiles"));
	free(out);
	free(err);
}

Test(routing_cli, trunk_secret_only_by_reveal_and_completion)
{
	char *out, *err, path[] = "/tmp/pbxctl-secret-XXXXXX";
	int fd = mkstemp(path);

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(long, (long)write(fd, "t0p-s3cret\n", 11), 11L));
	close(fd);
	cr_assert(eq(int, testenv_run(&out, &err, "trunk", "create", trunk, "--tenant", slug,
				      "--host", "sip.example.net", "--auth", "registration",
				      "--username", "me", "--secret-file", path, (char *)NULL), 0),
		  "%s", err);
	unlink(path);
	cr_assert_null(strstr(out, "t0p-s3cret"));
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "-o", "json", "trunk", "show", trunk, NULL, NULL, NULL,
			      NULL), 0));
	cr_assert_not_null(strstr(out, "\"secret\": \"********\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"match\": []"), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "-o", "json", "trunk", "show", trunk, "--reveal-secret",
			      NULL, NULL, NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"secret\": \"t0p-s3cret\""), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "trunk", "create", "x", "--global", "--host", "h",
			      "--auth", "carrier-pigeon", NULL), 2), "an unknown auth is a usage error");
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "__complete", "--", "trunk", "show", "", NULL, NULL,
			      NULL), 0));
	cr_assert_not_null(strstr(out, trunk), "%s", out);
	free(out);
	free(err);
}

Test(routing_cli, policy_test_prints_rule_rewrite_and_trunk_order)
{
	char *out, *err;

	it_trunk_global(trunk);
	cr_assert(eq(int, run(&out, &err, "-t", slug, "policy", "create", "national", NULL, NULL,
			      NULL, NULL), 0), "%s", err);
	cr_assert_not_null(strstr(err, "warning: policy national of tenant"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", slug, "policy", "add-rule", "national",
				      "--pattern", "^0[1-9][0-9]{6,10}$", "--allow", "--trunks", trunk,
				      "--strip", "1", "--prepend", "+49", (char *)NULL), 0), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "-t", slug, "-o", "json", "policy", "test", "national",
			      "030123456", NULL, NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"result\": \"allowed\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"rule\": 1"), "%s", out);
	cr_assert_not_null(strstr(out, "\"dial\": \"+4930123456\""), "%s", out);
	cr_assert_not_null(strstr(out, trunk), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "-t", slug, "policy", "test", "national", "00441632960000",
			      NULL, NULL, NULL), 0));
	cr_assert_not_null(strstr(out, "blocked"), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", slug, "policy", "add-rule", "national",
				      "--pattern", "^0\\+1", "--block", (char *)NULL), 3));
	cr_assert_not_null(strstr(err, "backslashes are not allowed"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "tenant", "update", slug, "--default-policy", "national",
			      NULL, NULL, NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "national"));
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "tenant", "update", slug, "--default-policy", "nope",
			      NULL, NULL, NULL), 4));
	free(out);
	free(err);
	cr_assert(eq(int, run(&out, &err, "__complete", "--", "-t", slug, "policy", "show", "na",
			      NULL), 0));
	cr_assert_not_null(strstr(out, "national\t"), "%s", out);
	free(out);
	free(err);
}
