/* SPDX-License-Identifier: MIT */
/*
 * A phone's feature code reaches PostgreSQL and the audit log within 5 seconds through the
 * apply worker's (or a platform admin's diag watch's) AMI session, the peer playing the
 * recorded UserEvent; and an import's PINs get the *98 verifier `user update --pin` makes.
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

Test(me, a_phone_change_reaches_postgresql_and_the_audit_log_within_5_seconds)
{
	char want[160];

	alice();
	domestic_policy();
	start_worker();
	/* the worker's event session is up once the peer saw its Ping */
	for (int i = 0; i < 100 && peer_count(&peer, "Ping") == 0; i++)
		usleep(50 * 1000);
	/* What *78 did: Set(DB(pbxctl/<slug>/1000/dnd)=1), then the UserEvent. */
	astdb_put("dnd", "1");
	inject_event("dnd", "1");
	cr_assert(eventually("SELECT u.dnd::text FROM users u JOIN tenants t ON t.id = u.tenant_id "
			     "WHERE t.slug = $1 AND u.username = 'alice'", "true", 5000),
		  "the phone's DND did not reach PostgreSQL within 5 s");
	snprintf(want, sizeof(want), "%s/alice|phone t1", slug);
	expect_sql("SELECT actor || '|' || source FROM audit_log WHERE tenant = $1 "
		   "ORDER BY id DESC LIMIT 1", want);
	/* *72 to a number the policy blocks: refused, and AstDB gets PostgreSQL's back. */
	astdb_put("forward", "+442071234567");
	inject_event("forward", "+442071234567");
	for (int i = 0; i < 50; i++) {
		char *v = astdb("forward");
		bool gone = v == NULL;

		free(v);
		if (gone)
			break;
		usleep(100 * 1000);
	}
	{
		char *v = astdb("forward");

		cr_assert_null(v, "the blocked forward stayed in AstDB: %s", v);
	}
	expect_sql(ALICE_FORWARD, "none");
	cr_assert(eq(int, peer_count(&peer, "Reload"), 0));
}

/* `pbxctl diag watch` in the background on @conf (its rows to /dev/null). */
static pid_t start_watch(const char *conf)
{
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		unsetenv("PBXCTL_DATABASE_URL");
		execl(getenv("PBXCTL_BIN"), "pbxctl", "-q", "-c", conf, "diag", "watch", (char *)NULL);
		_exit(127);
	}
	return pid;
}

Test(me, a_platform_admins_diag_watch_takes_the_phones_change_too)
{
	const char *dnd = "SELECT u.dnd::text FROM users u JOIN tenants t ON t.id = u.tenant_id "
			  "WHERE t.slug = $1 AND u.username = 'alice'";
	int pings;
	pid_t pid;

	alice();
	/* A watch without the private key (op.conf) only shows the event. */
	pid = start_watch(pt.op_conf);
	for (int i = 0; i < 100 && peer_count(&peer, "Ping") == 0; i++)
		usleep(50 * 1000);
	astdb_put("dnd", "1");
	inject_event("dnd", "1");
	cr_assert(not(eventually(dnd, "true", 1500)), "an unprivileged watch wrote PostgreSQL");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	pings = peer_count(&peer, "Ping");
	pid = start_watch(pt.priv_conf);
	for (int i = 0; i < 100 && peer_count(&peer, "Ping") <= pings + 1; i++)
		usleep(50 * 1000);
	inject_event("dnd", "1");
	cr_assert(eventually(dnd, "true", 5000), "the admin's watch did not take the change");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* ---- bulk import: the *98 verifier of imported PINs ------------------------------ */

Test(me, imported_pins_get_their_star98_verifier)
{
	char *out, *err, *sealed, *v = NULL, doc[512];
	pbx_error e = PBX_ERROR_INIT;

	snprintf(doc, sizeof(doc), "tenants:\n- slug: %s\n  users:\n  - username: bob\n"
		 "    extension: 1001\n    voicemail: true\n    pin: \"80417\"\n", slug);
	write_text(pt_path(&pt, "import.yaml"), doc);
	cr_assert(eq(int, testenv_run_conf(pt.priv_conf, NULL, &out, &err, "import",
					   pt_path(&pt, "import.yaml"), NULL), 0), "%s", err);
	free(out);
	free(err);
	sealed = sql("SELECT coalesce(u.vm_pin_verifier_sealed, '') FROM users u JOIN tenants t "
		     "ON t.id = u.tenant_id WHERE t.slug = $1 AND u.username = 'bob'");
	cr_assert(gt(sz, strlen(sealed), 0), "no verifier after import");
	{
		pbx_secret_key *key;

		cr_assert(eq(int, pbx_secret_key_load(pt.key, &key, &e), 0), "%s", e.message);
		cr_assert(eq(int, pbx_secret_open(key, sealed, &v, &e), 0), "%s", e.message);
		pbx_secret_key_free(key);
	}
	cr_assert(pbx_secret_pin_verifier_matches(v, "80417"));
	cr_assert(not(pbx_secret_pin_verifier_matches(v, "80418")));
	pbx_secret_free_str(v);
	free(sealed);
	/* A PIN that breaks the rules is refused, and nothing changes. */
	snprintf(doc, sizeof(doc), "tenants:\n- slug: %s\n  users:\n  - username: bob\n"
		 "    pin: \"1234\"\n", slug);
	write_text(pt_path(&pt, "import.yaml"), doc);
	sealed = sql("SELECT u.vm_pin_verifier_sealed FROM users u JOIN tenants t "
		     "ON t.id = u.tenant_id WHERE t.slug = $1 AND u.username = 'bob'");
	cr_assert(eq(int, testenv_run_conf(pt.priv_conf, NULL, &out, &err, "import",
					   pt_path(&pt, "import.yaml"), NULL), 3), "%s", out);
	cr_assert_not_null(strstr(err, "run like 1234"), "%s", err);
	free(out);
	free(err);
	expect_sql("SELECT u.vm_pin_verifier_sealed FROM users u JOIN tenants t "
		   "ON t.id = u.tenant_id WHERE t.slug = $1 AND u.username = 'bob'", sealed);
	free(sealed);
}
