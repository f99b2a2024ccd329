/* SPDX-License-Identifier: MIT */
/*
 * pbxctl tenant: create, list, show, update, suspend, resume, delete, stats. A tenant is
 * named by its slug, or by -t / $PBXCTL_TENANT when the slug is left out.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/tenant.h"
#include "cli.h"

enum { CREATE_NAME, CREATE_EXTENSIONS, CREATE_DEFAULT_INBOUND };
static const struct cli_opt create_opts[] = {
	[CREATE_NAME] = { "name", 0, "NAME", "display name (default: the slug)", CLI_OPT_STRING, NULL, 0 },
	[CREATE_EXTENSIONS] = { "extensions", 0, "MIN-MAX", "extension range, 2 to 8 digits each", CLI_OPT_STRING, NULL, 0 },
	[CREATE_DEFAULT_INBOUND] = { "default-inbound", 0, "DEST", "where unassigned DIDs go (user:NAME, ext:N, voicemail:NAME, external:+E164)", CLI_OPT_STRING, NULL, 0 },
};

static int cmd_tenant_create(struct cli *cli, struct cli_args *a)
{
	struct pbx_tenant_spec spec = {
		.slug = a->argv[0],
		.name = a->v[CREATE_NAME].s,
		.extensions = a->v[CREATE_EXTENSIONS].s,
		.default_inbound = a->v[CREATE_DEFAULT_INBOUND].s,
	};
	struct pbx_rows rows;
	pbx_ctx *ctx = cli_ctx(cli);

	if (!ctx)
		return cli->err.code;
	return cli_finish_change(cli, pbx_tenant_create(ctx, &spec, &rows, &cli->err), "create", true,
			     &rows, NULL);
}

static const char *const status_values[] = { "active", "suspended", NULL };
enum { LIST_STATUS };
static const struct cli_opt list_opts[] = {
	[LIST_STATUS] = { "status", 0, "STATUS", "only tenants with this status", CLI_OPT_ENUM, status_values, 0 },
};

enum { UPDATE_NAME, UPDATE_EXTENSIONS, UPDATE_DEFAULT_INBOUND, UPDATE_DEFAULT_POLICY,
       UPDATE_EMERGENCY_TRUNK, UPDATE_EMERGENCY_CALLERID };
static const struct cli_opt update_opts[] = {
	[UPDATE_NAME] = { "name", 0, "NAME", "new display name", CLI_OPT_STRING, NULL, 0 },
	[UPDATE_EXTENSIONS] = { "extensions", 0, "MIN-MAX", "new extension range; may not leave assigned extensions outside", CLI_OPT_STRING, NULL, 0 },
	[UPDATE_DEFAULT_INBOUND] = { "default-inbound", 0, "DEST", "where unassigned DIDs go; empty to clear", CLI_OPT_STRING, NULL, 0 },
	[UPDATE_DEFAULT_POLICY] = { "default-policy", 0, "POLICY", "outbound policy of users without their own; empty to clear", CLI_OPT_STRING, NULL, CLI_ARG_POLICY },
	[UPDATE_EMERGENCY_TRUNK] = { "emergency-trunk", 0, "TRUNK", "the tenant's or a global trunk for emergency numbers its users' policies do not allow; empty to clear", CLI_OPT_STRING, NULL, CLI_ARG_TRUNK },
	[UPDATE_EMERGENCY_CALLERID] = { "emergency-callerid", 0, "NUMBER", "caller ID of every emergency call, [+]2 to 20 digits; empty to clear", CLI_OPT_STRING, NULL, 0 },
};

static int cmd_tenant_update(struct cli *cli, struct cli_args *a)
{
	struct pbx_tenant_spec spec = {
		.name = a->v[UPDATE_NAME].s,
		.extensions = a->v[UPDATE_EXTENSIONS].s,
		.default_inbound = a->v[UPDATE_DEFAULT_INBOUND].s,
		.default_policy = a->v[UPDATE_DEFAULT_POLICY].s,
		.emergency_trunk = a->v[UPDATE_EMERGENCY_TRUNK].s,
		.emergency_callerid = a->v[UPDATE_EMERGENCY_CALLERID].s,
	};
	struct pbx_rows rows;
	bool changed = false;
	const char *t = cli_need_slug(cli, a, 0);
	pbx_ctx *ctx;
	int r;

	if (!t)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_tenant_update(ctx, t, &spec, &rows, &changed, &cli->err);
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

enum { DELETE_FORCE };
static const struct cli_opt delete_opts[] = {
	[DELETE_FORCE] = { "force", 0, NULL, "also remove all of the tenant's users and devices", CLI_OPT_FLAG, NULL, 0 },
};

static const struct cli_cmd tenant_verbs[] = {
	{ .name = "create", .summary = "create a tenant with an extension range",
	  .synopsis = "tenant create SLUG --extensions MIN-MAX [--name NAME] [--default-inbound DEST]",
	  .opts = CLI_OPTS(create_opts), .run = cmd_tenant_create, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list tenants",
	  .synopsis = "tenant list [--status STATUS]", .opts = CLI_OPTS(list_opts), .max_args = 0,
	  .flags = CMD_PG | CMD_DEFAULT,
	  .call = { .s1 = pbx_tenant_list, .in = { CLI_FROM_OPT(LIST_STATUS) },
		    .show = CLI_SHOW_LIST } },
	{ .name = "show", .summary = "show one tenant", .synopsis = "tenant show [SLUG]",
	  .max_args = 1, .flags = CMD_PG, .args = CLI_ARG_TENANT,
	  .call = { .s1 = pbx_tenant_show, .in = { CLI_FROM_SLUG(0) }, .show = CLI_SHOW_OBJECT } },
	{ .name = "update", .summary = "change a tenant's name, range, default inbound destination, default policy or emergency routing",
	  .synopsis = "tenant update [SLUG] [--name NAME] [--extensions MIN-MAX] [--default-inbound DEST]\n"
		      "tenant update [SLUG] [--default-policy POLICY]\n"
		      "tenant update [SLUG] [--emergency-trunk TRUNK] [--emergency-callerid NUMBER]",
	  .opts = CLI_OPTS(update_opts), .run = cmd_tenant_update, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_TENANT },
	{ .name = "suspend", .summary = "suspend a tenant: its calls are refused after the next apply",
	  .synopsis = "tenant suspend [SLUG]", .max_args = 1, .flags = CMD_PG | CMD_WRITES,
	  .args = CLI_ARG_TENANT,
	  .call = { .s2_c = pbx_tenant_set_status,
		    .in = { CLI_FROM_SLUG(0), CLI_FROM_CONST("suspended") },
		    .show = CLI_SHOW_CHANGE, .action = "suspend" } },
	{ .name = "resume", .summary = "make a suspended tenant active again",
	  .synopsis = "tenant resume [SLUG]", .max_args = 1, .flags = CMD_PG | CMD_WRITES,
	  .args = CLI_ARG_TENANT,
	  .call = { .s2_c = pbx_tenant_set_status,
		    .in = { CLI_FROM_SLUG(0), CLI_FROM_CONST("active") },
		    .show = CLI_SHOW_CHANGE, .action = "resume" } },
	{ .name = "delete", .aliases = cli_aliases_rm, .summary = "delete a tenant (refused while it has users, unless --force)",
	  .synopsis = "tenant delete [SLUG] [--force]", .opts = CLI_OPTS(delete_opts),
	  .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_TENANT,
	  .call = { .s1_b = pbx_tenant_delete, .in = { CLI_FROM_SLUG(0) },
		    .flag = CLI_FROM_FLAG(DELETE_FORCE), .show = CLI_SHOW_GONE, .action = "delete" } },
	{ .name = "stats", .summary = "count users, devices, phone numbers and extensions used and free",
	  .synopsis = "tenant stats [SLUG]", .max_args = 1, .flags = CMD_PG, .args = CLI_ARG_TENANT,
	  .call = { .s1 = pbx_tenant_stats, .in = { CLI_FROM_ANY_SLUG(0) }, .show = CLI_SHOW_LIST } },
};

const struct cli_cmd cmd_tenant = {
	.name = "tenant",
	.summary = "manage tenants and their extension ranges",
	.subs = CLI_SUBS(tenant_verbs),
	.max_args = -1,
};
