/* SPDX-License-Identifier: MIT */
/*
 * pbxctl operator: add, list, show, set-role, remove (which PostgreSQL logins may use
 * pbxctl, and as what); and pbxctl whoami.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/operator.h"
#include "cli.h"

static const char *const role_values[] = { "platform_admin", "tenant_admin", "support",
					    "end_user", NULL };

/* The options add and set-role share. */
#define TENANT_OPT CLI_OPT_TENANT("the tenant of a tenant_admin or end_user; limits a support operator to it (default: -t)")
#define USER_OPT { "user", 0, "USER", "the user an end_user is (username or id in --tenant)", CLI_OPT_STRING, NULL, CLI_ARG_USER }

enum { ADD_ROLE, ADD_TENANT, ADD_USER, ADD_CREATE_LOGIN };
static const struct cli_opt add_opts[] = {
	[ADD_ROLE] = { "role", 0, "ROLE", "platform_admin, tenant_admin, support or end_user", CLI_OPT_ENUM, role_values, 0 },
	[ADD_TENANT] = TENANT_OPT,
	[ADD_USER] = USER_OPT,
	[ADD_CREATE_LOGIN] = { "create-login", 0, NULL, "also create the PostgreSQL login role, without a password (peer or certificate authentication)", CLI_OPT_FLAG, NULL, 0 },
};

/* -t fills --tenant only for roles that have a tenant: a platform admin never has one. */
static const char *role_tenant(struct cli *cli, const char *role, const char *value)
{
	if (value || !role || !strcmp(role, "platform_admin") || !strcmp(role, "support"))
		return value;
	return cli_tenant(cli, NULL);
}

static int cmd_operator_add(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator_spec spec = {
		.login = a->argv[0],
		.role = a->v[ADD_ROLE].s,
		.tenant = role_tenant(cli, a->v[ADD_ROLE].s, a->v[ADD_TENANT].s),
		.user = a->v[ADD_USER].s,
		.create_login = a->v[ADD_CREATE_LOGIN].set,
	};
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!spec.role) {
		cli_usage_error(a->path, NULL, "a role is required: --role ROLE");
		return CLI_USAGE;
	}
	if ((r = pbx_operator_check(&spec, &cli->err)) < 0)
		return cli_fail(cli, r);
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	return cli_finish_change(cli, pbx_operator_add(ctx, &spec, &rows, &cli->err), "create",
				 true, &rows, NULL);
}

enum { LIST_ROLE };
static const struct cli_opt list_opts[] = {
	[LIST_ROLE] = { "role", 0, "ROLE", "only operators with this role", CLI_OPT_ENUM, role_values, 0 },
};

enum { SET_TENANT, SET_USER };
static const struct cli_opt set_role_opts[] = {
	[SET_TENANT] = TENANT_OPT,
	[SET_USER] = USER_OPT,
};

static int cmd_operator_set_role(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator_spec spec = {
		.login = a->argv[0],
		.role = a->argv[1],
		.tenant = role_tenant(cli, a->argv[1], a->v[SET_TENANT].s),
		.user = a->v[SET_USER].s,
	};
	struct pbx_rows rows;
	bool changed = false;
	pbx_ctx *ctx;
	int r;

	if ((r = pbx_operator_check(&spec, &cli->err)) < 0)
		return cli_fail(cli, r);
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_operator_set_role(ctx, &spec, &rows, &changed, &cli->err);
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

static const struct cli_cmd operator_verbs[] = {
	{ .name = "add", .summary = "map a PostgreSQL login to a pbxctl role (platform_admin only)",
	  .synopsis = "operator add LOGIN --role ROLE [--tenant SLUG] [--user USER] [--create-login]",
	  .opts = CLI_OPTS(add_opts), .run = cmd_operator_add, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list operators",
	  .synopsis = "operator list [--role ROLE]", .opts = CLI_OPTS(list_opts),
	  .max_args = 0, .flags = CMD_PG | CMD_DEFAULT,
	  .call = { .s1 = pbx_operator_list, .in = { CLI_FROM_OPT(LIST_ROLE) },
		    .show = CLI_SHOW_LIST } },
	{ .name = "show", .summary = "show one operator", .synopsis = "operator show LOGIN",
	  .min_args = 1, .max_args = 1, .flags = CMD_PG, .args = CLI_ARG_OPERATOR,
	  .call = { .s1 = pbx_operator_show, .in = { CLI_FROM_ARG(0) },
		    .show = CLI_SHOW_OBJECT } },
	{ .name = "set-role", .summary = "change an operator's role, tenant or user (platform_admin only)",
	  .synopsis = "operator set-role LOGIN ROLE [--tenant SLUG] [--user USER]",
	  .opts = CLI_OPTS(set_role_opts), .run = cmd_operator_set_role, .min_args = 2,
	  .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_OPERATOR },
	{ .name = "remove", .aliases = cli_aliases_rm, .summary = "unmap a login; the login role itself stays (platform_admin only)",
	  .synopsis = "operator remove LOGIN", .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_OPERATOR,
	  .call = { .s1 = pbx_operator_remove, .in = { CLI_FROM_ARG(0) }, .show = CLI_SHOW_CHANGE,
		    .action = "delete" } },
};

const struct cli_cmd cmd_operator = {
	.name = "operator",
	.summary = "manage who may use pbxctl, and as what role",
	.subs = CLI_SUBS(operator_verbs),
	.max_args = -1,
};

static int cmd_whoami_run(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator op;
	struct pbx_rows rows;
	pbx_ctx *ctx = cli_ctx(cli);
	int r;

	if (!ctx)
		return cli->err.code;
	if ((r = pbx_operator_whoami(ctx, &op, &cli->err)) < 0)
		return cli_fail(cli, r);
	return cli_finish_object(cli, pbx_operator_whoami_rows(&op, &rows, &cli->err), &rows);
}

const struct cli_cmd cmd_whoami = {
	.name = "whoami",
	.summary = "show the PostgreSQL login this connection uses and its pbxctl role",
	.synopsis = "whoami",
	.run = cmd_whoami_run,
	.max_args = 0,
	.flags = CMD_PG,
};
