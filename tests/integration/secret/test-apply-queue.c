/* SPDX-License-Identifier: MIT */
/*
 * The apply queue end to end, each test on its own database with an AMI peer: an operator
 * without the private key queues its apply; `pbxctl apply worker` runs it (same pipeline,
 * the peer reloads and is verified); --wait follows it and exits with the apply's status,
 * --no-wait returns the request at once; a worker killed mid-job leaves a request the next
 * worker marks and repairs; bad input is refused with one line.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peerproc.h"
#include "privtest.h"

static struct privtest pt;

static void setup(void)
{
	pt_setup(&pt, true);
}

static void teardown(void)
{
	pt_teardown(&pt);
}

TestSuite(apply_queue, .init = setup, .fini = teardown, .timeout = 120);

static char *run(const char *conf, int want, const char *a0, const char *a1, const char *a2,
		 const char *a3, const char *a4, const char *a5, const char *a6)
{
	char *out = NULL, *err = NULL;
	int st = testenv_run_conf(conf, NULL, &out, &err, a0, a1, a2, a3, a4, a5, a6, NULL);

	cr_assert(eq(int, st, want), "pbxctl %s %s %s %s: exit %d: %s", a0, a1, a2, a3, st, err);
	free(err);
	return out;
}

/* A tenant with one user and device, made by the privileged side. */
static void tenant(const char *slug)
{
	free(run(pt.priv_conf, 0, "secrets", "init", NULL, NULL, NULL, NULL, NULL));
	free(run(pt.priv_conf, 0, "secrets", "publish", NULL, NULL, NULL, NULL, NULL));
	free(run(pt.priv_conf, 0, "tenant", "create", slug, "--extensions", "1000-1999", NULL,
		 NULL));
	/* apply refuses a tenant whose phones could not call an emergency number */
	free(pt_sql(&pt, "INSERT INTO trunks (tenant_id, name, host, auth, match) SELECT id, 'em', "
		    "'sip.emergency.example', 'ip_auth', ARRAY[$2]::text[] FROM tenants WHERE slug = $1 "
		    "RETURNING 'ok'", slug, testenv_unique_match(), NULL));
	free(pt_sql(&pt, "UPDATE tenants SET emergency_trunk_id = (SELECT k.id FROM trunks k "
		    "WHERE k.tenant_id = tenants.id AND k.name = $2) WHERE slug = $1 RETURNING 'ok'",
		    slug, "em", NULL));
	free(run(pt.priv_conf, 0, "-t", slug, "user", "create", "alice", NULL, NULL));
	free(run(pt.op_conf, 0, "-t", slug, "device", "create", "alice", "Desk", NULL));
}

/* The request id in a JSON envelope. */
static char *request_id(const char *json)
{
	const char *p = strstr(json, "\"id\": ");

	cr_assert_not_null(p, "%s", json);
	return strndup(p + 6, strspn(p + 6, "0123456789"));
}

static char *status_of(const char *id)
{
	return pt_sql(&pt, "SELECT status FROM apply_requests WHERE id = $1::bigint", id, NULL);
}

/* Start `pbxctl apply worker` in the background on the privileged config. */
static pid_t start_worker(void)
{
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		/* The worker itself, so that the test's SIGTERM reaches it; the config speaks. */
		unsetenv("PBXCTL_DATABASE_URL");
		execl(getenv("PBXCTL_BIN"), "pbxctl", "-q", "-c", pt.priv_conf, "apply", "worker",
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

Test(apply_queue, an_operator_queues_and_the_worker_runs_it)
{
	char *out, *id, *s, path[600];
	struct stat st;

	tenant("qa");
	out = run(pt.op_conf, 0, "-o", "json", "-t", "qa", "apply", "--no-wait", NULL);
	cr_assert_not_null(strstr(out, "\"status\": \"queued\""), "%s", out);
	id = request_id(out);
	free(out);
	s = pt_sql(&pt, "SELECT requested_by = session_user AND tenant = 'qa' FROM apply_requests "
			"WHERE id = $1::bigint", id, NULL);
	cr_assert(eq(str, s, "t"));
	free(s);
	/* Nothing is written until the worker runs it. */
	snprintf(path, sizeof(path), "%s/qa.conf", pt.site.peer.dialplan);
	cr_assert(ne(int, stat(path, &st), 0));
	free(run(pt.priv_conf, 0, "apply", "worker", "--once", NULL, NULL, NULL, NULL));
	s = status_of(id);
	cr_assert(eq(str, s, "done"));
	free(s);
	cr_assert(eq(int, stat(path, &st), 0), "%s was not written", path);
	cr_assert(ge(int, peer_count(&pt.site.peer, "Reload"), 1));
	out = run(pt.op_conf, 0, "-o", "json", "apply", "status", id, NULL, NULL);
	cr_assert_not_null(strstr(out, "\"code\": \"ok\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"job\": "), "%s", out);
	free(out);
	s = pt_sql(&pt, "SELECT j.status FROM apply_requests r JOIN apply_jobs j ON j.id = r.job_id "
			"WHERE r.id = $1::bigint", id, NULL);
	cr_assert(eq(str, s, "SUCCESS"));
	free(s);
	out = run(pt.op_conf, 0, "-o", "json", "apply", "requests", NULL, NULL, NULL);
	cr_assert_not_null(strstr(out, "\"status\": \"done\""), "%s", out);
	free(out);
	free(id);
}

Test(apply_queue, wait_follows_the_request_and_exits_with_the_apply_status)
{
	char *out = NULL, *err = NULL, *n;
	pid_t w;
	int st;

	tenant("qw");
	w = start_worker();
	/* --wait (the default) without a limit; the suite's timeout guards it. */
	st = testenv_run_conf(pt.op_conf, NULL, &out, &err, "-t", "qw", "apply", NULL);
	cr_assert(eq(int, st, 0), "%s", err);
	cr_assert_not_null(strstr(err, ": done"), "progress: %s", err);
	free(out);
	free(err);
	/* The worker's Asterisk goes away: the queued apply fails as a direct one would, 7. */
	peer_stop(&pt.site.peer);
	free(run(pt.priv_conf, 0, "-t", "qw", "user", "create", "bob", NULL, NULL));
	st = testenv_run_conf(pt.op_conf, NULL, &out, &err, "-t", "qw", "apply", "--wait", "30",
			      NULL);
	cr_assert(eq(int, st, 7), "%s", err);
	cr_assert_not_null(strstr(err, ": failed"), "%s", err);
	free(out);
	free(err);
	/* SIGTERM stops the worker cleanly, exit 0. */
	kill(w, SIGTERM);
	cr_assert(eq(int, waitpid(w, &st, 0), w));
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	cr_assert(eq(int, st, 0), "the worker ended with %d", st);
	n = pt_sql(&pt, "SELECT count(*) FROM apply_requests WHERE status IN ('queued', 'running')",
		   NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
}

Test(apply_queue, a_worker_killed_mid_job_is_repaired_by_the_next)
{
	char *out, *id, *s, *err = NULL;
	int st;

	tenant("qk");
	out = run(pt.op_conf, 0, "-o", "json", "-t", "qk", "apply", "--no-wait", NULL);
	id = request_id(out);
	free(out);
	st = testenv_run_conf(pt.priv_conf, "PBXCTL_TEST_WORKER_ABORT=running", NULL, &err,
			      "apply", "worker", "--once", NULL);
	cr_assert(eq(int, st, 99), "%s", err);
	free(err);
	s = status_of(id);
	cr_assert(eq(str, s, "running"));
	free(s);
	free(run(pt.priv_conf, 0, "apply", "worker", "--once", NULL, NULL, NULL, NULL));
	s = status_of(id);
	cr_assert(eq(str, s, "failed"));
	free(s);
	out = run(pt.op_conf, 0, "-o", "json", "apply", "status", id, NULL, NULL);
	cr_assert_not_null(strstr(out, "interrupted"), "%s", out);
	free(out);
	s = pt_sql(&pt, "SELECT status || ' ' || tenant FROM apply_requests WHERE repair_of = $1::bigint",
		   id, NULL);
	cr_assert(eq(str, s, "done qk"));
	free(s);
	free(id);
}

Test(apply_queue, bad_input_is_refused_with_one_line)
{
	char *out = NULL, *err = NULL, *n;
	pid_t w;
	int st;

	tenant("qb");
	st = testenv_run_conf(pt.op_conf, NULL, &out, &err, "apply", "status", "999999", NULL);
	cr_assert(eq(int, st, 4));
	cr_assert_not_null(strstr(err, "apply request 999999 does not exist"), "%s", err);
	free(out);
	free(err);
	st = testenv_run_conf(pt.op_conf, NULL, &out, &err, "-t", "nosuch", "apply", "--no-wait",
			      NULL);
	cr_assert(eq(int, st, 4), "%s", err);
	cr_assert_not_null(strstr(err, "tenant nosuch does not exist"), "%s", err);
	free(out);
	free(err);
	/* A worker without the private key, or without AMI credentials, does not start. */
	st = testenv_run_conf(pt.op_conf, NULL, &out, &err, "apply", "worker", "--once", NULL);
	cr_assert(eq(int, st, 4), "%s", err);
	cr_assert_not_null(strstr(err, "no-such.key"), "%s", err);
	free(out);
	free(err);
	{
		char conf[400], cmd[900];

		snprintf(conf, sizeof(conf), "%s/noami.conf", pt.site.dir);
		snprintf(cmd, sizeof(cmd), "sed '/^ami:/,$d' %s > %s", pt.priv_conf, conf);
		cr_assert(eq(int, system(cmd), 0));
		st = testenv_run_conf(conf, NULL, &out, &err, "apply", "worker", "--once", NULL);
		cr_assert(eq(int, st, 3), "%s", err);
		cr_assert_not_null(strstr(err, "ami.secret is not set"), "%s", err);
		free(out);
		free(err);
	}
	/* One worker at a time. */
	w = start_worker();
	for (int i = 0; i < 50; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		n = pt_sql(&pt, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
				"AND classid = 7242 AND objid = 3", NULL);
		if (!strcmp(n, "1")) {
			free(n);
			break;
		}
		free(n);
		nanosleep(&ts, NULL);
	}
	st = testenv_run_conf(pt.priv_conf, NULL, &out, &err, "apply", "worker", "--once", NULL);
	cr_assert(eq(int, st, 5), "%s", err);
	cr_assert_not_null(strstr(err, "another apply worker is running"), "%s", err);
	free(out);
	free(err);
	kill(w, SIGTERM);
	waitpid(w, NULL, 0);
	n = pt_sql(&pt, "SELECT count(*) FROM apply_requests", NULL);
	cr_assert(eq(str, n, "0"), "nothing was queued by the refused commands");
	free(n);
}

Test(apply_queue, a_bounded_wait_without_a_worker_is_busy_and_leaves_the_request_queued)
{
	char *out = NULL, *err = NULL, *n;
	int st;

	tenant("qt");
	st = testenv_run_conf(pt.op_conf, NULL, &out, &err, "-t", "qt", "apply", "--wait", "1",
			      NULL);
	cr_assert(eq(int, st, 5), "%s", err);
	cr_assert_not_null(strstr(err, "is still queued after 1 seconds"), "%s", err);
	free(out);
	free(err);
	n = pt_sql(&pt, "SELECT status FROM apply_requests", NULL);
	cr_assert(eq(str, n, "queued"));
	free(n);
	/* The partner: a worker drains it. */
	free(run(pt.priv_conf, 0, "apply", "worker", "--once", NULL, NULL, NULL, NULL));
	n = pt_sql(&pt, "SELECT status FROM apply_requests", NULL);
	cr_assert(eq(str, n, "done"));
	free(n);
}
