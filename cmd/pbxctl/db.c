/* SPDX-License-Identifier: MIT */
/*
 * pbxctl db: apply the embedded schema migrations and show their status.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/db.h"
#include "cli.h"

enum { M_REALTIME };
static const struct cli_opt migrate_opts[] = {
	[M_REALTIME] = { "realtime", 0, NULL, "also create Asterisk's PJSIP Realtime tables in MariaDB (existing tables are kept)", CLI_OPT_FLAG, NULL, 0 },
};

static int cmd_db_migrate(struct cli *cli, struct cli_args *a)
{
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if ((r = pbx_db_migrate(ctx, &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	if (a->v[M_REALTIME].set && (r = pbx_db_migrate_realtime(ctx, &cli->err)) < 0) {
		pbx_rows_free(&rows);
		return cli_fail(cli, r);
	}
	cli->changed = r > 0;
	/* -q: nothing on success, as for every write command (cli_show_change). */
	r = cli->verbosity < 0 && cli->out.mode == CLI_OUT_TABLE ? 0 : cli_show_list(cli, &rows);
	pbx_rows_free(&rows);
	return r;
}

static const struct cli_cmd db_verbs[] = {
	{ .name = "migrate", .summary = "apply pending schema migrations",
	  .synopsis = "db migrate [--realtime]", .opts = CLI_OPTS(migrate_opts),
	  .run = cmd_db_migrate, .max_args = 0, .flags = CMD_PG | CMD_WRITES },
	{ .name = "status", .summary = "list applied and pending migrations",
	  .synopsis = "db status", .max_args = 0, .flags = CMD_PG | CMD_DEFAULT,
	  .call = { .s0 = pbx_db_status, .show = CLI_SHOW_LIST } },
};

const struct cli_cmd cmd_db = {
	.name = "db",
	.summary = "manage the database schema",
	.subs = CLI_SUBS(db_verbs),
	.max_args = -1,
};
