/* SPDX-License-Identifier: MIT */
/*
 * pbxctl diag: read-only diagnostics. health (checks with latency and verdict), metrics
 * (Prometheus text), devices and trunks (registration status from Asterisk, cached 30 s for
 * every invocation on the host), drift. No verb here changes anything.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/diag.h"
#include "pbx/operator.h"
#include "cli.h"

static const char *const state_values[] = { "registered", "unregistered", NULL };

/*
 * The prologue of every diag verb: the context into *@ret_ctx, and the tenant the verb looks
 * at (@value, else -t / $PBXCTL_TENANT) into *@ret (NULL: every tenant). An operator tied to
 * one tenant (tenant_admin, support with a tenant) sees that tenant only: it is the default,
 * and another is refused, since Asterisk's answers (contacts, events) are not limited by
 * row-level security. 0, or the code of a reported failure (what the verb returns).
 */
static char scope_tenant[sizeof(((struct pbx_operator *)0)->tenant)];

static int diag_open(struct cli *cli, const char *path, const char *value, pbx_ctx **ret_ctx,
		     const char **ret)
{
	struct pbx_operator op;
	const char *want = cli_tenant(cli, value);
	pbx_ctx *ctx;
	char id[24];
	int r;

	if (!(ctx = *ret_ctx = cli_ctx(cli)))
		return cli->err.code;
	if ((r = pbx_operator_whoami(ctx, &op, &cli->err)) < 0)
		return cli_fail(cli, r);
	*ret = want;
	if (op.bypass_rls || !op.tenant_id)
		return 0;
	snprintf(id, sizeof(id), "%lld", op.tenant_id);
	if (want && strcmp(want, op.tenant) != 0 && strcmp(want, id) != 0) {
		return cli_fail(cli, pbx_errorf(&cli->err, PBX_EPERM, path, "tenant",
						"operator %s (%s) sees only tenant '%s', not '%s'",
						op.login, op.role, op.tenant, want));
	}
	snprintf(scope_tenant, sizeof(scope_tenant), "%s", op.tenant);
	*ret = scope_tenant;
	return 0;
}

#define TENANT_OPT(help) CLI_OPT_TENANT(help)

enum { D_TENANT, D_STATE, D_REFRESH };
static const struct cli_opt devices_opts[] = {
	[D_TENANT] = TENANT_OPT("only this tenant's devices (default -t / $PBXCTL_TENANT; none: all)"),
	[D_STATE] = { "state", 0, "STATE", "only registered or only unregistered devices", CLI_OPT_ENUM, state_values, 0 },
	[D_REFRESH] = { "refresh", 0, NULL, "ask Asterisk now instead of using the 30 s cache", CLI_OPT_FLAG, NULL, 0 },
};

static int cmd_diag_devices(struct cli *cli, struct cli_args *a)
{
	struct pbx_diag_device_query q = {
		.state = a->v[D_STATE].s,
		.refresh = a->v[D_REFRESH].set,
	};
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = diag_open(cli, "diag devices", a->v[D_TENANT].s, &ctx, &q.tenant)) != 0)
		return r;
	if ((r = pbx_diag_devices(ctx, &q, &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	r = cli_show_list(cli, &rows);
	pbx_rows_free(&rows);
	return r;
}

enum { T_TENANT, T_REFRESH };
static const struct cli_opt trunks_opts[] = {
	[T_TENANT] = TENANT_OPT("this tenant's trunks and the global ones (default -t / $PBXCTL_TENANT; none: all)"),
	[T_REFRESH] = { "refresh", 0, NULL, "ask Asterisk now instead of using the 30 s cache", CLI_OPT_FLAG, NULL, 0 },
};

static int cmd_diag_trunks(struct cli *cli, struct cli_args *a)
{
	const char *tenant;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = diag_open(cli, "diag trunks", a->v[T_TENANT].s, &ctx, &tenant)) != 0)
		return r;
	r = pbx_diag_trunks(ctx, tenant, a->v[T_REFRESH].set, &rows, &cli->err);
	if (r < 0)
		return cli_fail(cli, r);
	r = cli_show_list(cli, &rows);
	pbx_rows_free(&rows);
	return r;
}

enum { R_TENANT };
static const struct cli_opt drift_opts[] = {
	[R_TENANT] = TENANT_OPT("only this tenant (default -t / $PBXCTL_TENANT; none: everything)"),
};

/* Exit 1 when anything differs, like diff(1); the differences are the output. */
static int cmd_diag_drift(struct cli *cli, struct cli_args *a)
{
	const char *tenant;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = diag_open(cli, "diag drift", a->v[R_TENANT].s, &ctx, &tenant)) != 0)
		return r;
	if ((r = pbx_diag_drift(ctx, tenant, &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	r = cli_show_list(cli, &rows);
	if (r == 0 && rows.n_rows) {
		if (cli->out.mode == CLI_OUT_TABLE && cli->verbosity >= 0)
			fprintf(stderr, "pbxctl: %zu difference(s) between the desired and the deployed state\n",
				rows.n_rows);
		r = PBX_ERROR;
	}
	pbx_rows_free(&rows);
	return r;
}

/* Exit 1 when a check failed, so a monitoring check can run it as is. */
static int cmd_diag_health(struct cli *cli, struct cli_args *a)
{
	const char *tenant;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	bool healthy = false;
	int r;

	if ((r = diag_open(cli, "diag health", a->v[R_TENANT].s, &ctx, &tenant)) != 0)
		return r;
	if ((r = pbx_diag_health(ctx, tenant, &rows, &healthy, &cli->err)) < 0)
		return cli_fail(cli, r);
	r = cli_show_list(cli, &rows);
	pbx_rows_free(&rows);
	return r == 0 && !healthy ? PBX_ERROR : r;
}

/* Prometheus text in every output mode: the format is the point of the verb. */
static int cmd_diag_metrics(struct cli *cli, struct cli_args *a)
{
	const char *tenant;
	pbx_ctx *ctx;
	char *text = NULL;
	int r;

	if ((r = diag_open(cli, "diag metrics", a->v[R_TENANT].s, &ctx, &tenant)) != 0)
		return r;
	if ((r = pbx_diag_metrics(ctx, tenant, &text, &cli->err)) < 0)
		return cli_fail(cli, r);
	fputs(text, stdout);
	free(text);
	return 0;
}

static volatile sig_atomic_t watch_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static int print_event(const struct pbx_rows *event, void *ud)
{
	struct cli *cli = ud;

	return cli_render_stream(stdout, &cli->out, event, 0);
}

/* Runs until SIGINT or SIGTERM, then exits 0. */
static int cmd_diag_watch(struct cli *cli, struct cli_args *a)
{
	const char *tenant;
	struct sigaction sa = { .sa_handler = on_stop_signal };
	pbx_ctx *ctx;
	char bad[64];
	int r;

	if (cli->out.fields && cli_render_check_fields(&cli->out, &pbx_schema_event, bad,
						       sizeof(bad)) < 0) {
		cli_usage_error("diag watch", NULL, "--fields: '%s' is not a key of event", bad);
		return CLI_USAGE;
	}
	if ((r = diag_open(cli, "diag watch", a->v[R_TENANT].s, &ctx, &tenant)) != 0)
		return r;
	/* no SA_RESTART: a signal must cut a wait short */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = pbx_diag_watch(ctx, tenant, &watch_stop, print_event, cli,
			   &cli->err);
	if (r < 0)
		return cli_fail(cli, r);
	return 0;
}

static const struct cli_cmd diag_verbs[] = {
	{ .name = "health", .summary = "every check with its latency and verdict; exit 0 only when all pass",
	  .synopsis = "diag health [--tenant SLUG]", .opts = CLI_OPTS(drift_opts),
	  .run = cmd_diag_health, .max_args = 0,
	  .flags = CMD_PG | CMD_REALTIME | CMD_AMI | CMD_DEFAULT },
	{ .name = "metrics", .summary = "Prometheus text exposition for node_exporter's textfile collector",
	  .synopsis = "diag metrics [--tenant SLUG]", .opts = CLI_OPTS(drift_opts),
	  .run = cmd_diag_metrics, .max_args = 0, .flags = CMD_PG | CMD_REALTIME | CMD_AMI },
	{ .name = "devices", .summary = "registration status of every device, from Asterisk",
	  .synopsis = "diag devices [--tenant SLUG] [--state STATE] [--refresh]",
	  .opts = CLI_OPTS(devices_opts), .run = cmd_diag_devices, .max_args = 0,
	  .flags = CMD_PG | CMD_AMI },
	{ .name = "trunks", .summary = "registration and reachability of every trunk, from Asterisk",
	  .synopsis = "diag trunks [--tenant SLUG] [--refresh]", .opts = CLI_OPTS(trunks_opts),
	  .run = cmd_diag_trunks, .max_args = 0, .flags = CMD_PG | CMD_AMI },
	{ .name = "watch", .summary = "live Asterisk events, one line each, until interrupted",
	  .synopsis = "diag watch [--tenant SLUG]", .opts = CLI_OPTS(drift_opts),
	  .run = cmd_diag_watch, .max_args = 0, .flags = CMD_PG | CMD_AMI },
	{ .name = "drift", .summary = "what differs between the desired state, the files, the rows and Asterisk",
	  .synopsis = "diag drift [--tenant SLUG]", .opts = CLI_OPTS(drift_opts),
	  .run = cmd_diag_drift, .max_args = 0, .flags = CMD_PG | CMD_REALTIME | CMD_AMI },
};

const struct cli_cmd cmd_diag = {
	.name = "diag",
	.summary = "read-only diagnostics: health, metrics, status, live events, drift",
	.subs = CLI_SUBS(diag_verbs),
	.max_args = -1,
};
