/* SPDX-License-Identifier: MIT */
/*
 * The apply queue on the command line: following a queued apply (for `pbxctl apply` from
 * an operator without the privileged side's credentials, or with --queue), the
 * long-running `apply worker`, and `apply status` / `apply requests` to read requests.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pbx/apply-queue.h"
#include "cli.h"

static void show_progress(void *ud, long id, const char *status)
{
	struct cli *cli = ud;

	if (cli->verbosity >= 0)
		fprintf(stderr, "pbxctl: apply request %ld: %s\n", id, status);
}

/* The request row as the result, then the apply's own exit status. */
int cli_apply_queued(struct cli *cli, pbx_ctx *ctx, const char *tenant, bool wait,
		     int wait_seconds)
{
	struct pbx_rows rows = { .schema = NULL };
	pbx_error shown = PBX_ERROR_INIT;
	char sid[24];
	long id = 0;
	int r;

	r = pbx_apply_enqueue(ctx, tenant, wait ? (wait_seconds ? wait_seconds : -1) : 0,
			      show_progress, cli, &id, &cli->err);
	if (id == 0)
		return cli_fail(cli, r);
	snprintf(sid, sizeof(sid), "%ld", id);
	if (pbx_apply_request_show(ctx, sid, &rows, &shown) == 0) {
		cli_show_change(cli, "apply", r == 0, &rows);
		pbx_rows_free(&rows);
	}
	return r < 0 ? cli_fail(cli, r) : 0;
}

static volatile sig_atomic_t stop_worker;

static void on_stop(int sig)
{
	(void)sig;
	stop_worker = 1;
}

enum { W_ONCE, W_LOCK_WAIT };
const struct cli_opt cli_apply_worker_opts[CLI_APPLY_WORKER_NOPTS] = {
	[W_ONCE] = { "once", 0, NULL, "run what is queued, then exit", CLI_OPT_FLAG, NULL, 0 },
	[W_LOCK_WAIT] = { "lock-wait", 0, "SECONDS", "wait this long for a direct apply's lock (default 600)", CLI_OPT_INT, NULL, 0 },
};

int cli_apply_worker(struct cli *cli, struct cli_args *a)
{
	struct pbx_apply_worker_opts o = {
		.once = a->v[W_ONCE].set,
		.stop = &stop_worker,
		.lock_wait_seconds = a->v[W_LOCK_WAIT].set ? (int)a->v[W_LOCK_WAIT].i : 600,
	};
	/* No SA_RESTART: a signal ends the worker's wait for notifications at once. */
	struct sigaction sa = { .sa_handler = on_stop };
	pbx_ctx *ctx;
	int r;

	if (o.lock_wait_seconds < 0 || o.lock_wait_seconds > 86400)
		return cli_usage_error(a->path, NULL, "--lock-wait must be 0 to 86400 seconds"),
		       CLI_USAGE;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((r = pbx_apply_worker(ctx, &o, &cli->err)) < 0)
		return cli_fail(cli, r);
	return 0;
}

static const char *const request_status[] = { "queued", "running", "done", "failed", NULL };
enum { R_STATUS, R_LIMIT };
const struct cli_opt cli_apply_requests_opts[CLI_APPLY_REQUESTS_NOPTS] = {
	[R_STATUS] = { "status", 0, "STATUS", "only requests with this status", CLI_OPT_ENUM, request_status, 0 },
	[R_LIMIT] = { "limit", 0, "N", "at most N requests (default 50)", CLI_OPT_INT, NULL, 0 },
};

int cli_apply_requests(struct cli *cli, struct cli_args *a)
{
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_apply_requests(ctx, a->v[R_STATUS].s, a->v[R_LIMIT].set ? (long)a->v[R_LIMIT].i : 0,
			       &rows, &cli->err);
	return cli_finish_list(cli, r, &rows);
}
