/* SPDX-License-Identifier: MIT */
/*
 * The built pbxctl against the real PostgreSQL: eight concurrent `user create` processes,
 * -o json on every user, device and secrets verb, the SIP secret absent from every output
 * but the one-time create and the audited reveal, the key file's life, exit statuses, and
 * completion of usernames and of a user's device labels.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbx/user.h"
#include "testenv.h"
#include "user-test.h"

TestSuite(user_cli, .init = ut_setup, .fini = ut_teardown);

/* The key file named by testenv_config_file(): next to it, not created. */
static const char *cli_key_path(void)
{
	static char path[300];
	const char *cfg = testenv_config_file();

	snprintf(path, sizeof(path), "%.*s/pbxctl.key", (int)(strrchr(cfg, '/') - cfg), cfg);
	return path;
}

static void cli_key_init(void)
{
	char *out, *err;

	cr_assert(eq(int, testenv_run(&out, &err, "secrets", "init", NULL), 0), "%s", err);
	free(out);
	free(err);
}

/* Copy the value of the first "secret": "..." of @json into @buf. */
static void json_secret(const char *json, char buf[64])
{
	const char *p = strstr(json, "\"secret\": \"");
	size_t n;

	cr_assert_not_null(p, "%s", json);
	p += strlen("\"secret\": \"");
	n = strcspn(p, "\"");
	cr_assert(lt(sz, n, 64));
	memcpy(buf, p, n);
	buf[n] = '\0';
}

Test(user_cli, eight_concurrent_creates_get_distinct_extensions)
{
	const char *bin = getenv("PBXCTL_BIN"), *cfg = testenv_config_file();
	struct pbx_user_filter f = { .sort = "extension" };
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	pid_t pids[8];
	int gate[2];
	char t[32], *next;

	ut_tenant(t, "conc", "1000-1999");
	cr_assert_not_null(bin);
	cr_assert(eq(int, pipe(gate), 0));
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		cr_assert(ge(int, pids[i], 0));
		if (pids[i] == 0) {
			char name[16], c;
			int null = open("/dev/null", O_WRONLY);

			snprintf(name, sizeof(name), "worker%d", i);
			close(gate[1]);
			/* Wait at the gate until the parent opens it for all eight at once. */
			if (read(gate[0], &c, 1) < 0)
				_exit(126);
			dup2(null, STDOUT_FILENO);
			unsetenv("PBXCTL_CONFIG");
			unsetenv("PBXCTL_TENANT");
			execl(bin, bin, "-c", cfg, "-t", t, "user", "create", name, (char *)NULL);
			_exit(127);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int i = 0; i < 8; i++) {
		int status = 0, ok;

		cr_assert(eq(int, waitpid(pids[i], &status, 0), pids[i]));
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		cr_assert(ok, "worker %d failed with status %d", i, status);
	}
	cr_assert(eq(int, pbx_user_list(ut_ctx, t, &f, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rows.n_rows, 8));
	for (size_t i = 0; i < rows.n_rows; i++) {
		char want[16];

		/* Sorted by extension, eight distinct ones leave no gap from 1000 up. */
		snprintf(want, sizeof(want), "%zu", 1000 + i);
		cr_assert(eq(str, (char *)pbx_rows_get(&rows, i, "extension"), want));
	}
	pbx_rows_free(&rows);
	next = ut_sql("SELECT ext_next::text FROM tenants WHERE slug = $1", t, NULL);
	cr_assert(eq(str, next, "1008"));
	free(next);
}

Test(user_cli, every_verb_speaks_json)
{
	static const char *const cmds[][8] = {
		{ "user", "create", "alice", "--voicemail", "--pin", "4821" },
		{ "user", "create", "bob", "--extension", "1500" },
		{ "user", "list" },
		{ "user", "list", "--search", "ali", "--sort", "username" },
		{ "user", "show", "alice" },
		{ "user", "update", "alice", "--name", "Alice L" },
		{ "user", "suspend", "alice" },
		{ "user", "resume", "alice" },
		{ "device", "create", "alice", "Desk" },
		{ "device", "list" },
		{ "device", "list", "alice" },
		{ "device", "show", "alice", "Desk" },
		{ "device", "update", "alice", "Desk", "--codecs", "g722,ulaw" },
		{ "device", "disable", "alice", "Desk" },
		{ "device", "enable", "alice", "Desk" },
		{ "device", "rotate-secret", "alice", "Desk" },
		{ "device", "show", "alice", "Desk", "--reveal-secret" },
		{ "device", "delete", "alice", "Desk" },
		{ "secrets", "verify" },
		{ "user", "delete", "bob" },
		{ "user", "restore", "bob" },
		{ "user", "delete", "bob", "--purge" },
	};
	char t[32];

	ut_tenant(t, "json", "1000-1999");
	cli_key_init();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *const *c = cmds[i];
		char *out, *err;
		int st;

		st = testenv_run(&out, &err, "-o", "json", "-t", t, c[0], c[1], c[2], c[3], c[4],
				 c[5], c[6], NULL);
		cr_assert(eq(int, st, 0), "%s %s: %s", c[0], c[1], err);
		cr_assert(out[0] == '{' || out[0] == '[', "%s %s: %s", c[0], c[1], out);
		if (strcmp(c[1], "list") && strcmp(c[1], "show") && strcmp(c[1], "verify"))
			cr_assert(not(eq(ptr, strstr(out, "\"changed\": true"), NULL)), "%s %s: %s",
				  c[0], c[1], out);
		if (c[4] && !strcmp(c[4], "--pin"))   /* a PIN on the command line is readable */
			cr_assert(eq(str, err, "pbxctl: warning: user create: --pin on the command line "
				     "can be read by other local users (ps, /proc); prefer --pin-file "
				     "FILE\n"));
		else
			cr_assert(eq(str, err, ""), "%s %s: stderr %s", c[0], c[1], err);
		free(out);
		free(err);
	}
}

/* Run a command and check that neither stream holds @needle. */
static void run_without(const char *needle, const char *what, const char *a0, const char *a1,
			const char *a2, const char *a3, const char *a4, const char *a5,
			const char *a6, const char *a7)
{
	char *out, *err;
	int st = testenv_run(&out, &err, a0, a1, a2, a3, a4, a5, a6, a7, NULL);

	cr_assert(eq(int, st, 0), "%s %s %s: %s", a3, a4, a5, err);
	cr_assert(eq(ptr, strstr(out, needle), NULL), "%s found in %s %s %s %s", what, a1, a3, a4,
		  a5);
	cr_assert(eq(ptr, strstr(err, needle), NULL), "%s found on stderr", what);
	free(out);
	free(err);
}

Test(user_cli, the_secret_is_absent_from_every_other_output)
{
	static const char *const formats[] = { "table", "json", "yaml", "tsv" };
	char t[32], secret[64], *out, *err, *sealed;

	ut_tenant(t, "absent", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cli_key_init();
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "-t", t, "device", "create",
				      "alice", "Desk", NULL), 0), "%s", err);
	json_secret(out, secret);
	cr_assert(ge(sz, strlen(secret), 20), "%s", out);
	free(out);
	free(err);
	sealed = ut_sql("SELECT secret_sealed FROM devices d JOIN tenants t ON t.id = d.tenant_id "
			"WHERE t.slug = $1", t, NULL);
	/* Writes that are not about the secret. */
	run_without(secret, "secret", "-o", "json", "-t", t, "device", "update", "alice", "Desk");
	run_without(secret, "secret", "-o", "json", "-t", t, "device", "disable", "alice", "Desk");
	run_without(secret, "secret", "-o", "json", "-t", t, "user", "update", "alice", "--dnd");
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *f = formats[i];

		run_without(secret, "secret", "-o", f, "-t", t, "device", "list", NULL, NULL);
		run_without(secret, "secret", "-o", f, "-t", t, "device", "list", "alice", NULL);
		run_without(secret, "secret", "-o", f, "-t", t, "device", "show", "alice", "Desk");
		run_without(sealed + 3, "sealed secret", "-o", f, "-t", t, "device", "show", "alice",
			    "Desk");
		run_without(secret, "secret", "-o", f, "-t", t, "user", "show", "alice", NULL);
		run_without(secret, "secret", "-o", f, "audit", "list", "--tenant", t, NULL, NULL);
		run_without(sealed + 3, "sealed secret", "-o", f, "audit", "list", "--tenant", t,
			    NULL, NULL);
	}
	run_without(secret, "secret", "-o", "json", "-t", t, "user", "delete", "alice", NULL);
	run_without(secret, "secret", "-o", "json", "audit", "list", "--tenant", t, "--limit",
		    "10000");
	free(sealed);
}

Test(user_cli, create_shows_the_secret_once_and_reveal_is_audited)
{
	char t[32], secret[64], *out, *err, *who;

	ut_tenant(t, "once", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cli_key_init();
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "device", "create", "alice", "Desk Phone",
				      NULL), 0), "%s", err);
	cr_assert(not(eq(ptr, strstr(err, "store this secret now; it will not be shown again"), NULL)),
		  "%s", err);
	/* The table shows "secret" and the value on one line. */
	cr_assert_not_null(strstr(out, "secret "), "%s", out);
	snprintf(secret, sizeof(secret), "%s", strstr(out, "secret ") + 7 + strspn(strstr(out, "secret ") + 7, " "));
	secret[strcspn(secret, "\n")] = '\0';
	cr_assert(eq(sz, strlen(secret), 24), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "device", "show", "alice", "Desk Phone",
				      NULL), 0));
	cr_assert(eq(ptr, strstr(out, secret), NULL));
	cr_assert_not_null(strstr(out, "********"));
	free(out);
	free(err);
	cr_assert(eq(long, ut_audit_count(t, "reveal"), 0));
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "-t", t, "device", "show", "alice",
				      "Desk Phone", "--reveal-secret", NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, secret), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(long, ut_audit_count(t, "reveal"), 1));
	who = ut_sql("SELECT actor || '|' || source FROM audit_log WHERE tenant = $1 "
		     "AND action = 'reveal'", t, NULL);
	cr_assert(not(eq(ptr, strchr(who, '@'), NULL)), "source user@host: %s", who);
	free(who);
}

Test(user_cli, a_missing_key_is_exit_4_and_writes_nothing)
{
	char t[32], *out, *err, *n;

	ut_tenant(t, "nokeycli", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "device", "create", "alice", "Desk",
				      NULL), 4));
	cr_assert(not(eq(ptr, strstr(err, "pbxctl secrets init"), NULL)), "%s", err);
	cr_assert(eq(str, out, ""));
	free(out);
	free(err);
	n = ut_sql("SELECT count(*) FROM devices d JOIN tenants t ON t.id = d.tenant_id "
		   "WHERE t.slug = $1", t, NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
	cr_assert(eq(long, ut_audit_count(t, NULL), 2), "tenant and user only");
}

Test(user_cli, secrets_init_makes_a_0600_key_and_never_overwrites)
{
	const char *key = cli_key_path();
	char *out, *err, before[128] = "", after[128] = "";
	struct stat st;
	FILE *f;

	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "secrets", "init", NULL), 0), "%s",
		  err);
	cr_assert_not_null(strstr(out, key), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, stat(key, &st), 0));
	cr_assert(eq(int, st.st_mode & 07777, 0600));
	f = fopen(key, "r");
	cr_assert(fgets(before, sizeof(before), f) != NULL);
	fclose(f);
	cr_assert(eq(int, testenv_run(&out, &err, "secrets", "init", NULL), 5));
	cr_assert_not_null(strstr(err, "already exists"), "%s", err);
	free(out);
	free(err);
	f = fopen(key, "r");
	cr_assert(fgets(after, sizeof(after), f) != NULL);
	fclose(f);
	cr_assert(eq(str, before, after));
	/* A key others can read is refused with a clear error, not used. */
	cr_assert(eq(int, chmod(key, 0644), 0));
	cr_assert(eq(int, testenv_run(&out, &err, "secrets", "verify", NULL), 6));
	cr_assert_not_null(strstr(err, "chmod 600"), "%s", err);
	free(out);
	free(err);
	/* Garbage in the key file: a clear error, never a crash. */
	cr_assert(eq(int, chmod(key, 0600), 0));
	f = fopen(key, "w");
	fputs("not a key\n", f);
	fclose(f);
	cr_assert(eq(int, testenv_run(&out, &err, "secrets", "verify", NULL), 3));
	cr_assert_not_null(strstr(err, "is not a pbxctl key"), "%s", err);
	free(out);
	free(err);
}

Test(user_cli, limits_and_refusals_have_their_exit_status)
{
	char t[32], label[16], *out, *err;

	ut_tenant(t, "limits", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cli_key_init();
	for (int i = 1; i <= 10; i++) {
		snprintf(label, sizeof(label), "Phone %d", i);
		cr_assert(eq(int, testenv_run(NULL, NULL, "-q", "-t", t, "device", "create", "alice",
					      label, NULL), 0));
	}
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "device", "create", "alice", "Phone 11",
				      NULL), 5));
	cr_assert_not_null(strstr(err, "already has 10 devices"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "-t", t, "device", "create",
				      "alice", "Phone 1", NULL), 5));
	cr_assert_not_null(strstr(err, "\"field\":\"label\""), "%s", err);
	cr_assert(eq(str, out, ""));
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "create", "bob", "--pin",
				      "1111", NULL), 3));
	cr_assert_not_null(strstr(err, "user bob: pin must not be all the same digit"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "create", "bob", "--extension",
				      "2000", NULL), 3));
	cr_assert_not_null(strstr(err, "is outside"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "create", "bob", "--pin", "4821",
				      "--pin-file", "-", NULL), 2));
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "create", "bob", "--dnd",
				      "--no-dnd", NULL), 2));
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "user", "list", NULL), 2), "no tenant");
	cr_assert_not_null(strstr(err, "a tenant is required"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "show", "nobody", NULL), 4));
	free(out);
	free(err);
}

Test(user_cli, the_pin_can_come_from_a_file_and_never_shows)
{
	char t[32], path[320], *out, *err;
	FILE *f;

	ut_tenant(t, "pinfile", "1000-1999");
	snprintf(path, sizeof(path), "%s.pin", cli_key_path());
	f = fopen(path, "w");
	fputs("480213\n", f);
	fclose(f);
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "-t", t, "user", "create", "alice",
				      "--voicemail", "--pin-file", path, NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"pin\": \"********\""), "%s", out);
	cr_assert(eq(ptr, strstr(out, "480213"), NULL));
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "audit", "list", "--tenant", t,
				      NULL), 0));
	cr_assert(eq(ptr, strstr(out, "480213"), NULL));
	cr_assert(eq(ptr, strstr(out, "argon2"), NULL));
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "update", "alice", "--no-pin",
				      "-o", "json", NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"pin\": null"), "%s", out);
	free(out);
	free(err);
	f = fopen(path, "w");
	fputs("1234\n", f);
	fclose(f);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", t, "user", "update", "alice", "--pin-file",
				      path, NULL), 3));
	free(out);
	free(err);
}

Test(user_cli, completion_lists_usernames_and_the_users_device_labels)
{
	char t[32], *out, *err;

	ut_tenant(t, "compl", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_user(t, "albert", NULL, NULL);
	ut_user(t, "bob", NULL, NULL);
	ut_device(t, "alice", "Desk Phone", NULL);
	ut_device(t, "alice", "Mobile", NULL);
	ut_device(t, "bob", "Softphone", NULL);
	cr_assert(eq(int, testenv_run(&out, &err, "__complete", "--", "-t", t, "user", "show", "al",
				      NULL), 0));
	cr_assert_not_null(strstr(out, "alice\t"), "%s", out);
	cr_assert_not_null(strstr(out, "albert\t"), "%s", out);
	cr_assert(eq(ptr, strstr(out, "bob"), NULL), "%s", out);
	cr_assert(eq(str, err, ""));
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "__complete", "--", "user", "show", "--tenant", t,
				      "", NULL), 0));
	cr_assert_not_null(strstr(out, "bob\t"), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "__complete", "--", "-t", t, "device", "show",
				      "alice", "", NULL), 0));
	cr_assert_not_null(strstr(out, "Desk Phone\t"), "%s", out);
	cr_assert_not_null(strstr(out, "Mobile\t"), "%s", out);
	cr_assert(eq(ptr, strstr(out, "Softphone"), NULL), "only alice's devices: %s", out);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "__complete", "--", "-t", t, "device", "show", "b",
				      NULL), 0));
	cr_assert_not_null(strstr(out, "bob\t"), "the first word of a device is its user: %s", out);
	free(out);
	free(err);
	/* No tenant, or an unknown one: nothing, silently. */
	cr_assert(eq(int, testenv_run(&out, &err, "__complete", "--", "-t", "no-such-tenant", "user",
				      "show", "", NULL), 0));
	cr_assert(eq(str, out, ":nofiles\n"));
	cr_assert(eq(str, err, ""));
	free(out);
	free(err);
}
