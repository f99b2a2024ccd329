/* SPDX-License-Identifier: MIT */
/*
 * The apply pipeline end to end: real PostgreSQL and MariaDB, the AMI peer reading the
 * generated dialplan directory as Asterisk does, and its failure modes.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/apply-queue.h"
#include "pbx/apply.h"
#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "apply-itest.h"
#include "testenv.h"

TestSuite(apply, .init = setup, .fini = teardown, .timeout = 60);

Test(apply, dry_run_then_apply_then_nothing_to_do)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char marker[80];
	char *text, *log;

	add_user("alice", 2);
	add_user("bob", 1);

	cr_assert(eq(int, run(true, &res, &err), 0), "%s", err.message);
	cr_assert(res.changed);
	cr_assert(not(eq(ptr, strstr(res.diff, "+same => n(ring),Dial(PJSIP/"), NULL)), "%s", res.diff);
	cr_assert(not(eq(ptr, strstr(res.diff, "ps_endpoints: +3"), NULL)), "%s", res.diff);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, access(path_in("dialplan"), F_OK), 0));
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/dialplan/%s.conf", dir, slug);
		cr_assert(eq(int, access(p, F_OK), -1), "dry run wrote %s", p);
		cr_assert(eq(sz, realtime_rows(), 0));

		cr_assert(eq(int, run(false, &res, &err), 0), "%s (%s)", err.message, err.detail);
		cr_assert(res.changed);
		cr_assert(res.reloaded);
		cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "SUCCESS"));
		snprintf(marker, sizeof(marker), "%s", pbx_rows_get(&res.job, 0, "marker"));
		pbx_apply_result_free(&res);
		text = testenv_read_file(p);
		cr_assert_not_null(text);
		/* alice's two devices ring together on one Dial */
		cr_assert(eq(int, count_in(text, "Dial(PJSIP/") - count_in(text, "@trunk-em-"), 2),
			  "%s", text);
		/* and each emergency number goes out through the emergency trunk */
		cr_assert(eq(int, count_in(text, "@trunk-em-"), 3), "%s", text);
		cr_assert(eq(int, count_in(text, "&PJSIP/"), 1), "%s", text);
		free(text);
	}
	cr_assert(eq(sz, realtime_rows(), 9));
	{
		char got[80];

		peer_marker(got, sizeof(got));
		cr_assert(eq(str, got, marker));
	}

	/* Nothing changed: no reload. */
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	cr_assert(not(res.changed));
	cr_assert(not(res.reloaded));
	pbx_apply_result_free(&res);
	log = testenv_read_file(path_in("log"));
	cr_assert(eq(int, count_in(log, "Reload Module=pbx_config"), 1), "%s", log);
	free(log);
}

Test(apply, disabled_device_loses_its_rows)
{
	struct pbx_apply_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	add_user("alice", 2);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(sz, realtime_rows(), 6));
	cr_assert(eq(int, pbx_device_set_enabled(ctx, slug, "alice", "phone 1", false, &rows,
						 &changed, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	cr_assert(res.changed);
	pbx_apply_result_free(&res);
	cr_assert(eq(sz, realtime_rows(), 3));
}

/* Asterisk refuses every reload: the rollback puts files and rows back but cannot prove the
 * old state loaded, so the apply ends FAILED with rollback_failed (exit 9). */
Test(apply, reload_refused_restores_files_and_rows_and_reports_rollback_failed)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char p[300];
	char *before, *after;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	snprintf(p, sizeof(p), "%s/dialplan/%s.conf", dir, slug);
	before = testenv_read_file(p);

	add_user("bob", 1);
	control("reload-error\n");
	cr_assert(eq(int, run(false, &res, &err), PBX_EROLLBACKFAILED), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, "backup"), NULL)), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "FAILED"));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "rollback_failed"), "true"));
	pbx_apply_result_free(&res);
	after = testenv_read_file(p);
	cr_assert(eq(str, after, before), "the file was not restored");
	cr_assert(eq(sz, realtime_rows(), 3), "bob's device rows were not rolled back");
	free(before);
	free(after);

	/* The cause gone, the next apply repairs everything. */
	control("");
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	cr_assert(res.changed);
	pbx_apply_result_free(&res);
	cr_assert(eq(sz, realtime_rows(), 6));
}

Test(apply, concurrent_apply_fails_fast_or_waits)
{
	PGconn *other = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	struct pbx_apply_opts o = { .tenant = slug };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	time_t t0;

	PQclear(PQexec(other, "SELECT pg_advisory_lock(7242, 2)"));
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), PBX_EBUSY));
	cr_assert(not(eq(ptr, strstr(err.message, "--wait"), NULL)));
	pbx_apply_result_free(&res);
	o.wait_seconds = 1;
	t0 = time(NULL);
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), PBX_EBUSY));
	cr_assert(ge(long, (long)(time(NULL) - t0), 1L));
	pbx_apply_result_free(&res);
	PQclear(PQexec(other, "SELECT pg_advisory_unlock(7242, 2)"));
	PQfinish(other);
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
}

Test(apply, invalid_state_is_refused_and_nothing_is_touched)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	const char *p[1] = { slug };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char path[300];
	PGresult *r;

	add_user("alice", 1);
	add_user("bob", 1);
	/*
	 * A device endpoint written behind pbxctl's back outside the tenant's prefix (a
	 * forward loop no longer is invalid state: forwards are call-time AstDB state, and
	 * the dialplan stops after PBX_DP_FORWARD_HOPS).
	 */
	r = PQexecParams(pg, "UPDATE devices d SET sip_username = 'zz' || d.sip_username "
			 "FROM tenants t WHERE t.id = d.tenant_id AND t.slug = $1",
			 1, NULL, p, NULL, NULL, 0);
	cr_assert(eq(int, PQresultStatus(r), PGRES_COMMAND_OK), "%s", PQerrorMessage(pg));
	PQclear(r);
	PQfinish(pg);
	cr_assert(eq(int, run(false, &res, &err), PBX_EINVALID));
	cr_assert(ge(sz, res.problems.n, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "FAILED"));
	pbx_apply_result_free(&res);
	snprintf(path, sizeof(path), "%s/dialplan/%s.conf", dir, slug);
	cr_assert(eq(int, access(path, F_OK), -1));
	cr_assert(eq(sz, realtime_rows(), 0));
}

Test(apply, suspended_tenant_refuses_every_call)
{
	struct pbx_apply_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char path[300];
	bool changed;
	char *text;

	add_user("alice", 1);
	cr_assert(eq(int, pbx_tenant_set_status(ctx, slug, "suspended", &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	snprintf(path, sizeof(path), "%s/dialplan/%s.conf", dir, slug);
	text = testenv_read_file(path);
	cr_assert(eq(int, count_in(text, "Dial("), 0), "%s", text);
	cr_assert(ge(int, count_in(text, "ss-noservice"), 1), "%s", text);
	free(text);
}

Test(apply, interrupted_apply_is_repaired_by_the_next)
{
	struct pbx_apply_opts o = { .tenant = slug };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	const char *conf;
	int status;
	pid_t child;

	add_user("alice", 1);
	/* A pbxctl apply killed while it waits for the reload answer. */
	conf = conf_file();
	control("slow Reload:5000\n");
	child = fork();
	if (child == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl(getenv("PBXCTL_BIN"), "pbxctl", "-c", conf, "apply", "--tenant", slug,
		      (char *)NULL);
		_exit(127);
	}
	wait_for_peer_log("Reload", 1);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	control("");

	/* PostgreSQL frees the killed session's lock when its backend notices the closed
	 * socket, a moment later: the next apply waits for it, as `apply --wait` does. */
	o.wait_seconds = 10;
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), 0), "%s", err.message);
	cr_assert(res.reloaded, "the next apply must reload and verify after an interrupted one");
	pbx_apply_result_free(&res);
	{
		struct pbx_rows jobs;

		cr_assert(eq(int, pbx_apply_jobs(ctx, "FAILED", slug, 10, &jobs, &err), 0));
		cr_assert(ge(sz, jobs.n_rows, 1));
		cr_assert(not(eq(ptr, strstr(pbx_rows_get(&jobs, 0, "error"), "interrupted"), NULL)));
		pbx_rows_free(&jobs);
	}
}

/* Asterisk answers Success to a reload that skipped a line (reload-bad-priority): the
 * context counts prove it, and the apply rolls back to the previous, complete state. */
static void rolled_back_by(const char *switches)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char p[300], before_marker[80], after_marker[80];
	char *before, *after;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	snprintf(p, sizeof(p), "%s/dialplan/%s.conf", dir, slug);
	before = testenv_read_file(p);
	peer_marker(before_marker, sizeof(before_marker));

	add_user("bob", 1);
	control(switches);
	cr_assert(eq(int, run(false, &res, &err), PBX_EROLLEDBACK), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "ROLLED_BACK"));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "rollback_failed"), "false"));
	pbx_apply_result_free(&res);
	after = testenv_read_file(p);
	cr_assert(eq(str, after, before), "the file was not restored");
	cr_assert(eq(sz, realtime_rows(), 3), "bob's device rows were not rolled back");
	peer_marker(after_marker, sizeof(after_marker));
	cr_assert(eq(str, after_marker, before_marker));
	free(before);
	free(after);

	control("");
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	cr_assert(res.changed);
	pbx_apply_result_free(&res);
	cr_assert(eq(sz, realtime_rows(), 6));
}

Test(apply, skipped_line_is_caught_by_counts_and_rolled_back)
{
	rolled_back_by("skip-line exten => 101,\n");
}

Test(apply, reload_that_keeps_the_old_dialplan_is_caught_by_the_marker)
{
	rolled_back_by("stale-reload\n");
}

Test(apply, connection_lost_during_reload_is_rolled_back_on_a_new_connection)
{
	rolled_back_by("drop-after Reload\n");
}

Test(apply, unreachable_asterisk_is_reported_before_anything_is_written)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char path[300];

	add_user("alice", 1);
	cfg.ami_port = 1;   /* nothing listens there */
	cr_assert(eq(int, run(false, &res, &err), PBX_EUNAVAILABLE), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, "unreachable"), NULL)), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "FAILED"));
	pbx_apply_result_free(&res);
	snprintf(path, sizeof(path), "%s/dialplan/%s.conf", dir, slug);
	cr_assert(eq(int, access(path, F_OK), -1), "a file was written");
	cr_assert(eq(sz, realtime_rows(), 0), "rows were written");
}

Test(apply, asterisk_without_voicemail_module_warns_but_applies)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char *log;

	add_user("alice", 1);
	control("not-loaded app_voicemail\n");
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "SUCCESS"));
	pbx_apply_result_free(&res);
	log = testenv_read_file(path_in("log"));
	cr_assert(eq(int, count_in(log, "Reload Module=app_voicemail"), 1), "%s", log);
	free(log);
}

/* Jobs and queued requests are listed by the same code: newest first, filtered by status
 * and (jobs) by tenant, an unknown status refused naming the field and what is allowed. */
Test(apply, job_and_request_listings_filter_by_status_and_refuse_an_unknown_one)
{
	struct pbx_apply_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, pbx_apply_jobs(ctx, "SUCCESS", slug, 5, &rows, &err), 0), "%s",
		  err.message);
	cr_assert(eq(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "tenant"), slug));
	cr_assert_not_null(pbx_rows_get(&rows, 0, "created_at"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_apply_jobs(ctx, "ROLLED_BACK", slug, 0, &rows, &err), 0), "%s",
		  err.message);
	cr_assert(eq(sz, rows.n_rows, 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_apply_requests(ctx, "done", 3, &rows, &err), 0), "%s", err.message);
	cr_assert(le(sz, rows.n_rows, 3));
	pbx_rows_free(&rows);

	cr_assert(eq(int, pbx_apply_jobs(ctx, "DONE", NULL, 0, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "status"));
	cr_assert(eq(str, err.message,
		     "status must be PENDING, RUNNING, SUCCESS, FAILED or ROLLED_BACK"));
	cr_assert(eq(int, pbx_apply_requests(ctx, "SUCCESS", 0, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, "apply request"));
	cr_assert(eq(str, err.message, "status must be queued, running, done or failed"));
}
