/* SPDX-License-Identifier: MIT */
/*
 * pbxctl import and export through the built binary: the round trip
 * `pbxctl export | pbxctl import --dry-run -` (one tenant with awkward values, and the
 * whole database), the -o json summary, every problem with file:line:column and exit 3,
 * --secrets-out (0600, never overwritten, credentials that work), export without secrets,
 * and no progress output in a pipe.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulk-itest.h"

static void setup(void)
{
	bi_setup();
	/* The key of the CLI's test configuration; it may exist from an earlier test. */
	bi_sh(NULL, NULL, "$P secrets init");
}

TestSuite(bulk_cli, .init = setup, .fini = bi_teardown);

/* A tenant whose values need care in YAML: words YAML reads as booleans or null, numbers
 * with leading zeros, colons, quotes, hashes and non-ASCII text. */
#define AWKWARD \
	"tenants:\n" \
	"- slug: %s\n" \
	"  name: \"no\"\n" \
	"  extensions: 100-899\n" \
	"  default_inbound: user:zoe\n" \
	"  status: suspended\n" \
	"  users:\n" \
	"  - username: zoe\n" \
	"    name: \"Zoë: the \\\"boss\\\" #1 ☎\"\n" \
	"    email: zoe@example.com\n" \
	"    outbound_callerid: \"0123\"\n" \
	"    voicemail: true\n" \
	"    dnd: true\n" \
	"    forward_to: \"+15551234567\"\n" \
	"    devices:\n" \
	"    - label: \"null\"\n" \
	"      transport: tcp\n" \
	"      force_rport: false\n" \
	"      rewrite_contact: false\n" \
	"      rtp_symmetric: false\n" \
	"      direct_media: true\n" \
	"      codecs: [g722, opus, alaw]\n" \
	"      enabled: false\n" \
	"    - label: \"- yes: [x]\"\n" \
	"  - username: o.k-2_\n" \
	"    name: \"~\"\n" \
	"    status: suspended\n" \
	"    extension: 899\n" \
	"    forward_to: 100\n"

static void import_file(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void import_file(const char *fmt, ...)
{
	char text[4096], *err = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rc = bi_sh(NULL, &err, "$P -q import %s", bi_file(text));
	cr_assert(eq(int, rc, 0), "import failed: %s", err);
	free(err);
}

Test(bulk_cli, export_into_import_dry_run_reports_no_change)
{
	char slug[32], *out = NULL, *err = NULL;
	int rc;

	bi_slug(slug, "round");
	import_file(AWKWARD, slug);
	rc = bi_sh(&out, &err, "$P export --tenant %s | $P -o json import --dry-run -", slug);
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"changed\": false"), "%s", out);
	cr_assert_not_null(strstr(out, "\"changes\": []"), "%s", out);
	free(out);
	free(err);
	/* The JSON form reads back the same way. */
	rc = bi_sh(&out, &err, "$P -o json export --tenant %s | $P -o json import --dry-run -", slug);
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"changed\": false"), "%s", out);
	free(out);
	free(err);
}

Test(bulk_cli, whole_database_export_into_import_dry_run_reports_no_change)
{
	char slug[32], *out = NULL, *err = NULL;
	int rc;

	bi_slug(slug, "whole");
	import_file(AWKWARD, slug);
	rc = bi_sh(&out, &err, "$P export | $P -o json import --dry-run -");
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"changed\": false"), "%s", out);
	free(out);
	free(err);
}

Test(bulk_cli, a_change_made_after_the_export_is_reported_by_the_dry_run)
{
	char slug[32], *out = NULL, *err = NULL;
	int rc;

	bi_slug(slug, "drift");
	import_file(AWKWARD, slug);
	rc = bi_sh(&out, &err, "$P export --tenant %s > /tmp/pbxctl-bi-drift-%d.yaml && "
		   "$P -q user update zoe --tenant %s --name Zed && "
		   "$P import --dry-run /tmp/pbxctl-bi-drift-%d.yaml; rm -f /tmp/pbxctl-bi-drift-%d.yaml",
		   slug, (int)getpid(), slug, (int)getpid(), (int)getpid());
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert_not_null(strstr(out, "update  user"), "%s", out);
	cr_assert_not_null(strstr(out, "would change"), "%s", out);
	free(out);
	free(err);
}

Test(bulk_cli, json_summary_says_changed_then_not_and_exits_0_both_times)
{
	char slug[32], text[4096], *out = NULL;
	const char *path;

	bi_slug(slug, "json");
	snprintf(text, sizeof(text), AWKWARD, slug);
	path = bi_file(text);
	cr_assert(eq(int, bi_sh(&out, NULL, "$P -o json import %s", path), 0));
	cr_assert_not_null(strstr(out, "\"changed\": true"), "%s", out);
	cr_assert_not_null(strstr(out, "\"action\": \"import\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"users_created\": 2"), "%s", out);
	cr_assert_not_null(strstr(out, "\"devices_created\": 2"), "%s", out);
	free(out);
	cr_assert(eq(int, bi_sh(&out, NULL, "$P -o json import %s", path), 0));
	cr_assert_not_null(strstr(out, "\"changed\": false"), "%s", out);
	cr_assert_not_null(strstr(out, "\"result\": \"nothing to change\""), "%s", out);
	free(out);
	unlink(path);
}

Test(bulk_cli, every_problem_is_listed_with_file_line_column_and_exit_3)
{
	char *out = NULL, *err = NULL, want[256];
	const char *path = bi_file("tenants:\n"
				   "- slug: acme\n"
				   "  extensions: 1000-1999\n"
				   "  users:\n"
				   "  - usrname: alice\n"
				   "  - username: bob\n"
				   "    extension: 2050\n"
				   "    dnd: maybe\n");
	int rc = bi_sh(&out, &err, "$P import %s", path);

	cr_assert(eq(int, rc, 3), "%s", err);
	cr_assert(eq(str, out, ""));
	snprintf(want, sizeof(want), "pbxctl: %s:5:5: tenants[0].users[0]: unknown key \"usrname\"; "
		 "did you mean \"username\"?\n", path);
	cr_assert_not_null(strstr(err, want), "%s", err);
	snprintf(want, sizeof(want), "pbxctl: %s:7:16: tenants[0].users[1].extension: 2050 is "
		 "outside acme's range 1000-1999\n", path);
	cr_assert_not_null(strstr(err, want), "%s", err);
	snprintf(want, sizeof(want), "pbxctl: %s:8:10: tenants[0].users[1].dnd: dnd must be true "
		 "or false\n", path);
	cr_assert_not_null(strstr(err, want), "%s", err);
	/* One line per problem (the missing username is one more). */
	{
		int lines = 0;

		for (const char *p = err; *p; p++)
			lines += *p == '\n';
		cr_assert(eq(int, lines, 4), "%s", err);
	}
	free(out);
	free(err);
	unlink(path);
}

Test(bulk_cli, problems_in_json_mode_are_one_json_object_per_line)
{
	char *out = NULL, *err = NULL;
	const char *path = bi_file("tenants:\n- slug: acme\n  colour: red\n  extensions: 1-2\n");
	int rc = bi_sh(&out, &err, "$P -o json import %s", path);

	cr_assert(eq(int, rc, 3));
	cr_assert(eq(str, out, ""));
	cr_assert(eq(int, strncmp(err, "{\"error\":{\"code\":\"invalid\",\"exit\":3", 35), 0), "%s", err);
	cr_assert_not_null(strstr(err, "\"line\":3"), "%s", err);
	cr_assert_not_null(strstr(strchr(err, '\n') + 1, "{\"error\":"), "%s", err);
	free(out);
	free(err);
	unlink(path);
}

Test(bulk_cli, dry_run_prints_one_line_per_change_and_writes_nothing)
{
	char slug[32], text[4096], *out = NULL, *n;

	bi_slug(slug, "plan");
	snprintf(text, sizeof(text), AWKWARD, slug);
	cr_assert(eq(int, bi_sh(&out, NULL, "$P import --dry-run %s", bi_file(text)), 0));
	cr_assert_not_null(strstr(out, "ACTION  ENTITY  TENANT"), "%s", out);
	cr_assert_not_null(strstr(out, "create  tenant"), "%s", out);
	cr_assert_not_null(strstr(out, "create  user"), "%s", out);
	cr_assert_not_null(strstr(out, "create  device"), "%s", out);
	cr_assert_not_null(strstr(out, "would change"), "%s", out);
	free(out);
	n = bi_sql("SELECT count(*) FROM tenants WHERE slug = $1", slug, NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
}

Test(bulk_cli, secrets_out_is_0600_and_holds_credentials_that_work)
{
	char slug[32], text[4096], secrets[128], *out = NULL, *err = NULL;
	char line[256], sip[64] = "", secret[64] = "";
	struct stat st;
	FILE *f;

	bi_slug(slug, "sec");
	snprintf(secrets, sizeof(secrets), "/tmp/pbxctl-bi-secrets-%d-%s.yaml", (int)getpid(), slug);
	unlink(secrets);
	snprintf(text, sizeof(text), AWKWARD, slug);
	cr_assert(eq(int, bi_sh(&out, &err, "$P -o json import %s --secrets-out %s", bi_file(text),
				secrets), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"secrets_written\": 2"), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, stat(secrets, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600));
	f = fopen(secrets, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (!sip[0] && sscanf(line, "  sip_username: %63s", sip) == 1)
			continue;
		else if (sip[0] && !secret[0])
			sscanf(line, "  secret: %63s", secret);
	fclose(f);
	/* YAML quotes a secret that starts with a digit; the quotes are not part of it. */
	if (secret[0] == '"' && strlen(secret) > 2) {
		memmove(secret, secret + 1, strlen(secret));
		secret[strlen(secret) - 1] = '\0';
	}
	cr_assert(eq(int, (int)strlen(secret), 24), "no secret in %s", secrets);
	/* The first device is zoe's "null": reveal it and compare. */
	cr_assert(eq(int, bi_sh(&out, &err, "$P -o json device show zoe null --tenant %s "
				"--reveal-secret", slug), 0), "%s", err);
	cr_assert_not_null(strstr(out, sip), "%s", out);
	cr_assert_not_null(strstr(out, secret), "the file's secret is not the device's");
	free(out);
	free(err);
	unlink(secrets);
}

Test(bulk_cli, an_existing_secrets_file_is_never_overwritten_and_nothing_is_written)
{
	char slug[32], text[4096], *out = NULL, *err = NULL, *n, *path;
	int rc;

	bi_slug(slug, "secx");
	path = strdup(bi_file("precious\n"));
	snprintf(text, sizeof(text), AWKWARD, slug);
	rc = bi_sh(&out, &err, "$P import %s --secrets-out %s", bi_file(text), path);
	cr_assert(eq(int, rc, 5), "%s", err);
	cr_assert_not_null(strstr(err, "never overwrites"), "%s", err);
	free(out);
	free(err);
	n = bi_sql("SELECT count(*) FROM tenants WHERE slug = $1", slug, NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
	{
		FILE *f = fopen(path, "r");
		char buf[32] = "";

		cr_assert_not_null(f);
		cr_assert_not_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		cr_assert(eq(str, buf, "precious\n"));
	}
	unlink(path);
	free(path);
}

Test(bulk_cli, nothing_new_leaves_the_secrets_file_alone)
{
	char slug[32], text[4096], secrets[128], *err = NULL;
	const char *path;

	bi_slug(slug, "secn");
	snprintf(secrets, sizeof(secrets), "/tmp/pbxctl-bi-secn-%d.yaml", (int)getpid());
	unlink(secrets);
	snprintf(text, sizeof(text), AWKWARD, slug);
	path = bi_file(text);
	cr_assert(eq(int, bi_sh(NULL, &err, "$P -q import %s --secrets-out %s", path, secrets), 0),
		  "%s", err);
	free(err);
	/* Same file, same option: nothing new, so the existing file is no obstacle. */
	cr_assert(eq(int, bi_sh(NULL, &err, "$P -q import %s --secrets-out %s", path, secrets), 0),
		  "%s", err);
	free(err);
	unlink(secrets);
}

Test(bulk_cli, export_never_prints_secrets_or_pins)
{
	char slug[32], *out = NULL;

	bi_slug(slug, "nosec");
	import_file("tenants:\n- slug: %s\n  extensions: 100-199\n  users:\n"
		    "  - username: a\n    pin: \"80417\"\n    devices:\n    - label: desk\n", slug);
	cr_assert(eq(int, bi_sh(&out, NULL, "$P export --tenant %s", slug), 0));
	cr_assert_null(strstr(out, "secret"), "%s", out);
	cr_assert_null(strstr(out, "pin"), "%s", out);
	cr_assert_null(strstr(out, "v2:"), "%s", out);
	cr_assert_null(strstr(out, "argon2"), "%s", out);
	cr_assert_not_null(strstr(out, "label: desk"), "%s", out);
	free(out);
}

Test(bulk_cli, no_progress_bar_in_a_pipe)
{
	char slug[32], secrets[128], *out = NULL, *err = NULL;
	size_t cap = 1 << 20, n;
	char *text = malloc(cap);

	bi_slug(slug, "pipe");
	n = (size_t)snprintf(text, cap, "tenants:\n- slug: %s\n  extensions: 1000-9999\n  users:\n",
			     slug);
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, cap - n, "  - username: u%d\n    devices:\n"
				      "    - label: desk\n    - label: soft\n", i);
	snprintf(secrets, sizeof(secrets), "/tmp/pbxctl-bi-pipe-%d.yaml", (int)getpid());
	unlink(secrets);
	cr_assert(eq(int, bi_sh(&out, &err, "$P import %s --secrets-out %s", bi_file(text),
				secrets), 0));
	cr_assert(eq(str, err, ""), "stderr in a pipe: %s", err);
	{
		const char *line = strstr(out, "users_created ");

		cr_assert_not_null(line, "%s", out);
		line += strspn(line + 13, " ") + 13;
		cr_assert(eq(int, strncmp(line, "1000\n", 5), 0), "%s", out);
	}
	free(out);
	free(err);
	free(text);
	unlink(secrets);
}

Test(bulk_cli, a_progress_bar_on_a_terminal)
{
	char slug[32], secrets[128], *out = NULL;
	size_t cap = 1 << 20, n;
	char *text = malloc(cap);

	bi_slug(slug, "tty");
	n = (size_t)snprintf(text, cap, "tenants:\n- slug: %s\n  extensions: 1000-9999\n  users:\n",
			     slug);
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, cap - n, "  - username: u%d\n    devices:\n"
				      "    - label: desk\n    - label: soft\n", i);
	snprintf(secrets, sizeof(secrets), "/tmp/pbxctl-bi-tty-%d.yaml", (int)getpid());
	unlink(secrets);
	/* script(1) runs the import on a pseudo-terminal and copies what it drew. */
	cr_assert(eq(int, bi_sh(&out, NULL, "script -qec \"$P import %s --secrets-out %s\" "
				"/dev/null", bi_file(text), secrets), 0));
	cr_assert_not_null(strstr(out, "writing  ["), "no progress bar: %s", out);
	cr_assert_not_null(strstr(out, "100%"), "%s", out);
	free(out);
	free(text);
	unlink(secrets);
}

Test(bulk_cli, missing_file_unknown_tenant_and_bad_options_have_their_exit_status)
{
	char *err = NULL;

	cr_assert(eq(int, bi_sh(NULL, NULL, "$P import /nonexistent/x.yaml"), 4));
	cr_assert(eq(int, bi_sh(NULL, NULL, "$P export --tenant no-such-tenant-x"), 4));
	cr_assert(eq(int, bi_sh(NULL, &err, "$P import --prun x.yaml"), 2));
	cr_assert_not_null(strstr(err, "did you mean '--prune'"), "%s", err);
	free(err);
	cr_assert(eq(int, bi_sh(NULL, NULL, "$P -o tsv export"), 2));
}

/* As `pbxctl policy create` does, import warns when a policy blocks an emergency number
 * (apply will refuse it); a policy that allows them draws no warning. */
Test(bulk_cli, policy_blocking_an_emergency_number_is_warned_about)
{
	char slug[32], text[2048], *out = NULL, *err = NULL;

	bi_slug(slug, "emerg");
	snprintf(text, sizeof(text),
		 "tenants:\n- slug: %s\n  extensions: 100-199\n  policies:\n"
		 "  - name: nothing\n    rules:\n    - pattern: \"^.*$\"\n      action: block\n", slug);
	cr_assert(eq(int, bi_sh(&out, &err, "$P import %s", bi_file(text)), 0), "%s", err);
	cr_assert_not_null(strstr(err, "blocks the emergency number 112"), "%s", err);
	free(out);
	free(err);
	bi_slug(slug, "emok");
	snprintf(text, sizeof(text),
		 "trunks:\n- name: tr-%s\n  host: sip.example.com\n  auth: ip_auth\n  match: [192.0.2.1]\n"
		 "tenants:\n- slug: %s\n  extensions: 100-199\n  policies:\n"
		 "  - name: sos\n    rules:\n    - pattern: \"^(911|112|999)$\"\n      action: allow\n"
		 "      trunks: [tr-%s]\n", slug, slug, slug);
	cr_assert(eq(int, bi_sh(&out, &err, "$P import %s", bi_file(text)), 0), "%s", err);
	cr_assert(eq(ptr, strstr(err, "emergency"), NULL), "%s", err);
	free(out);
	free(err);
}
