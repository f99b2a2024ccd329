/* SPDX-License-Identifier: MIT */
/*
 * pbxctl apply: apply the desired state to Asterisk (validate, lock, back up, write,
 * reload, verify, roll back), preview it with --dry-run, and read the apply jobs and the
 * backups they took.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/apply-queue.h"
#include "pbx/apply.h"
#include "cli.h"

enum { A_TENANT, A_DRY_RUN, A_PREVIEW, A_WAIT, A_QUEUE, A_NO_WAIT };
static const struct cli_opt run_opts[] = {
	[A_TENANT] = CLI_OPT_TENANT("apply only this tenant's files and rows"),
	[A_DRY_RUN] = { "dry-run", 0, NULL, "print the diff of files, the row changes and the validation result; touch nothing", CLI_OPT_FLAG, NULL, 0 },
	[A_PREVIEW] = { "preview", 0, NULL, "same as --dry-run", CLI_OPT_FLAG, NULL, 0 },
	[A_WAIT] = { "wait", 0, "SECONDS", "wait up to SECONDS for a concurrent apply (queued: for the worker's result) instead of failing with exit 5", CLI_OPT_INT, NULL, 0 },
	[A_QUEUE] = { "queue", 0, NULL, "queue the apply for `pbxctl apply worker` even when this operator could apply itself", CLI_OPT_FLAG, NULL, 0 },
	[A_NO_WAIT] = { "no-wait", 0, NULL, "queued: print the request and return at once", CLI_OPT_FLAG, NULL, 0 },
};

static int cmd_apply_run(struct cli *cli, struct cli_args *a)
{
	struct pbx_apply_opts opts = {
		.tenant = a->v[A_TENANT].set ? a->v[A_TENANT].s : cli->tenant,
		.dry_run = a->v[A_DRY_RUN].set || a->v[A_PREVIEW].set,
		.wait_seconds = a->v[A_WAIT].set ? (int)a->v[A_WAIT].i : 0,
	};
	struct pbx_apply_result res;
	struct cli_bar bar = { .drawn = false };
	pbx_ctx *ctx;
	int r;

	if (a->v[A_WAIT].set && (a->v[A_WAIT].i < 0 || a->v[A_WAIT].i > 86400)) {
		cli_usage_error("apply", NULL, "--wait must be 0 to 86400 seconds");
		return 2;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if (!opts.dry_run) {
		bool queue = a->v[A_QUEUE].set;

		if (!queue && (r = pbx_apply_must_queue(ctx, &queue, &cli->err)) < 0)
			return cli_fail(cli, r);
		if (queue)
			return cli_apply_queued(cli, ctx, opts.tenant, !a->v[A_NO_WAIT].set,
						opts.wait_seconds);
	}
	/* Tenants planned, files written and verified: on a terminal only, never beside
	 * machine output. */
	if (isatty(STDERR_FILENO) && cli->verbosity >= 0 && cli->out.mode == CLI_OUT_TABLE) {
		opts.progress = cli_bar_progress;
		opts.progress_userdata = &bar;
	}
	r = pbx_apply(ctx, &opts, &res, &cli->err);
	cli_bar_clear(&bar);
	if (r == PBX_EINVALID && res.problems.n > 1) {
		/* Every validation problem, one line each; the last one is reported by cli_fail. */
		for (size_t i = 0; i + 1 < res.problems.n; i++)
			cli_render_error(stderr, &cli->out, &res.problems.items[i], 3, cli->verbosity > 0);
		cli->err = res.problems.items[res.problems.n - 1];
	}
	if (r == PBX_EPARTIAL)
		/* The problem of every skipped tenant; cli_fail then names them all. */
		for (size_t i = 0; i < res.problems.n; i++)
			cli_render_error(stderr, &cli->out, &res.problems.items[i], 3, cli->verbosity > 0);
	if (opts.dry_run && (r == 0 || r == PBX_EPARTIAL)) {
		if (cli->out.mode == CLI_OUT_TABLE || cli->out.mode == CLI_OUT_TSV) {
			fputs(res.diff && *res.diff ? res.diff : "", stdout);
			printf("%s\n%s\n", res.summary ? res.summary : "",
			       res.changed ? "validation: ok; changes pending" :
					     "validation: ok; nothing to change");
		} else {
			struct pbx_rows rows;
			static const struct pbx_field f[] = {
				{ "changed", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "" },
				{ "summary", PBX_FT_STRING, PBX_FIELD_DEFAULT, "" },
				{ "diff", PBX_FT_STRING, PBX_FIELD_DEFAULT, "" },
			};
			static const struct pbx_schema s = { "preview", f, 3 };

			pbx_rows_init(&rows, &s);
			pbx_rows_add(&rows);
			pbx_rows_set(&rows, 0, "changed", res.changed ? "true" : "false");
			pbx_rows_set(&rows, 0, "summary", res.summary);
			pbx_rows_set(&rows, 0, "diff", res.diff);
			cli_show_object(cli, &rows);
			pbx_rows_free(&rows);
		}
		pbx_apply_result_free(&res);
		return r < 0 ? cli_fail(cli, r) : 0;
	}
	if (res.job.n_rows)
		cli_show_change(cli, "apply", res.changed, &res.job);
	pbx_apply_result_free(&res);
	if (r < 0)
		return cli_fail(cli, r);
	return 0;
}

static const char *const job_status[] = { "PENDING", "RUNNING", "SUCCESS", "FAILED", "ROLLED_BACK", NULL };
enum { J_STATUS, J_TENANT, J_LIMIT };
static const struct cli_opt jobs_opts[] = {
	[J_STATUS] = { "status", 0, "STATUS", "only jobs with this status", CLI_OPT_ENUM, job_status, 0 },
	[J_TENANT] = CLI_OPT_TENANT("only jobs of this tenant"),
	[J_LIMIT] = { "limit", 0, "N", "at most N jobs (default 50)", CLI_OPT_INT, NULL, 0 },
};

static int cmd_apply_jobs(struct cli *cli, struct cli_args *a)
{
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_apply_jobs(ctx, a->v[J_STATUS].s, a->v[J_TENANT].set ? a->v[J_TENANT].s : NULL,
			   a->v[J_LIMIT].set ? (long)a->v[J_LIMIT].i : 0, &rows, &cli->err);
	return cli_finish_list(cli, r, &rows);
}

static const struct cli_cmd apply_verbs[] = {
	{ .name = "run", .summary = "apply the desired state to Asterisk, verified, rolled back on failure",
	  .synopsis = "apply [run] [--tenant SLUG] [--dry-run] [--wait SECONDS] [--queue] [--no-wait]",
	  .opts = CLI_OPTS(run_opts), .run = cmd_apply_run, .max_args = 0,
	  .flags = CMD_PG | CMD_REALTIME | CMD_AMI | CMD_WRITES | CMD_DEFAULT },
	{ .name = "jobs", .summary = "list apply jobs, newest first",
	  .synopsis = "apply jobs [--status STATUS] [--tenant SLUG] [--limit N]",
	  .opts = CLI_OPTS(jobs_opts), .run = cmd_apply_jobs, .max_args = 0, .flags = CMD_PG },
	{ .name = "show", .summary = "show one apply job", .synopsis = "apply show JOB",
	  .min_args = 1, .max_args = 1, .flags = CMD_PG,
	  .call = { .s1 = pbx_apply_job_show, .in = { CLI_FROM_ARG(0) },
		    .show = CLI_SHOW_OBJECT } },
	{ .name = "worker", .summary = "run queued applies in order (the privileged side, long-running)",
	  .synopsis = "apply worker [--once] [--lock-wait SECONDS]",
	  .opts = CLI_OPTS(cli_apply_worker_opts), .run = cli_apply_worker, .max_args = 0,
	  .flags = CMD_PG | CMD_REALTIME | CMD_AMI | CMD_WRITES },
	{ .name = "status", .summary = "show one apply request", .synopsis = "apply status REQUEST",
	  .min_args = 1, .max_args = 1, .flags = CMD_PG,
	  .call = { .s1 = pbx_apply_request_show, .in = { CLI_FROM_ARG(0) },
		    .show = CLI_SHOW_OBJECT } },
	{ .name = "requests", .summary = "list apply requests, newest first",
	  .synopsis = "apply requests [--status STATUS] [--limit N]",
	  .opts = CLI_OPTS(cli_apply_requests_opts), .run = cli_apply_requests, .max_args = 0,
	  .flags = CMD_PG },
	{ .name = "backups", .summary = "list the backups applies took, newest first, with size and job",
	  .synopsis = "apply backups", .max_args = 0, .flags = CMD_PG,
	  .call = { .s0 = pbx_apply_backups, .show = CLI_SHOW_LIST } },
};

const struct cli_cmd cmd_apply = {
	.name = "apply",
	.summary = "apply the configuration to Asterisk and inspect apply jobs",
	.subs = CLI_SUBS(apply_verbs),
	.max_args = -1,
};
