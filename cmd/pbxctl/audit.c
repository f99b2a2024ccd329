/* SPDX-License-Identifier: MIT */
/*
 * pbxctl audit: list the audit trail with filters and keyset pagination; verify its chain,
 * also against an anchor (the chain head saved earlier) that catches truncation.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pbx/audit.h"
#include "cli.h"

enum { L_ENTITY, L_ACTION, L_ACTOR, L_TENANT, L_SINCE, L_UNTIL, L_LIMIT, L_AFTER };
static const struct cli_opt list_opts[] = {
	[L_ENTITY] = { "entity", 0, "TYPE", "only this entity type (tenant, user, device, ...)", CLI_OPT_STRING, NULL, 0 },
	[L_ACTION] = { "action", 0, "ACTION", "only this action (create, update, delete, ...)", CLI_OPT_STRING, NULL, 0 },
	[L_ACTOR] = { "actor", 0, "ROLE", "only changes made by this PostgreSQL role", CLI_OPT_STRING, NULL, 0 },
	[L_TENANT] = CLI_OPT_TENANT("only changes of this tenant"),
	[L_SINCE] = { "since", 0, "TIME", "at or after this time (2026-11-26 or RFC 3339)", CLI_OPT_STRING, NULL, 0 },
	[L_UNTIL] = { "until", 0, "TIME", "before this time", CLI_OPT_STRING, NULL, 0 },
	[L_LIMIT] = { "limit", 0, "N", "rows per page, 1 to 10000 (default 100)", CLI_OPT_INT, NULL, 0 },
	[L_AFTER] = { "after", 0, "CURSOR", "continue after this cursor (printed on stderr with the previous page)", CLI_OPT_STRING, NULL, 0 },
};

static int cmd_audit_list(struct cli *cli, struct cli_args *a)
{
	struct pbx_audit_filter f = {
		.entity = a->v[L_ENTITY].s, .action = a->v[L_ACTION].s, .actor = a->v[L_ACTOR].s,
		.tenant = a->v[L_TENANT].set ? a->v[L_TENANT].s : NULL,
		.since = a->v[L_SINCE].s, .until = a->v[L_UNTIL].s,
		.limit = a->v[L_LIMIT].set ? (long)a->v[L_LIMIT].i : 0, .after = a->v[L_AFTER].s,
	};
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (a->v[L_LIMIT].set && a->v[L_LIMIT].i < 1) {
		cli_usage_error(a->path, NULL, "--limit must be at least 1");
		return 2;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if ((r = pbx_audit_list(ctx, &f, &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	r = cli_show_list(cli, &rows);
	/* The cursor goes to stderr so that stdout stays one clean list in every format. */
	if (r == 0 && rows.next_cursor && cli->verbosity >= 0)
		fprintf(stderr, "pbxctl: more rows: --after %s\n", rows.next_cursor);
	pbx_rows_free(&rows);
	return r;
}

enum { V_ANCHOR };
static const struct cli_opt verify_opts[] = {
	[V_ANCHOR] = { "anchor", 0, "FILE", "also detect rows removed from the end and rewriting since this saved audit anchor", CLI_OPT_FILE, NULL, CLI_ARG_FILE },
};

static int cmd_audit_verify(struct cli *cli, struct cli_args *a)
{
	struct pbx_rows rows = { 0 };
	struct pbx_audit_anchor anchor;
	pbx_ctx *ctx;
	int r;

	/* A bad anchor file is reported before any connection is opened. */
	if (a->v[V_ANCHOR].set && (r = pbx_audit_anchor_read(a->v[V_ANCHOR].s, &anchor, &cli->err)) < 0)
		return cli_fail(cli, r);
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = a->v[V_ANCHOR].set ? pbx_audit_verify_anchor(ctx, &anchor, &rows, &cli->err) :
				 pbx_audit_verify(ctx, &rows, &cli->err);
	if (rows.schema)
		cli_show_object(cli, &rows);
	pbx_rows_free(&rows);
	if (r < 0)
		return cli_fail(cli, r);
	return 0;
}

static const struct cli_cmd audit_verbs[] = {
	{ .name = "list", .summary = "list audit rows, newest first",
	  .synopsis = "audit list [--entity TYPE] [--action ACTION] [--actor ROLE] [--tenant SLUG]\n"
		      "audit list [--since TIME] [--until TIME] [--limit N] [--after CURSOR]",
	  .opts = CLI_OPTS(list_opts), .run = cmd_audit_list, .max_args = 0,
	  .flags = CMD_PG | CMD_DEFAULT },
	{ .name = "verify", .summary = "check the hash chain and name the first changed or removed row",
	  .synopsis = "audit verify [--anchor FILE]", .opts = CLI_OPTS(verify_opts),
	  .run = cmd_audit_verify, .max_args = 0, .flags = CMD_PG },
	{ .name = "anchor", .summary = "print the head of the chain (id, hash, count) to keep elsewhere",
	  .synopsis = "audit anchor", .max_args = 0, .flags = CMD_PG,
	  .call = { .s0 = pbx_audit_anchor, .show = CLI_SHOW_OBJECT } },
};

const struct cli_cmd cmd_audit = {
	.name = "audit",
	.summary = "read and verify the audit trail",
	.subs = CLI_SUBS(audit_verbs),
	.max_args = -1,
};
