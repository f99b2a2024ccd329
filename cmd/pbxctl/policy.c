/* SPDX-License-Identifier: MIT */
/*
 * pbxctl policy: outbound policies of a tenant. create, list, show, update, delete; their
 * ordered rules (rules, add-rule, remove-rule); `test`, which says what a policy does with
 * a number without placing a call; and assign / unassign / users for per-user policies.
 * The tenant comes from --tenant or -t / $PBXCTL_TENANT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "cli.h"

#define TENANT_OPT CLI_OPT_TENANT("tenant of the policy (default -t / $PBXCTL_TENANT)")

enum { O_TENANT, O_DESCRIPTION, O_NAME };
static const struct cli_opt create_opts[] = {
	[O_TENANT] = TENANT_OPT,
	[O_DESCRIPTION] = { "description", 0, "TEXT", "free text; empty to clear", CLI_OPT_STRING, NULL, 0 },
};
static const struct cli_opt update_opts[] = {
	[O_TENANT] = TENANT_OPT,
	[O_DESCRIPTION] = { "description", 0, "TEXT", "free text; empty to clear", CLI_OPT_STRING, NULL, 0 },
	[O_NAME] = { "name", 0, "NEW", "rename the policy", CLI_OPT_STRING, NULL, 0 },
};
static const struct cli_opt tenant_opts[] = {
	[O_TENANT] = TENANT_OPT,
};

static int cmd_policy_create(struct cli *cli, struct cli_args *a)
{
	const char *t;
	struct pbx_policy_spec spec = { .name = a->argv[0], .description = a->v[O_DESCRIPTION].s };
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[O_TENANT].s, &t, &ctx)) != 0)
		return r;
	return cli_finish_change(cli, pbx_policy_create(ctx, t, &spec, &rows, &cli->err), "create",
			     true, &rows, NULL);
}

static int cmd_policy_update(struct cli *cli, struct cli_args *a)
{
	const char *t;
	struct pbx_policy_spec spec = { .name = a->v[O_NAME].s, .description = a->v[O_DESCRIPTION].s };
	struct pbx_rows rows;
	bool changed = false;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[O_TENANT].s, &t, &ctx)) != 0)
		return r;
	r = pbx_policy_update(ctx, t, a->argv[0], &spec, &rows, &changed, &cli->err);
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

enum { D_TENANT, D_FORCE };
static const struct cli_opt delete_opts[] = {
	[D_TENANT] = TENANT_OPT,
	[D_FORCE] = { "force", 0, NULL, "also when it is the tenant's default or assigned to users", CLI_OPT_FLAG, NULL, 0 },
};

enum { R_TENANT, R_PATTERN, R_ALLOW, R_BLOCK, R_TRUNKS, R_STRIP, R_PREPEND, R_POSITION };
static const struct cli_opt add_rule_opts[] = {
	[R_TENANT] = TENANT_OPT,
	[R_PATTERN] = { "pattern", 0, "REGEX", "POSIX extended regular expression the number must match", CLI_OPT_STRING, NULL, 0 },
	[R_ALLOW] = { "allow", 0, NULL, "numbers it matches may be called", CLI_OPT_FLAG, NULL, 0 },
	[R_BLOCK] = { "block", 0, NULL, "numbers it matches are refused", CLI_OPT_FLAG, NULL, 0 },
	[R_TRUNKS] = { "trunks", 0, "LIST", "allow: comma-separated trunk names, tried in this order", CLI_OPT_STRING, NULL, CLI_ARG_TRUNK },
	[R_STRIP] = { "strip", 0, "N", "allow: remove the first N characters (0 to 20)", CLI_OPT_INT, NULL, 0 },
	[R_PREPEND] = { "prepend", 0, "DIGITS", "allow: then put DIGITS in front (0-9 * # +)", CLI_OPT_STRING, NULL, 0 },
	[R_POSITION] = { "position", 0, "N", "insert as rule N (default: last)", CLI_OPT_INT, NULL, 0 },
};

static int cmd_policy_add_rule(struct cli *cli, struct cli_args *a)
{
	const char *t = cli_need_tenant(cli, a->path, a->v[R_TENANT].s);
	struct pbx_policy_rule_spec spec = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_ctx *ctx;

	if (!t)
		return CLI_USAGE;
	if (a->v[R_ALLOW].set == a->v[R_BLOCK].set) {
		cli_usage_error(a->path, NULL, "give exactly one of --allow and --block");
		return CLI_USAGE;
	}
	if (!a->v[R_PATTERN].set) {
		cli_usage_error(a->path, NULL, "--pattern REGEX is required");
		return CLI_USAGE;
	}
	if ((a->v[R_STRIP].set && (a->v[R_STRIP].i < 0 || a->v[R_STRIP].i > PBX_POLICY_STRIP_MAX)) ||
	    (a->v[R_POSITION].set && (a->v[R_POSITION].i < 1 || a->v[R_POSITION].i > 1000))) {
		cli_usage_error(a->path, NULL, "--strip must be 0 to %d and --position "
				"at least 1", PBX_POLICY_STRIP_MAX);
		return CLI_USAGE;
	}
	spec.pattern = a->v[R_PATTERN].s;
	spec.action = a->v[R_ALLOW].set ? "allow" : "block";
	spec.trunks = a->v[R_TRUNKS].s;
	spec.strip = a->v[R_STRIP].set ? (int)a->v[R_STRIP].i : -1;
	spec.prepend = a->v[R_PREPEND].s;
	spec.position = a->v[R_POSITION].set ? (long)a->v[R_POSITION].i : 0;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	return cli_finish_change(cli, pbx_policy_rule_add(ctx, t, a->argv[0], &spec, &rows, &cli->err),
			     "add-rule", true, &rows, NULL);
}

static int cmd_policy_remove_rule(struct cli *cli, struct cli_args *a)
{
	const char *t = cli_need_tenant(cli, a->path, a->v[O_TENANT].s);
	struct pbx_rows rows;
	char *end;
	long pos = strtol(a->argv[1], &end, 10);
	pbx_ctx *ctx;

	if (!t)
		return CLI_USAGE;
	if (*end || end == a->argv[1] || pos < 1) {
		cli_usage_error(a->path, NULL, "POSITION must be a rule number, from 1");
		return CLI_USAGE;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	return cli_finish_change(cli, pbx_policy_rule_remove(ctx, t, a->argv[0], pos, &rows, &cli->err),
			     "remove-rule", true, &rows, NULL);
}

/* A policy of the tenant: what most verbs pass first. */
#define POLICY_IN CLI_FROM_TENANT(O_TENANT), CLI_FROM_ARG(0)

static const struct cli_cmd policy_verbs[] = {
	{ .name = "create", .summary = "create an empty outbound policy (it blocks everything)",
	  .synopsis = "policy create NAME [--tenant SLUG] [--description TEXT]",
	  .opts = CLI_OPTS(create_opts), .run = cmd_policy_create, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list a tenant's policies",
	  .synopsis = "policy list [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .max_args = 0, .flags = CMD_PG | CMD_DEFAULT,
	  .call = { .s1 = pbx_policy_list, .in = { CLI_FROM_TENANT(O_TENANT) },
		    .show = CLI_SHOW_LIST } },
	{ .name = "show", .summary = "show one policy with its rules",
	  .synopsis = "policy show NAME [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 1, .max_args = 1, .flags = CMD_PG, .args = CLI_ARG_POLICY,
	  .call = { .s2 = pbx_policy_show, .in = { POLICY_IN }, .show = CLI_SHOW_OBJECT } },
	{ .name = "update", .summary = "rename a policy or change its description",
	  .synopsis = "policy update NAME [--tenant SLUG] [--name NEW] [--description TEXT]",
	  .opts = CLI_OPTS(update_opts), .run = cmd_policy_update, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_POLICY },
	{ .name = "delete", .aliases = cli_aliases_rm,
	  .summary = "delete a policy (refused while in use, unless --force)",
	  .synopsis = "policy delete NAME [--tenant SLUG] [--force]", .opts = CLI_OPTS(delete_opts),
	  .min_args = 1, .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_POLICY,
	  .call = { .s2_b = pbx_policy_delete,
		    .in = { CLI_FROM_TENANT(D_TENANT), CLI_FROM_ARG(0) }, .flag = CLI_FROM_FLAG(D_FORCE),
		    .show = CLI_SHOW_GONE, .action = "delete" } },
	{ .name = "rules", .summary = "list a policy's rules in order, with their Asterisk patterns",
	  .synopsis = "policy rules NAME [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 1, .max_args = 1, .flags = CMD_PG, .args = CLI_ARG_POLICY,
	  .call = { .s2 = pbx_policy_rules, .in = { POLICY_IN }, .show = CLI_SHOW_LIST } },
	{ .name = "add-rule", .summary = "add a rule to a policy",
	  .synopsis = "policy add-rule NAME --pattern REGEX --allow --trunks LIST [--strip N] [--prepend DIGITS] [--position N] [--tenant SLUG]\n"
		      "policy add-rule NAME --pattern REGEX --block [--position N] [--tenant SLUG]",
	  .opts = CLI_OPTS(add_rule_opts), .run = cmd_policy_add_rule, .min_args = 1,
	  .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_POLICY },
	{ .name = "remove-rule", .summary = "remove the rule at a position; later rules move up",
	  .synopsis = "policy remove-rule NAME POSITION [--tenant SLUG]",
	  .opts = CLI_OPTS(tenant_opts), .run = cmd_policy_remove_rule, .min_args = 2,
	  .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_POLICY },
	{ .name = "test", .summary = "what a policy does with a number, without placing a call",
	  .synopsis = "policy test NAME NUMBER [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 2, .max_args = 2, .flags = CMD_PG, .args = CLI_ARG_POLICY,
	  .call = { .s3 = pbx_policy_test, .in = { POLICY_IN, CLI_FROM_ARG(1) },
		    .show = CLI_SHOW_OBJECT } },
	{ .name = "assign", .summary = "give a user its own policy instead of the tenant's default",
	  .synopsis = "policy assign NAME USER [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 2, .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_POLICY,
	  .call = { .s3_c = pbx_policy_assign,
		    .in = { CLI_FROM_TENANT(O_TENANT), CLI_FROM_ARG(1), CLI_FROM_ARG(0) },
		    .show = CLI_SHOW_CHANGE, .action = "assign" } },
	{ .name = "unassign", .summary = "make a user follow the tenant's default policy again",
	  .synopsis = "policy unassign USER [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 1, .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_USER,
	  .call = { .s3_c = pbx_policy_assign,
		    .in = { CLI_FROM_TENANT(O_TENANT), CLI_FROM_ARG(0), CLI_FROM_CONST(NULL) },
		    .show = CLI_SHOW_CHANGE, .action = "unassign" } },
	{ .name = "users", .summary = "the policy each user's calls go by",
	  .synopsis = "policy users [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .max_args = 0, .flags = CMD_PG,
	  .call = { .s1 = pbx_policy_users, .in = { CLI_FROM_TENANT(O_TENANT) },
		    .show = CLI_SHOW_LIST } },
};

const struct cli_cmd cmd_policy = {
	.name = "policy",
	.summary = "manage outbound calling policies and their rules",
	.subs = CLI_SUBS(policy_verbs),
	.max_args = -1,
};
