/* SPDX-License-Identifier: MIT */
/*
 * pbxctl export [--tenant SLUG]: the import format on stdout, for one tenant or all (with
 * the global trunks), from one consistent snapshot. YAML by default, JSON with -o json (which import reads too).
 * Secrets and PINs are never written.
 */
#include <stdio.h>

#include "pbx/bulk.h"
#include "cli.h"

enum { EXPORT_TENANT };
static const struct cli_opt export_opts[] = {
	[EXPORT_TENANT] = CLI_OPT_TENANT("export this tenant only (default: -t, else every tenant)"),
};

static int cmd_export_run(struct cli *cli, struct cli_args *a)
{
	struct pbx_bulk_export_opts o = PBX_BULK_EXPORT_OPTS_INIT;
	pbx_ctx *ctx;
	int r;

	if (cli->out.mode == CLI_OUT_TSV) {
		cli_usage_error("export", &cmd_export, "export writes yaml (the default) or json, not tsv");
		return 2;
	}
	if (cli->out.fields) {
		cli_usage_error("export", &cmd_export, "--fields does not apply: export writes every import key");
		return 2;
	}
	o.tenant = cli_tenant(cli, a->v[EXPORT_TENANT].s);
	o.format = cli->out.mode == CLI_OUT_JSON ? PBX_BULK_JSON : PBX_BULK_YAML;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if ((r = pbx_bulk_export(ctx, &o, stdout, &cli->err)) < 0)
		return cli_fail(cli, r);
	return 0;
}

const struct cli_cmd cmd_export = {
	.name = "export",
	.summary = "write tenants and everything they hold in the format import reads",
	.synopsis = "export [--tenant SLUG]",
	.opts = CLI_OPTS(export_opts),
	.run = cmd_export_run,
	.max_args = 0,
	.flags = CMD_PG,
};
