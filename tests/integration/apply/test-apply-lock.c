/* SPDX-License-Identifier: MIT */
/*
 * The apply lock cannot be lost silently: a pbxctl apply whose lock connection is terminated
 * (pg_terminate_backend from another session) while Asterisk is slow to answer the reload
 * stops, rolls files and rows back, and the next apply runs normally.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbx/apply.h"
#include "apply-itest.h"
#include "testenv.h"

TestSuite(apply_lock, .init = setup, .fini = teardown, .timeout = 90);

/* Terminate the backend holding the apply lock; how many were terminated. */
static int terminate_lock_holder(void)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	PGresult *res;
	int n;

	cr_assert(eq(int, PQstatus(pg), CONNECTION_OK), "%s", PQerrorMessage(pg));
	res = PQexec(pg, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
			 "AND classid = 7242 AND objid = 2 AND objsubid = 2 AND granted");
	cr_assert(eq(int, PQresultStatus(res), PGRES_TUPLES_OK), "%s", PQerrorMessage(pg));
	n = PQntuples(res);
	PQclear(res);
	PQfinish(pg);
	return n;
}

Test(apply_lock, lost_lock_connection_stops_and_rolls_back)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char p[300], before_marker[80], after_marker[80];
	char *before, *after, *errtext;
	const char *conf;
	int status;
	pid_t child;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	snprintf(p, sizeof(p), "%s/dialplan/%s.conf", dir, slug);
	before = testenv_read_file(p);
	peer_marker(before_marker, sizeof(before_marker));

	add_user("bob", 1);
	conf = conf_file();
	control("slow Reload:3000\n");
	child = fork();
	if (child == 0) {
		int out = open(path_in("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(out, 2);
		execl(getenv("PBXCTL_BIN"), "pbxctl", "-c", conf, "apply", "--tenant", slug,
		      (char *)NULL);
		_exit(127);
	}
	/* The second reload of pbx_config is this apply's, and its answer is delayed. */
	if (!wait_for_peer_log("Reload Module=pbx_config", 2)) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		cr_fatal("the apply did not reach its reload: %s / %s", testenv_read_file(path_in("stderr")),
			 testenv_read_file(path_in("log")));
	}
	cr_assert(eq(int, terminate_lock_holder(), 1), "no backend held the apply lock");
	control("");
	waitpid(child, &status, 0);
	errtext = testenv_read_file(path_in("stderr"));
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 8), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, "apply lock was lost"), NULL)), "%s", errtext);
	free(errtext);

	after = testenv_read_file(p);
	cr_assert(eq(str, after, before), "the file was not restored");
	cr_assert(eq(sz, realtime_rows(), 3), "bob's device rows were not rolled back");
	peer_marker(after_marker, sizeof(after_marker));
	cr_assert(eq(str, after_marker, before_marker));
	free(before);
	free(after);
	{
		struct pbx_rows jobs;

		cr_assert(eq(int, pbx_apply_jobs(ctx, NULL, slug, 1, &jobs, &err), 0));
		cr_assert(eq(str, (char *)pbx_rows_get(&jobs, 0, "status"), "ROLLED_BACK"));
		pbx_rows_free(&jobs);
	}

	/* Nothing is left locked or half done: the next apply writes bob's rows. */
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	cr_assert(res.changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "SUCCESS"));
	pbx_apply_result_free(&res);
	cr_assert(eq(sz, realtime_rows(), 6));
}

/* The lock is held by a connection of its own: another apply is refused while it lives,
 * and the lock is free again (that connection closed) as soon as an apply ends. */
Test(apply_lock, lock_is_released_when_the_apply_ends)
{
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	add_user("alice", 1);
	cr_assert(eq(int, run(false, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, terminate_lock_holder(), 0), "the lock outlived its apply");
}
