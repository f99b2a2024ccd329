/* SPDX-License-Identifier: MIT */
/*
 * diag health and diag metrics against the real services and the AMI peer: all checks pass
 * after an apply (exit 0), a stopped Asterisk and a dropped context fail theirs (exit 1),
 * metrics count registered devices per tenant, and wrong arguments are refused.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/diag.h"
#include "diag-itest.h"
#include "testenv.h"

static struct diag_env env;

static void setup(void)
{
	struct pbx_apply_opts o = { 0 };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	diag_env_setup(&env);
	free(env.cfg.voicemail_spool);
	env.cfg.voicemail_spool = strdup(env.site.dir);
	setenv("PBXCTL_ASTERISK_VOICEMAIL_SPOOL", env.site.dir, 1);
	diag_add_user(&env, "alice", 2);
	o.tenant = env.slug;
	cr_assert(eq(int, pbx_apply(env.ctx, &o, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
}

static void teardown(void)
{
	diag_env_teardown(&env);
}

TestSuite(diag_health, .init = setup, .fini = teardown, .timeout = 60);

static const char *status_of(const struct pbx_rows *rows, const char *check)
{
	for (size_t i = 0; i < rows->n_rows; i++)
		if (!strcmp(pbx_rows_get(rows, i, "check"), check))
			return pbx_rows_get(rows, i, "status");
	cr_fatal("no check %s", check);
	return NULL;
}

Test(diag_health, every_check_passes_after_an_apply)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool healthy = false;
	char *out = NULL, *errs = NULL;

	cr_assert(eq(int, pbx_diag_health(env.ctx, env.slug, &rows, &healthy, &err), 0), "%s", err.message);
	for (size_t i = 0; i < rows.n_rows; i++)
		cr_assert(eq(str, (char *)pbx_rows_get(&rows, i, "status"), "ok"), "%s: %s",
			  pbx_rows_get(&rows, i, "check"), pbx_rows_get(&rows, i, "detail"));
	cr_assert(healthy);
	cr_assert(eq(sz, rows.n_rows, 9));
	pbx_rows_free(&rows);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "health", "--tenant", env.slug, "-o", "json", NULL), 0), "%s%s",
		  out, errs);
	cr_assert(strstr(out, "\"check\": \"asterisk_booted\"") != NULL, "%s", out);
	cr_assert(strstr(out, "\"latency_ms\": ") != NULL, "%s", out);
	free(out);
	free(errs);
}

Test(diag_health, a_dropped_context_and_a_stopped_asterisk_fail)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool healthy = true;
	char *out = NULL, *errs = NULL;

	peer_control(&env.site.peer, "skip-line Hangup\n");
	{
		struct pbx_ami_config ac = peer_config(&env.site.peer, 2000);
		pbx_ami *ami;

		cr_assert(eq(int, pbx_ami_connect(&ac, &ami, &err), 0), "%s", err.message);
		cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
		pbx_ami_close(ami);
	}
	cr_assert(eq(int, pbx_diag_health(env.ctx, env.slug, &rows, &healthy, &err), 0), "%s", err.message);
	cr_assert(not(healthy));
	cr_assert(eq(str, (char *)status_of(&rows, "dialplan"), "fail"));
	cr_assert(eq(str, (char *)status_of(&rows, "postgresql"), "ok"));
	pbx_rows_free(&rows);
	peer_stop(&env.site.peer);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "health", "--tenant", env.slug, NULL), 1), "%s%s", out, errs);
	cr_assert(strstr(out, "ami_login") != NULL, "%s", out);
	cr_assert(strstr(out, "fail") != NULL, "%s", out);
	free(out);
	free(errs);
}

Test(diag_health, metrics_count_devices_per_tenant_and_checks)
{
	const char *id = diag_sip_username(&env, "alice", "phone 0");
	char line[512], want[256];
	char *out = NULL, *errs = NULL;

	snprintf(line, sizeof(line), "%s sip:%s@192.0.2.1 NonQualified N/A exp=%lld x\n", id, id,
		 (long long)time(NULL) + 50);
	write_text(env.site.peer.contacts, line);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "metrics", "--tenant", env.slug, NULL), 0), "%s", errs);
	snprintf(want, sizeof(want), "pbxctl_devices{tenant=\"%s\",state=\"registered\"} 1\n", env.slug);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof(want), "pbxctl_devices{tenant=\"%s\",state=\"unregistered\"} 1\n", env.slug);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	cr_assert(strstr(out, "# TYPE pbxctl_devices gauge\n") != NULL, "%s", out);
	cr_assert(strstr(out, "pbxctl_check_up{check=\"postgresql\"} 1\n") != NULL, "%s", out);
	cr_assert(strstr(out, "pbxctl_last_apply_success 1\n") != NULL, "%s", out);
	cr_assert(strstr(out, "pbxctl_healthy 1\n") != NULL, "%s", out);
	free(out);
	free(errs);
}

Test(diag_health, refuses_arguments_it_does_not_take)
{
	char *out = NULL, *errs = NULL;

	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "health", "extra", NULL), 2));
	cr_assert(eq(str, out, ""));
	free(out);
	free(errs);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "metrics", "--state", "x", NULL), 2));
	free(out);
	free(errs);
}
