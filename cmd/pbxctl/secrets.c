/* SPDX-License-Identifier: MIT */
/*
 * pbxctl secrets: create the private key file (init), publish its public half for
 * operators who hold no private key (publish), re-seal every secret to a new key pair
 * (rotate-key, which also moves secrets of the earlier scheme to sealed boxes), and check
 * that every sealed secret still opens (verify) without revealing any.
 */
#include <stdio.h>

#include "pbx/device.h"
#include "pbx/sealing.h"
#include "cli.h"

enum { I_KEY_FILE };
static const struct cli_opt init_opts[] = {
	[I_KEY_FILE] = { "key-file", 0, "FILE", "where to create the key (default: secrets.key_file of pbxctl.conf)", CLI_OPT_FILE, NULL, CLI_ARG_FILE },
};

enum { V_TENANT };
static const struct cli_opt verify_opts[] = {
	[V_TENANT] = CLI_OPT_TENANT("check only this tenant's devices (default -t, else all)"),
};

static int cmd_secrets_verify(struct cli *cli, struct cli_args *a)
{
	struct pbx_rows rows = { 0 };
	long checked = 0;
	pbx_ctx *ctx;
	int r;

	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_device_verify_secrets(ctx, cli_tenant(cli, a->v[V_TENANT].s), &rows, &checked,
				      &cli->err);
	/* The devices whose secret fails are the list; the verdict is the exit status. */
	if (rows.schema && (r == 0 || r == PBX_EINVALID))
		cli_show_list(cli, &rows);
	pbx_rows_free(&rows);
	if (r < 0)
		return cli_fail(cli, r);
	if (cli->verbosity >= 0 && cli->out.mode == CLI_OUT_TABLE)
		fprintf(stderr, "pbxctl: all %ld device secrets open with the key\n", checked);
	return 0;
}

static const struct cli_cmd secrets_verbs[] = {
	{ .name = "init", .summary = "create the key file that seals SIP secrets (mode 0600, never overwritten)",
	  .synopsis = "secrets init [--key-file FILE]", .opts = CLI_OPTS(init_opts),
	  .max_args = 0, .flags = CMD_WRITES,
	  .call = { .s1 = pbx_device_key_init, .in = { CLI_FROM_OPT(I_KEY_FILE) },
		    .show = CLI_SHOW_CHANGE, .action = "init" } },
	{ .name = "verify", .summary = "check that every sealed SIP secret opens with the key",
	  .synopsis = "secrets verify [--tenant SLUG]", .opts = CLI_OPTS(verify_opts),
	  .run = cmd_secrets_verify, .max_args = 0, .flags = CMD_PG },
	{ .name = "publish", .summary = "publish the key's public half so operators without the private key can seal",
	  .synopsis = "secrets publish", .max_args = 0, .flags = CMD_PG | CMD_WRITES,
	  .call = { .s0 = pbx_sealing_publish, .show = CLI_SHOW_CHANGE, .action = "publish" } },
	{ .name = "rotate-key", .summary = "re-seal every secret to a new key pair in one transaction",
	  .synopsis = "secrets rotate-key", .max_args = 0, .flags = CMD_PG | CMD_WRITES,
	  .call = { .s0 = pbx_sealing_rotate, .show = CLI_SHOW_CHANGE, .action = "rotate-key" } },
};

const struct cli_cmd cmd_secrets = {
	.name = "secrets",
	.summary = "manage the key pair that seals SIP secrets and check the sealed secrets",
	.subs = CLI_SUBS(secrets_verbs),
	.max_args = -1,
};
