/* SPDX-License-Identifier: MIT */
/*
 * Self-service from the shell: the AstDB write after an admin's `user update` of DND,
 * forward or PIN, shared with the end user's own verbs.
 */
#include "pbx/selfservice.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_push_selfservice(pbx_ctx *ctx, const char *tenant, const char *user)
{
	pbx_error err = PBX_ERROR_INIT;

	/* pbx_selfservice_push logs its own warning; the change itself is saved. */
	if (user)
		pbx_selfservice_push(ctx, tenant, user, &err);
}

/*
 * Live at once when this login may write AstDB; an end user's login usually cannot read
 * the sealed PIN verifier it would need, so the change stays pending in PostgreSQL
 * (astdb_pending) for the next apply, and the user is told so.
 */
static void me_push(pbx_ctx *ctx, const struct pbx_operator *op)
{
	pbx_error err = PBX_ERROR_INIT;

	if (pbx_selfservice_push(ctx, op->tenant, op->user, &err) < 0)
		fprintf(stderr, "pbxctl: me: saved; calls use the new setting after the next "
			"`pbxctl apply` (%s)\n", err.code == PBX_EUNAVAILABLE ?
			"Asterisk did not take it now" : "this login does not write Asterisk's AstDB");
}

/* me show */
static int cmd_me_show(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator op;
	struct pbx_rows rows;
	pbx_ctx *ctx = cli_ctx(cli);

	(void)a;
	if (!ctx)
		return cli->err.code;
	return cli_finish_object(cli, pbx_me_show(ctx, &op, &rows, &cli->err), &rows);
}

/* me dnd on|off */
static int cmd_me_dnd(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator op;
	struct pbx_rows rows;
	bool on, changed = false;
	pbx_ctx *ctx;
	int r;

	if (!strcmp(a->argv[0], "on")) {
		on = true;
	} else if (!strcmp(a->argv[0], "off")) {
		on = false;
	} else {
		cli_usage_error(a->path, NULL, "dnd must be on or off, not \"%s\"", a->argv[0]);
		return CLI_USAGE;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_me_set_dnd(ctx, on, &op, &rows, &changed, &cli->err);
	if (r == 0 && changed)
		me_push(ctx, &op);
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

/* me forward set DEST | clear */
static int cmd_me_forward(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator op;
	struct pbx_rows rows;
	bool changed = false;
	const char *dest;
	pbx_ctx *ctx;
	int r;

	if (!strcmp(a->argv[0], "set") && a->argc == 2 && *a->argv[1]) {
		dest = a->argv[1];
	} else if (!strcmp(a->argv[0], "clear") && a->argc == 1) {
		dest = NULL;
	} else {
		cli_usage_error(a->path, NULL, "expected set DEST or clear");
		return CLI_USAGE;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_me_set_forward(ctx, dest, &op, &rows, &changed, &cli->err);
	if (r == 0 && changed)
		me_push(ctx, &op);
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

static const struct cli_cmd me_verbs[] = {
	{ .name = "show", .summary = "show your own user", .synopsis = "me show",
	  .run = cmd_me_show, .max_args = 0, .flags = CMD_PG | CMD_DEFAULT },
	{ .name = "dnd", .summary = "turn your do-not-disturb on or off",
	  .synopsis = "me dnd on|off", .run = cmd_me_dnd, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "forward", .summary = "forward your calls to an extension of your tenant or +E164, or stop",
	  .synopsis = "me forward set DEST\n"
		      "me forward clear",
	  .run = cmd_me_forward, .min_args = 1, .max_args = 2, .flags = CMD_PG | CMD_WRITES },
	{ .name = "voicemail", .summary = "change your voicemail PIN (proving the current one) or greeting",
	  .synopsis = "me voicemail pin [--pin-file FILE]\n"
		      "me voicemail greeting FILE\n"
		      "me voicemail greeting --delete",
	  .opts = CLI_OPTS(cli_me_voicemail_opts), .run = cli_me_voicemail, .min_args = 1,
	  .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_FILE },
};

const struct cli_cmd cmd_me = {
	.name = "me",
	.summary = "an end user's own do-not-disturb, call forward and voicemail",
	.subs = CLI_SUBS(me_verbs),
	.max_args = -1,
};
