/* SPDX-License-Identifier: MIT */
/*
 * pbxctl device: create, list (--status), show (--reveal-secret), status, update, enable,
 * disable, delete and rotate-secret. A device is named by its user and its label. create and rotate-secret print
 * the new SIP secret once, with a reminder on stderr in the text formats; show prints it
 * only with --reveal-secret, which the library records in the audit log first.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbx/device.h"
#include "pbx/diag.h"
#include "cli.h"

/* Like wg genkey: a secret about to land in a file others can read deserves a warning. */
static void warn_if_readable(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH))
		fprintf(stderr, "pbxctl: warning: writing a secret to a world-readable file\n");
}

/* Print a result that carries the plaintext secret; never silenced by -q. */
static int show_secret(struct cli *cli, const char *action, struct pbx_rows *rows, bool note)
{
	int r;

	warn_if_readable();
	if (action)
		r = cli_render_change(stdout, &cli->out, action, true, rows, 0);
	else
		r = cli_show_object(cli, rows);
	if (note && (cli->out.mode == CLI_OUT_TABLE || cli->out.mode == CLI_OUT_TSV))
		fprintf(stderr, "pbxctl: store this secret now; it will not be shown again\n");
	pbx_device_rows_free(rows);
	return r;
}

enum {
	O_TENANT, O_TRANSPORT, O_CODECS, O_RPORT, O_NO_RPORT, O_REWRITE, O_NO_REWRITE, O_RTP,
	O_NO_RTP, O_DIRECT, O_NO_DIRECT, O_LABEL,
};

static const char *const transport_values[] = { "udp", "tcp", "tls", "wss", NULL };

#define TENANT_OPT CLI_OPT_TENANT("tenant of the user (default -t / $PBXCTL_TENANT)")
#define SPEC_OPTS \
	[O_TENANT] = TENANT_OPT, \
	[O_TRANSPORT] = { "transport", 0, "T", "udp (default), tcp, tls or wss", CLI_OPT_ENUM, transport_values, 0 }, \
	[O_CODECS] = { "codecs", 0, "LIST", "ordered, comma-separated: " PBX_DEVICE_CODECS " (default ulaw,alaw)", CLI_OPT_STRING, NULL, 0 }, \
	[O_RPORT] = { "force-rport", 0, NULL, "NAT: answer to the source port (default)", CLI_OPT_FLAG, NULL, 0 }, \
	[O_NO_RPORT] = { "no-force-rport", 0, NULL, "NAT: answer to the Via port", CLI_OPT_FLAG, NULL, 0 }, \
	[O_REWRITE] = { "rewrite-contact", 0, NULL, "NAT: contact the device where it registered from (default)", CLI_OPT_FLAG, NULL, 0 }, \
	[O_NO_REWRITE] = { "no-rewrite-contact", 0, NULL, "NAT: use the Contact header as sent", CLI_OPT_FLAG, NULL, 0 }, \
	[O_RTP] = { "rtp-symmetric", 0, NULL, "NAT: send RTP where it comes from (default)", CLI_OPT_FLAG, NULL, 0 }, \
	[O_NO_RTP] = { "no-rtp-symmetric", 0, NULL, "NAT: send RTP to the address in the SDP", CLI_OPT_FLAG, NULL, 0 }, \
	[O_DIRECT] = { "direct-media", 0, NULL, "let media flow between phones, bypassing Asterisk", CLI_OPT_FLAG, NULL, 0 }, \
	[O_NO_DIRECT] = { "no-direct-media", 0, NULL, "keep media through Asterisk (default)", CLI_OPT_FLAG, NULL, 0 }

static const struct cli_opt create_opts[] = {
	SPEC_OPTS,
};

static const struct cli_opt update_opts[] = {
	SPEC_OPTS,
	[O_LABEL] = { "label", 0, "NEW", "rename the device", CLI_OPT_STRING, NULL, 0 },
};

static int parse_spec(const struct cli_args *a, struct pbx_device_spec *s)
{
	s->transport = a->v[O_TRANSPORT].s;
	s->codecs = a->v[O_CODECS].s;
	if ((s->force_rport = cli_flag_pair(a, O_RPORT, O_NO_RPORT)) == -2 ||
	    (s->rewrite_contact = cli_flag_pair(a, O_REWRITE, O_NO_REWRITE)) == -2 ||
	    (s->rtp_symmetric = cli_flag_pair(a, O_RTP, O_NO_RTP)) == -2 ||
	    (s->direct_media = cli_flag_pair(a, O_DIRECT, O_NO_DIRECT)) == -2)
		return -1;
	return 0;
}

static int cmd_device_create(struct cli *cli, struct cli_args *a)
{
	struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;
	const char *t = cli_need_tenant(cli, a->path, a->v[O_TENANT].s);
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!t)
		return CLI_USAGE;
	spec.label = a->argv[1];
	if (parse_spec(a, &spec) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if ((r = pbx_device_create(ctx, t, a->argv[0], &spec, &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	return show_secret(cli, "create", &rows, true);
}

enum { S_TENANT, S_REVEAL };
static const struct cli_opt show_opts[] = {
	[S_TENANT] = TENANT_OPT,
	[S_REVEAL] = { "reveal-secret", 0, NULL, "print the SIP secret (recorded in the audit log)", CLI_OPT_FLAG, NULL, 0 },
};

enum { L_TENANT, L_STATUS };
static const struct cli_opt list_opts[] = {
	[L_TENANT] = TENANT_OPT,
	[L_STATUS] = { "status", 0, NULL, "registration status from Asterisk instead (one AMI round trip, cached 30 s)", CLI_OPT_FLAG, NULL, 0 },
};

enum { ST_TENANT, ST_REFRESH };
static const struct cli_opt status_opts[] = {
	[ST_TENANT] = TENANT_OPT,
	[ST_REFRESH] = { "refresh", 0, NULL, "ask Asterisk now instead of using the 30 s cache", CLI_OPT_FLAG, NULL, 0 },
};

/* Registration status of a tenant's, a user's or one device's devices. */
static int show_status(struct cli *cli, pbx_ctx *ctx, const char *tenant, const char *user,
		       const char *device, bool refresh)
{
	struct pbx_diag_device_query q = {
		.tenant = tenant, .user = user, .device = device, .refresh = refresh,
	};
	struct pbx_rows rows;
	int r;

	r = pbx_diag_devices(ctx, &q, &rows, &cli->err);
	return device ? cli_finish_object(cli, r, &rows) : cli_finish_list(cli, r, &rows);
}

static int cmd_device_status(struct cli *cli, struct cli_args *a)
{
	const char *t;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[ST_TENANT].s, &t, &ctx)) != 0)
		return r;
	return show_status(cli, ctx, t, a->argv[0], a->argc > 1 ? a->argv[1] : NULL,
			   a->v[ST_REFRESH].set);
}

static int cmd_device_list(struct cli *cli, struct cli_args *a)
{
	const char *t;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[L_TENANT].s, &t, &ctx)) != 0)
		return r;
	if (a->v[L_STATUS].set)
		return show_status(cli, ctx, t, a->argc > 0 ? a->argv[0] : NULL, NULL, false);
	r = pbx_device_list(ctx, t, a->argc > 0 ? a->argv[0] : NULL, &rows, &cli->err);
	return cli_finish_list(cli, r, &rows);
}

static int cmd_device_show(struct cli *cli, struct cli_args *a)
{
	const char *t;
	bool reveal = a->v[S_REVEAL].set;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[S_TENANT].s, &t, &ctx)) != 0)
		return r;
	r = pbx_device_show(ctx, t, a->argv[0], a->argv[1], reveal, &rows, &cli->err);
	if (r < 0)
		return cli_fail(cli, r);
	if (reveal)
		return show_secret(cli, NULL, &rows, false);
	r = cli_show_object(cli, &rows);
	pbx_rows_free(&rows);
	return r;
}

static int cmd_device_update(struct cli *cli, struct cli_args *a)
{
	struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;
	const char *t = cli_need_tenant(cli, a->path, a->v[O_TENANT].s);
	struct pbx_rows rows;
	bool changed = false;
	pbx_ctx *ctx;
	int r;

	if (!t)
		return CLI_USAGE;
	spec.label = a->v[O_LABEL].s;
	if (parse_spec(a, &spec) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	/* Separate statements: @changed must be read after the call has set it. */
	r = pbx_device_update(ctx, t, a->argv[0], a->argv[1], &spec, &rows, &changed, &cli->err);
	return cli_finish_change(cli, r, "update", changed, &rows, pbx_device_rows_free);
}

enum { T_TENANT };
static const struct cli_opt tenant_opts[] = {
	[T_TENANT] = TENANT_OPT,
};

/* A device: its tenant, its user and its label. */
#define DEVICE_IN { CLI_FROM_TENANT(T_TENANT), CLI_FROM_ARG(0), CLI_FROM_ARG(1) }

static int cmd_device_rotate_secret(struct cli *cli, struct cli_args *a)
{
	const char *t;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[T_TENANT].s, &t, &ctx)) != 0)
		return r;
	if ((r = pbx_device_rotate_secret(ctx, t, a->argv[0], a->argv[1], &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	return show_secret(cli, "rotate-secret", &rows, true);
}

static const struct cli_cmd device_verbs[] = {
	{ .name = "create", .summary = "create a device with a new SIP username and secret (shown once)",
	  .synopsis = "device create USER LABEL [--tenant SLUG] [--transport T] [--codecs LIST]\n"
		      "device create USER LABEL [--force-rport|--no-force-rport] [--rewrite-contact|--no-rewrite-contact]\n"
		      "device create USER LABEL [--rtp-symmetric|--no-rtp-symmetric] [--direct-media|--no-direct-media]",
	  .opts = CLI_OPTS(create_opts), .run = cmd_device_create, .min_args = 2, .max_args = 2,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_USER },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list the devices of a tenant or of one user",
	  .synopsis = "device list [USER] [--tenant SLUG] [--status]", .opts = CLI_OPTS(list_opts),
	  .run = cmd_device_list, .max_args = 1, .flags = CMD_PG | CMD_AMI | CMD_DEFAULT,
	  .args = CLI_ARG_USER },
	{ .name = "show", .summary = "show one device; the secret only with --reveal-secret",
	  .synopsis = "device show USER LABEL [--tenant SLUG] [--reveal-secret]",
	  .opts = CLI_OPTS(show_opts), .run = cmd_device_show, .min_args = 2, .max_args = 2,
	  .flags = CMD_PG, .args = CLI_ARG_DEVICE },
	{ .name = "status", .summary = "registered or not, contact, source address, user agent, expiry",
	  .synopsis = "device status USER [LABEL] [--tenant SLUG] [--refresh]",
	  .opts = CLI_OPTS(status_opts), .run = cmd_device_status, .min_args = 1, .max_args = 2,
	  .flags = CMD_PG | CMD_AMI, .args = CLI_ARG_DEVICE },
	{ .name = "update", .summary = "change a device's label, transport, NAT options or codecs",
	  .synopsis = "device update USER LABEL [--tenant SLUG] [--label NEW] [--transport T] [--codecs LIST]\n"
		      "device update USER LABEL [--force-rport|--no-force-rport] [--rewrite-contact|--no-rewrite-contact]\n"
		      "device update USER LABEL [--rtp-symmetric|--no-rtp-symmetric] [--direct-media|--no-direct-media]",
	  .opts = CLI_OPTS(update_opts), .run = cmd_device_update, .min_args = 2, .max_args = 2,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DEVICE },
	{ .name = "enable", .summary = "let a disabled device register again (after the next apply)",
	  .synopsis = "device enable USER LABEL [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 2, .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DEVICE,
	  .call = { .s3_bc = pbx_device_set_enabled, .in = DEVICE_IN, .flag = CLI_FROM_BOOL(1),
		    .show = CLI_SHOW_CHANGE, .action = "enable", .free_rows = pbx_device_rows_free } },
	{ .name = "disable", .summary = "keep a device but stop it registering (after the next apply)",
	  .synopsis = "device disable USER LABEL [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 2, .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DEVICE,
	  .call = { .s3_bc = pbx_device_set_enabled, .in = DEVICE_IN, .flag = CLI_FROM_BOOL(0),
		    .show = CLI_SHOW_CHANGE, .action = "disable", .free_rows = pbx_device_rows_free } },
	{ .name = "delete", .aliases = cli_aliases_rm, .summary = "remove a device",
	  .synopsis = "device delete USER LABEL [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 2, .max_args = 2, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DEVICE,
	  .call = { .s3 = pbx_device_delete, .in = DEVICE_IN, .show = CLI_SHOW_GONE,
		    .action = "delete" } },
	{ .name = "rotate-secret", .summary = "give a device a new SIP secret (shown once)",
	  .synopsis = "device rotate-secret USER LABEL [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .run = cmd_device_rotate_secret, .min_args = 2, .max_args = 2,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_DEVICE },
};

const struct cli_cmd cmd_device = {
	.name = "device",
	.summary = "manage users' SIP devices and their secrets",
	.subs = CLI_SUBS(device_verbs),
	.max_args = -1,
};
