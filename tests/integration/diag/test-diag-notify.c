/* SPDX-License-Identifier: MIT */
/*
 * Webhooks against a small HTTP server (webhook-server.py): an apply's result is POSTed,
 * signed with HMAC-SHA256 (the server checks it), retried after a 500; a wrong secret is
 * seen as a bad signature; an unreachable webhook never fails the apply; bad
 * notify.webhooks entries in the config are refused with their location.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbx/apply.h"
#include "pbx/config.h"
#include "diag-itest.h"
#include "testenv.h"

static struct diag_env env;
static pid_t server = -1;
static char url[128];

static void setup(void)
{
	diag_env_setup(&env);
	diag_add_user(&env, "alice", 1);
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	diag_env_teardown(&env);
}

TestSuite(diag_notify, .init = setup, .fini = teardown, .timeout = 60);

static void start_server(int fail, const char *secret)
{
	const char *portfile = diag_path(&env, "hook.port");
	char port[16] = "", fails[8];
	FILE *f;

	snprintf(fails, sizeof(fails), "%d", fail);
	server = fork();
	cr_assert(server >= 0);
	if (server == 0) {
		execlp("python3", "python3", WEBHOOK_SERVER, portfile, diag_path(&env, "hook.log"),
		       fails, secret, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port[0]; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if ((f = fopen(portfile, "r"))) {
			if (!fgets(port, sizeof(port), f))
				port[0] = '\0';
			fclose(f);
		}
	}
	cr_assert(ne(int, port[0], 0), "the webhook server did not start");
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/hook", port);
}

static void use_webhook(const char *u, const char *events, const char *secret)
{
	env.cfg.webhooks = calloc(1, sizeof(*env.cfg.webhooks));
	env.cfg.webhooks[0] = (struct pbx_webhook){
		.url = strdup(u), .events = strdup(events), .secret = strdup(secret),
	};
	env.cfg.n_webhooks = 1;
}

static char *hook_log(void)
{
	FILE *f = fopen(diag_path(&env, "hook.log"), "r");
	char *buf = calloc(1, 65536);

	if (f) {
		if (fread(buf, 1, 65535, f) == 0)
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

static int apply(void)
{
	struct pbx_apply_opts o = { .tenant = env.slug };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	int r = pbx_apply(env.ctx, &o, &res, &err);

	pbx_apply_result_free(&res);
	return r;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(diag_notify, apply_result_is_signed_and_retried_after_a_500)
{
	char *log;

	start_server(1, "hook-secret");
	use_webhook(url, "apply", "hook-secret");
	cr_assert(eq(int, apply(), 0));
	log = hook_log();
	cr_assert(eq(int, count(log, "\n"), 2), "%s", log);
	cr_assert(strstr(log, "\"status\": 500") != NULL, "%s", log);
	cr_assert(strstr(log, "\"status\": 204") != NULL, "%s", log);
	cr_assert(eq(int, count(log, "\"sig_ok\": true"), 2), "%s", log);
	cr_assert(strstr(log, "\"event\": \"apply\"") != NULL, "%s", log);
	cr_assert(strstr(log, "\"status\": \"SUCCESS\"") != NULL, "%s", log);
	cr_assert(strstr(log, env.slug) != NULL, "%s", log);
	free(log);
}

Test(diag_notify, a_wrong_secret_fails_the_receivers_check)
{
	char *log;

	start_server(0, "hook-secret");
	use_webhook(url, "apply,device.unregistered", "not-the-secret");
	cr_assert(eq(int, apply(), 0));
	log = hook_log();
	cr_assert(eq(int, count(log, "\"sig_ok\": false"), 1), "%s", log);
	free(log);
}

Test(diag_notify, an_unreachable_webhook_never_fails_an_apply)
{
	use_webhook("http://127.0.0.1:9/nothing-listens", "*", "s");
	cr_assert(eq(int, apply(), 0));
}

Test(diag_notify, other_events_are_not_sent)
{
	char *log;

	start_server(0, "k");
	use_webhook(url, "trunk.registration", "k");
	cr_assert(eq(int, apply(), 0));
	log = hook_log();
	cr_assert(eq(str, log, ""));
	free(log);
}

Test(diag_notify, refuses_bad_webhook_entries)
{
	struct pbx_config c;
	pbx_diag d = PBX_DIAG_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_config_defaults(&c, &err), 0));
	cr_assert(eq(int, pbx_config_load_string(&c, "t.conf",
			"notify:\n  webhooks:\n    - url: ftp://x\n      events: apply\n", &d), PBX_EINVALID));
	cr_assert(strstr(d.items[0].message, "notify.webhooks.url") != NULL, "%s", d.items[0].message);
	cr_assert(eq(int, d.items[0].line, 3));
	pbx_diag_free(&d);
	cr_assert(eq(int, pbx_config_load_string(&c, "t.conf",
			"notify:\n  webhooks:\n    - url: http://x\n      events: apply,reboot\n", &d), PBX_EINVALID));
	cr_assert(strstr(d.items[0].message, "notify.webhooks.events") != NULL, "%s", d.items[0].message);
	pbx_diag_free(&d);
	cr_assert(eq(int, pbx_config_load_string(&c, "t.conf",
			"notify:\n  webhooks:\n    - url: https://hooks.example/x\n      events: apply, trunk.registration\n      secret: s\n", &d), 0));
	cr_assert(eq(sz, c.n_webhooks, 1));
	cr_assert(eq(str, c.webhooks[0].secret, "s"));
	pbx_config_free(&c);
}
