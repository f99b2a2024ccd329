/* SPDX-License-Identifier: MIT */
/*
 * pbxctl did: create, list, show, update (reassigning is an update: --tenant), delete. A
 * DID is named by its E.164 number, unique across tenants; the tenant comes from --tenant
 * or -t / $PBXCTL_TENANT on create, and filters list.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/did.h"
#include "cli.h"

enum { O_TENANT, O_LABEL, O_PROVIDER, O_DESTINATION, O_ENABLE, O_DISABLE };

#define SPEC_OPTS(tenant_help) \
	[O_TENANT] = CLI_OPT_TENANT(tenant_help), \
	[O_LABEL] = { "label", 0, "TEXT", "free text shown in lists; empty to clear", CLI_OPT_STRING, NULL, 0 }, \
	[O_PROVIDER] = { "provider", 0, "TEXT", "the carrier the number comes from; empty to clear", CLI_OPT_STRING, NULL, 0 }, \
	[O_DESTINATION] = { "destination", 0, "DEST", "user:NAME, ext:N, voicemail:NAME or external:+E164; empty: the tenant's default", CLI_OPT_STRING, NULL, 0 }, \
	[O_ENABLE] = { "enable", 0, NULL, "route the number to its destination (default)", CLI_OPT_FLAG, NULL, 0 }, \
	[O_DISABLE] = { "disable", 0, NULL, "send the number to the tenant's default destination", CLI_OPT_FLAG, NULL, 0 }

static const struct cli_opt create_opts[] = {
	SPEC_OPTS("owning tenant (default -t / $PBXCTL_TENANT)"),
};

static const struct cli_opt update_opts[] = {
	SPEC_OPTS("move the number to this tenant"),
};

static int parse_spec(const struct cli_args *a, struct pbx_did_spec *s)
{
	if ((s->enabled = cli_flag_pair(a, O_ENABLE, O_DISABLE)) == -2)
		return -1;
	s->label = a->v[O_LABEL].s;
	s->provider = a->v[O_PROVIDER].s;
	s->destination = a->v[O_DESTINATION].s;
	return 0;
}

static int cmd_did_create(struct cli *cli, struct cli_args *a)
{
	struct pbx_did_spec spec = PBX_DID_SPEC_INIT;
	struct pbx_rows rows;
	pbx_ctx *ctx;

	if (parse_spec(a, &spec) < 0)
		return CLI_USAGE;
	spec.number = a->argv[0];
	spec.tenant = cli_tenant(cli, a->v[O_TENANT].s);
	if (!spec.tenant) {
		cli_usage_error(a->path, NULL,
				"a tenant is required: --tenant SLUG, -t SLUG or $PBXCTL_TENANT");
		return CLI_USAGE;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	return cli_finish_change(cli, pbx_did_create(ctx, &spec, &rows, &cli->err), "create", true,
			     &rows, NULL);
}

enum { L_TENANT };
static const struct cli_opt list_opts[] = {
	[L_TENANT] = CLI_OPT_TENANT("only this tenant's numbers (default -t / $PBXCTL_TENANT; none: all)"),
};

static int cmd_did_update(struct cli *cli, struct cli_args *a)
{
	struct pbx_did_spec spec = PBX_DID_SPEC_INIT;
	struct pbx_rows rows;
	bool changed = false;
	pbx_ctx *ctx;
	int r;

	if (parse_spec(a, &spec) < 0)
		return CLI_USAGE;
	spec.tenant = a->v[O_TENANT].s;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_did_update(ctx, a->argv[0], &spec, &rows, &changed, &cli->err);
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

static const struct cli_cmd did_verbs[] = {
	{ .name = "create", .summary = "give a tenant a phone number",
	  .synopsis = "did create NUMBER [--tenant SLUG] [--label TEXT] [--provider TEXT]\n"
		      "did create NUMBER [--destination DEST] [--enable|--disable]",
	  .opts = CLI_OPTS(create_opts), .run = cmd_did_create, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list phone numbers",
	  .synopsis = "did list [--tenant SLUG]", .opts = CLI_OPTS(list_opts), .max_args = 0,
	  .flags = CMD_PG | CMD_DEFAULT,
	  .call = { .s1 = pbx_did_list, .in = { CLI_FROM_ANY_TENANT(L_TENANT) },
		    .show = CLI_SHOW_LIST } },
	{ .name = "show", .summary = "show one phone number", .synopsis = "did show NUMBER",
	  .min_args = 1, .max_args = 1, .flags = CMD_PG, .args = CLI_ARG_DID,
	  .call = { .s1 = pbx_did_show, .in = { CLI_FROM_ARG(0) }, .show = CLI_SHOW_OBJECT } },
	{ .name = "update", .summary = "change a number's destination, label or tenant",
	  .synopsis = "did update NUMBER [--tenant SLUG] [--label TEXT] [--provider TEXT]\n"
		      "did update NUMBER [--destination DEST] [--enable|--disable]",
	  .opts = CLI_OPTS(update_opts), .run = cmd_did_update, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DID },
	{ .name = "delete", .aliases = cli_aliases_rm, .summary = "give a phone number up",
	  .synopsis = "did delete NUMBER", .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DID,
	  .call = { .s1 = pbx_did_delete, .in = { CLI_FROM_ARG(0) }, .show = CLI_SHOW_GONE,
		    .action = "delete" } },
};

const struct cli_cmd cmd_did = {
	.name = "did",
	.summary = "manage phone numbers (DIDs) and where their calls go",
	.subs = CLI_SUBS(did_verbs),
	.max_args = -1,
};
