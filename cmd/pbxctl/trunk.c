/* SPDX-License-Identifier: MIT */
/*
 * pbxctl trunk: create, list, show (--reveal-secret), update, delete, status. A trunk is
 * named by its name, unique across tenants. The provider's secret comes from --secret-file
 * FILE (- for standard input), so that it never shows in the process list, or --secret; it
 * is wiped from memory once sealed, and printed only by an audited reveal.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/secret.h"
#include "pbx/trunk.h"
#include "cli.h"

static const char *const transport_values[] = { "udp", "tcp", "tls", NULL };
static const char *const auth_values[] = { "registration", "ip_auth", NULL };
static const char *const cid_values[] = { "pass", "force", NULL };

enum {
	O_HOST, O_PORT, O_TRANSPORT, O_AUTH, O_USERNAME, O_SECRET, O_SECRET_FILE, O_MATCH,
	O_CODECS, O_CID_MODE, O_CID, O_ENABLE, O_DISABLE, O_TENANT, O_GLOBAL,
};

#define SPEC_OPTS \
	[O_HOST] = { "host", 0, "HOST", "provider host: DNS name, IPv4 or IPv6 address", CLI_OPT_STRING, NULL, 0 }, \
	[O_PORT] = { "port", 0, "PORT", "provider port (default 5060)", CLI_OPT_INT, NULL, 0 }, \
	[O_TRANSPORT] = { "transport", 0, "T", "udp (default), tcp or tls", CLI_OPT_ENUM, transport_values, 0 }, \
	[O_AUTH] = { "auth", 0, "MODE", "registration (username and secret) or ip_auth (the provider's addresses)", CLI_OPT_ENUM, auth_values, 0 }, \
	[O_USERNAME] = { "username", 0, "USER", "registration: user name at the provider", CLI_OPT_STRING, NULL, 0 }, \
	[O_SECRET] = { "secret", 0, "SECRET", "registration: the secret (visible to ps; prefer --secret-file)", CLI_OPT_SECRET, NULL, 0 }, \
	[O_SECRET_FILE] = { "secret-file", 0, "FILE", "registration: read the secret from the first line of FILE (- for standard input)", CLI_OPT_FILE, NULL, CLI_ARG_FILE }, \
	[O_MATCH] = { "match", 0, "ADDRS", "ip_auth: comma-separated addresses or CIDRs the provider calls from", CLI_OPT_STRING, NULL, 0 }, \
	[O_CODECS] = { "codecs", 0, "LIST", "ordered, comma-separated (default ulaw,alaw)", CLI_OPT_STRING, NULL, 0 }, \
	[O_CID_MODE] = { "callerid-mode", 0, "MODE", "pass: the calling user's caller ID (default); force: always --callerid", CLI_OPT_ENUM, cid_values, 0 }, \
	[O_CID] = { "callerid", 0, "NUMBER", "the trunk's number, [+]2 to 20 digits; empty to clear", CLI_OPT_STRING, NULL, 0 }, \
	[O_ENABLE] = { "enable", 0, NULL, "put the trunk in service (default)", CLI_OPT_FLAG, NULL, 0 }, \
	[O_DISABLE] = { "disable", 0, NULL, "take the trunk out of service: no rows in Asterisk", CLI_OPT_FLAG, NULL, 0 }

static const struct cli_opt create_opts[] = {
	SPEC_OPTS,
	[O_TENANT] = CLI_OPT_TENANT("owning tenant (default -t / $PBXCTL_TENANT)"),
	[O_GLOBAL] = { "global", 0, NULL, "a trunk every tenant's policies may use", CLI_OPT_FLAG, NULL, 0 },
};

static const struct cli_opt update_opts[] = {
	SPEC_OPTS,
};

/* Fill @s; the secret goes through @buf (wiped by the caller). */
static int parse_spec(const char *path, const struct cli_args *a, struct pbx_trunk_spec *s,
		      char *buf, size_t n)
{
	if ((s->enabled = cli_flag_pair(a, O_ENABLE, O_DISABLE)) == -2)
		return -1;
	if (a->v[O_SECRET].set && a->v[O_SECRET_FILE].set) {
		cli_usage_error(path, NULL, "give only one of --secret and --secret-file");
		return -1;
	}
	if (a->v[O_PORT].set && (a->v[O_PORT].i < 1 || a->v[O_PORT].i > 65535)) {
		cli_usage_error(path, NULL, "--port must be 1 to 65535");
		return -1;
	}
	s->host = a->v[O_HOST].s;
	s->port = a->v[O_PORT].set ? (int)a->v[O_PORT].i : 0;
	s->transport = a->v[O_TRANSPORT].s;
	s->auth = a->v[O_AUTH].s;
	s->username = a->v[O_USERNAME].s;
	s->match = a->v[O_MATCH].s;
	s->codecs = a->v[O_CODECS].s;
	s->callerid_mode = a->v[O_CID_MODE].s;
	s->callerid = a->v[O_CID].s;
	if (a->v[O_SECRET_FILE].set) {
		if (cli_read_secret_line(path, a->v[O_SECRET_FILE].s, "secret", false, buf, n) < 0)
			return -1;
		s->secret = buf;
	} else {
		s->secret = a->v[O_SECRET].s;
	}
	return 0;
}

static int cmd_trunk_create(struct cli *cli, struct cli_args *a)
{
	struct pbx_trunk_spec spec = PBX_TRUNK_SPEC_INIT;
	char secret[PBX_TRUNK_SECRET_MAX + 8] = "";
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (parse_spec(a->path, a, &spec, secret, sizeof(secret)) < 0)
		return CLI_USAGE;
	spec.name = a->argv[0];
	spec.global = a->v[O_GLOBAL].set;
	if (a->v[O_GLOBAL].set && a->v[O_TENANT].set) {
		cli_usage_error(a->path, NULL, "--tenant and --global contradict each other");
		return CLI_USAGE;
	}
	spec.tenant = spec.global ? NULL : cli_tenant(cli, a->v[O_TENANT].s);
	if (!spec.global && !spec.tenant) {
		cli_usage_error(a->path, NULL,
				"give the trunk a tenant (--tenant SLUG, -t SLUG) or make it --global");
		return CLI_USAGE;
	}
	if (!(ctx = cli_ctx(cli))) {
		pbx_secret_wipe(secret, sizeof(secret));
		return cli->err.code;
	}
	r = pbx_trunk_create(ctx, &spec, &rows, &cli->err);
	pbx_secret_wipe(secret, sizeof(secret));
	return cli_finish_change(cli, r, "create", true, &rows, pbx_trunk_rows_free);
}

#define LIST_TENANT_OPT CLI_OPT_TENANT("this tenant's trunks and the global ones (default -t / $PBXCTL_TENANT; none: all)")

enum { L_TENANT, L_GLOBAL };
static const struct cli_opt list_opts[] = {
	[L_TENANT] = LIST_TENANT_OPT,
	[L_GLOBAL] = { "global", 0, NULL, "only the global trunks", CLI_OPT_FLAG, NULL, 0 },
};
static const struct cli_opt status_opts[] = {
	[L_TENANT] = LIST_TENANT_OPT,
};

enum { S_REVEAL };
static const struct cli_opt show_opts[] = {
	[S_REVEAL] = { "reveal-secret", 0, NULL, "print the registration secret (recorded in the audit log)", CLI_OPT_FLAG, NULL, 0 },
};

static int cmd_trunk_update(struct cli *cli, struct cli_args *a)
{
	struct pbx_trunk_spec spec = PBX_TRUNK_SPEC_INIT;
	char secret[PBX_TRUNK_SECRET_MAX + 8] = "";
	struct pbx_rows rows;
	bool changed = false;
	pbx_ctx *ctx;
	int r;

	if (parse_spec(a->path, a, &spec, secret, sizeof(secret)) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(cli))) {
		pbx_secret_wipe(secret, sizeof(secret));
		return cli->err.code;
	}
	r = pbx_trunk_update(ctx, a->argv[0], &spec, &rows, &changed, &cli->err);
	pbx_secret_wipe(secret, sizeof(secret));
	return cli_finish_change(cli, r, "update", changed, &rows, pbx_trunk_rows_free);
}

static const struct cli_cmd trunk_verbs[] = {
	{ .name = "create", .summary = "add a SIP trunk to a provider",
	  .synopsis = "trunk create NAME [--tenant SLUG|--global] --host HOST [--port PORT] [--transport T]\n"
		      "trunk create NAME --auth MODE [--username USER] [--secret SECRET|--secret-file FILE] [--match ADDRS]\n"
		      "trunk create NAME [--codecs LIST] [--callerid-mode MODE] [--callerid NUMBER] [--enable|--disable]",
	  .opts = CLI_OPTS(create_opts), .run = cmd_trunk_create, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list trunks",
	  .synopsis = "trunk list [--tenant SLUG] [--global]", .opts = CLI_OPTS(list_opts),
	  .max_args = 0, .flags = CMD_PG | CMD_DEFAULT,
	  .call = { .s1_b = pbx_trunk_list, .in = { CLI_FROM_ANY_TENANT(L_TENANT) },
		    .flag = CLI_FROM_FLAG(L_GLOBAL), .show = CLI_SHOW_LIST } },
	{ .name = "show", .summary = "show one trunk", .synopsis = "trunk show NAME [--reveal-secret]",
	  .opts = CLI_OPTS(show_opts), .min_args = 1, .max_args = 1, .flags = CMD_PG,
	  .args = CLI_ARG_TRUNK,
	  .call = { .s1_b = pbx_trunk_show, .in = { CLI_FROM_ARG(0) }, .flag = CLI_FROM_FLAG(S_REVEAL),
		    .show = CLI_SHOW_OBJECT, .free_rows = pbx_trunk_rows_free } },
	{ .name = "update", .summary = "change a trunk's settings",
	  .synopsis = "trunk update NAME [--host HOST] [--port PORT] [--transport T] [--auth MODE]\n"
		      "trunk update NAME [--username USER] [--secret SECRET|--secret-file FILE] [--match ADDRS]\n"
		      "trunk update NAME [--codecs LIST] [--callerid-mode MODE] [--callerid NUMBER] [--enable|--disable]",
	  .opts = CLI_OPTS(update_opts), .run = cmd_trunk_update, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_TRUNK },
	{ .name = "delete", .aliases = cli_aliases_rm,
	  .summary = "remove a trunk (refused while a policy uses it)", .synopsis = "trunk delete NAME",
	  .min_args = 1, .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_TRUNK,
	  .call = { .s1 = pbx_trunk_delete, .in = { CLI_FROM_ARG(0) }, .show = CLI_SHOW_GONE,
		    .action = "delete" } },
	{ .name = "status", .summary = "registration and reachability as Asterisk sees them",
	  .synopsis = "trunk status [NAME] [--tenant SLUG]", .opts = CLI_OPTS(status_opts),
	  .max_args = 1, .flags = CMD_PG | CMD_AMI, .args = CLI_ARG_TRUNK,
	  .call = { .s2 = pbx_trunk_status,
		    .in = { CLI_FROM_ANY_TENANT(L_TENANT), CLI_FROM_ARG(0) },
		    .show = CLI_SHOW_LIST } },
};

const struct cli_cmd cmd_trunk = {
	.name = "trunk",
	.summary = "manage SIP trunks to providers",
	.subs = CLI_SUBS(trunk_verbs),
	.max_args = -1,
};
