/* SPDX-License-Identifier: MIT */
/*
 * pbxctl user: create, list, show, update, suspend, resume, delete (soft, or --purge) and
 * restore. The tenant comes from --tenant or the global -t / $PBXCTL_TENANT. A PIN may come
 * from --pin, or from --pin-file FILE (- for standard input) so it never shows in the
 * process list; it is wiped from memory once hashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/greeting.h"
#include "pbx/secret.h"
#include "pbx/user.h"
#include "cli.h"

/* Options shared by create and update, at the same indexes in both arrays. */
enum {
	O_TENANT, O_NAME, O_EMAIL, O_EXTENSION, O_CALLERID, O_VOICEMAIL, O_NO_VOICEMAIL, O_PIN,
	O_PIN_FILE, O_DND, O_NO_DND, O_FORWARD, O_USERNAME, O_NO_PIN,
};

#define TENANT_OPT CLI_OPT_TENANT("tenant of the user (default -t / $PBXCTL_TENANT)")
#define SPEC_OPTS \
	[O_TENANT] = TENANT_OPT, \
	[O_NAME] = { "name", 0, "NAME", "display name (create default: the username)", CLI_OPT_STRING, NULL, 0 }, \
	[O_EMAIL] = { "email", 0, "EMAIL", "email address; empty to clear", CLI_OPT_STRING, NULL, 0 }, \
	[O_EXTENSION] = { "extension", 0, "N", "extension in the tenant's range (create default: the next free one)", CLI_OPT_STRING, NULL, 0 }, \
	[O_CALLERID] = { "outbound-callerid", 0, "NUMBER", "caller ID for outbound calls: +E164 or up to 20 digits; empty to clear", CLI_OPT_STRING, NULL, 0 }, \
	[O_VOICEMAIL] = { "voicemail", 0, NULL, "enable the voicemail box", CLI_OPT_FLAG, NULL, 0 }, \
	[O_NO_VOICEMAIL] = { "no-voicemail", 0, NULL, "disable the voicemail box", CLI_OPT_FLAG, NULL, 0 }, \
	[O_PIN] = { "pin", 0, "PIN", "voicemail PIN, 4 to 10 digits (- reads it from standard input; visible to ps: prefer --pin-file)", CLI_OPT_SECRET, NULL, 0 }, \
	[O_PIN_FILE] = { "pin-file", 0, "FILE", "read the PIN from the first line of FILE (- for standard input)", CLI_OPT_FILE, NULL, CLI_ARG_FILE }, \
	[O_DND] = { "dnd", 0, NULL, "turn do-not-disturb on", CLI_OPT_FLAG, NULL, 0 }, \
	[O_NO_DND] = { "no-dnd", 0, NULL, "turn do-not-disturb off", CLI_OPT_FLAG, NULL, 0 }, \
	[O_FORWARD] = { "forward-to", 0, "DEST", "forward calls to an extension of the tenant or +E164; empty to clear", CLI_OPT_STRING, NULL, 0 }

static const struct cli_opt create_opts[] = {
	SPEC_OPTS,
};

static const struct cli_opt update_opts[] = {
	SPEC_OPTS,
	[O_USERNAME] = { "username", 0, "NEW", "rename the user", CLI_OPT_STRING, NULL, 0 },
	[O_NO_PIN] = { "no-pin", 0, NULL, "remove the voicemail PIN", CLI_OPT_FLAG, NULL, 0 },
};

/* Fill @spec from the shared options; the PIN goes through @pin (wiped by the caller). */
static int parse_spec(const char *path, const struct cli_args *a, bool update,
		      struct pbx_user_spec *spec, char *pin, size_t n)
{
	const char *pin_file = a->v[O_PIN_FILE].s;

	spec->name = a->v[O_NAME].s;
	spec->email = a->v[O_EMAIL].s;
	spec->extension = a->v[O_EXTENSION].s;
	spec->outbound_callerid = a->v[O_CALLERID].s;
	spec->forward_to = a->v[O_FORWARD].s;
	if ((spec->voicemail = cli_flag_pair(a, O_VOICEMAIL, O_NO_VOICEMAIL)) == -2 ||
	    (spec->dnd = cli_flag_pair(a, O_DND, O_NO_DND)) == -2)
		return -1;
	if (a->v[O_PIN].set + a->v[O_PIN_FILE].set + (update && a->v[O_NO_PIN].set) > 1) {
		cli_usage_error(path, NULL, "give only one of --pin, --pin-file%s",
				update ? " and --no-pin" : "");
		return -1;
	}
	if (a->v[O_PIN].set && !strcmp(a->v[O_PIN].s, "-"))
		pin_file = "-";
	if (pin_file) {
		if (cli_read_secret_line(path, pin_file, "pin", true, pin, n) < 0)
			return -1;
		spec->pin = pin;
	} else if (a->v[O_PIN].set) {
		spec->pin = a->v[O_PIN].s;
	} else if (update && a->v[O_NO_PIN].set) {
		spec->pin = "";
	}
	if (update && spec->pin && !*spec->pin && !a->v[O_NO_PIN].set) {
		cli_usage_error(path, NULL, "the pin is empty; use --no-pin to remove it");
		return -1;
	}
	return 0;
}

static int cmd_user_create(struct cli *cli, struct cli_args *a)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	const char *t = cli_need_tenant(cli, a->path, a->v[O_TENANT].s);
	char pin[64] = "";
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!t)
		return CLI_USAGE;
	spec.username = a->argv[0];
	if (parse_spec(a->path, a, false, &spec, pin, sizeof(pin)) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(cli))) {
		pbx_secret_wipe(pin, sizeof(pin));
		return cli->err.code;
	}
	r = pbx_user_create(ctx, t, &spec, &rows, &cli->err);
	pbx_secret_wipe(pin, sizeof(pin));
	return cli_finish_change(cli, r, "create", true, &rows, NULL);
}

static const char *const status_values[] = { "active", "suspended", "deleted", "all", NULL };
static const char *const sort_values[] = { "extension", "username", "name", NULL };
enum { L_TENANT, L_STATUS, L_SEARCH, L_SORT, L_LIMIT, L_AFTER };
static const struct cli_opt list_opts[] = {
	[L_TENANT] = TENANT_OPT,
	[L_STATUS] = { "status", 0, "STATUS", "active, suspended, deleted or all (default: all but deleted)", CLI_OPT_ENUM, status_values, 0 },
	[L_SEARCH] = { "search", 0, "TEXT", "only users whose username or name contains TEXT, or whose extension starts with it", CLI_OPT_STRING, NULL, 0 },
	[L_SORT] = { "sort", 0, "KEY", "order by extension (default), username or name", CLI_OPT_ENUM, sort_values, 0 },
	[L_LIMIT] = { "limit", 0, "N", "rows per page, 1 to 10000 (default 1000)", CLI_OPT_INT, NULL, 0 },
	[L_AFTER] = { "after", 0, "CURSOR", "continue after this cursor (printed on stderr with the previous page)", CLI_OPT_STRING, NULL, 0 },
};

static int cmd_user_list(struct cli *cli, struct cli_args *a)
{
	const char *t = cli_need_tenant(cli, a->path, a->v[L_TENANT].s);
	struct pbx_user_filter f = {
		.status = a->v[L_STATUS].s, .search = a->v[L_SEARCH].s, .sort = a->v[L_SORT].s,
		.limit = a->v[L_LIMIT].set ? (long)a->v[L_LIMIT].i : 0, .after = a->v[L_AFTER].s,
	};
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if (!t)
		return CLI_USAGE;
	if (a->v[L_LIMIT].set && (a->v[L_LIMIT].i < 1 || a->v[L_LIMIT].i > 10000)) {
		cli_usage_error(a->path, NULL, "--limit must be 1 to 10000");
		return CLI_USAGE;
	}
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if ((r = pbx_user_list(ctx, t, &f, &rows, &cli->err)) < 0)
		return cli_fail(cli, r);
	r = cli_show_list(cli, &rows);
	/* The cursor goes to stderr so that stdout stays one clean list in every format. */
	if (r == 0 && rows.next_cursor && cli->verbosity >= 0)
		fprintf(stderr, "pbxctl: more rows: --after %s%s%s\n", rows.next_cursor,
			f.sort ? " --sort " : "", f.sort ? f.sort : "");
	pbx_rows_free(&rows);
	return r;
}

enum { T_TENANT };
static const struct cli_opt tenant_opts[] = {
	[T_TENANT] = TENANT_OPT,
};

static int cmd_user_update(struct cli *cli, struct cli_args *a)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	const char *t = cli_need_tenant(cli, a->path, a->v[O_TENANT].s);
	char pin[64] = "";
	struct pbx_rows rows;
	bool changed = false;
	pbx_ctx *ctx;
	int r;

	if (!t)
		return CLI_USAGE;
	spec.username = a->v[O_USERNAME].s;
	if (parse_spec(a->path, a, true, &spec, pin, sizeof(pin)) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(cli))) {
		pbx_secret_wipe(pin, sizeof(pin));
		return cli->err.code;
	}
	r = pbx_user_update(ctx, t, a->argv[0], &spec, &rows, &changed, &cli->err);
	pbx_secret_wipe(pin, sizeof(pin));
	/* Live at once: AstDB gets the state calls read (a failure is a warning; apply repairs). */
	if (r == 0 && (spec.dnd != PBX_UNSET || spec.forward_to || spec.pin ||
		       spec.voicemail != PBX_UNSET || spec.extension))
		cli_push_selfservice(ctx, t, pbx_rows_get(&rows, 0, "username"));
	return cli_finish_change(cli, r, "update", changed, &rows, NULL);
}

/* user greeting set USER FILE | show USER | delete USER */
static int cmd_user_greeting(struct cli *cli, struct cli_args *a)
{
	const char *t, *what = a->argv[0];
	struct pbx_rows rows;
	bool changed = true;
	pbx_ctx *ctx;
	int r;

	if ((strcmp(what, "set") || a->argc != 3) && (strcmp(what, "show") || a->argc != 2) &&
	    (strcmp(what, "delete") || a->argc != 2))
	{
		cli_usage_error(a->path, NULL, "expected set USER FILE, show USER or "
				"delete USER");
		return CLI_USAGE;
	}
	if ((r = cli_open_tenant(cli, a->path, a->v[T_TENANT].s, &t, &ctx)) != 0)
		return r;
	if (!strcmp(what, "show"))
		return cli_finish_object(cli, pbx_greeting_show(ctx, t, a->argv[1], &rows, &cli->err),
					 &rows);
	if (!strcmp(what, "set"))
		r = pbx_greeting_set(ctx, t, a->argv[1], a->argv[2], &rows, &cli->err);
	else
		r = pbx_greeting_delete(ctx, t, a->argv[1], &rows, &changed, &cli->err);
	return cli_finish_change(cli, r, !strcmp(what, "set") ? "greeting" : "greeting-delete",
				 changed, &rows, NULL);
}

enum { D_TENANT, D_PURGE };
static const struct cli_opt delete_opts[] = {
	[D_TENANT] = TENANT_OPT,
	[D_PURGE] = { "purge", 0, NULL, "remove the user's row for good, not just mark it deleted", CLI_OPT_FLAG, NULL, 0 },
};

static int cmd_user_delete(struct cli *cli, struct cli_args *a)
{
	const char *t;
	bool purge = a->v[D_PURGE].set, changed = false;
	struct pbx_rows rows;
	pbx_ctx *ctx;
	int r;

	if ((r = cli_open_tenant(cli, a->path, a->v[D_TENANT].s, &t, &ctx)) != 0)
		return r;
	r = pbx_user_delete(ctx, t, a->argv[0], purge, &rows, &changed, &cli->err);
	if (r < 0)
		return cli_fail(cli, r);
	/* After a purge there is no user left to show. */
	r = cli_show_change(cli, purge ? "purge" : "delete", changed, purge ? NULL : &rows);
	pbx_rows_free(&rows);
	return r;
}

enum { R_TENANT, R_EXTENSION };
static const struct cli_opt restore_opts[] = {
	[R_TENANT] = TENANT_OPT,
	[R_EXTENSION] = { "extension", 0, "N", "restore on this extension instead of the old one", CLI_OPT_STRING, NULL, 0 },
};

static const struct cli_cmd user_verbs[] = {
	{ .name = "create", .summary = "create a user, on the next free extension unless --extension",
	  .synopsis = "user create USERNAME [--tenant SLUG] [--name NAME] [--email EMAIL] [--extension N]\n"
		      "user create USERNAME [--outbound-callerid NUMBER] [--voicemail|--no-voicemail]\n"
		      "user create USERNAME [--pin PIN|--pin-file FILE] [--dnd|--no-dnd] [--forward-to DEST]",
	  .opts = CLI_OPTS(create_opts), .run = cmd_user_create, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "list", .aliases = cli_aliases_ls, .summary = "list a tenant's users",
	  .synopsis = "user list [--tenant SLUG] [--status STATUS] [--search TEXT] [--sort KEY]\n"
		      "user list [--limit N] [--after CURSOR]",
	  .opts = CLI_OPTS(list_opts), .run = cmd_user_list, .max_args = 0,
	  .flags = CMD_PG | CMD_DEFAULT },
	{ .name = "show", .summary = "show one user", .synopsis = "user show USER [--tenant SLUG]",
	  .opts = CLI_OPTS(tenant_opts), .min_args = 1, .max_args = 1, .flags = CMD_PG,
	  .args = CLI_ARG_USER,
	  .call = { .s2 = pbx_user_show, .in = { CLI_FROM_TENANT(T_TENANT), CLI_FROM_ARG(0) },
		    .show = CLI_SHOW_OBJECT } },
	{ .name = "update", .summary = "change a user's fields",
	  .synopsis = "user update USER [--tenant SLUG] [--username NEW] [--name NAME] [--email EMAIL]\n"
		      "user update USER [--extension N] [--outbound-callerid NUMBER] [--voicemail|--no-voicemail]\n"
		      "user update USER [--pin PIN|--pin-file FILE|--no-pin] [--dnd|--no-dnd] [--forward-to DEST]",
	  .opts = CLI_OPTS(update_opts), .run = cmd_user_update, .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_USER },
	{ .name = "greeting", .summary = "upload, show or remove the voicemail greeting (WAV or MP3)",
	  .synopsis = "user greeting set USER FILE [--tenant SLUG]\n"
		      "user greeting show USER [--tenant SLUG]\n"
		      "user greeting delete USER [--tenant SLUG]",
	  .opts = CLI_OPTS(tenant_opts), .run = cmd_user_greeting, .min_args = 2, .max_args = 3,
	  .flags = CMD_PG | CMD_WRITES },
	{ .name = "suspend", .summary = "suspend a user: its devices stop working after the next apply",
	  .synopsis = "user suspend USER [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 1, .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_USER,
	  .call = { .s3_c = pbx_user_set_status,
		    .in = { CLI_FROM_TENANT(T_TENANT), CLI_FROM_ARG(0), CLI_FROM_CONST("suspended") },
		    .show = CLI_SHOW_CHANGE, .action = "suspend" } },
	{ .name = "resume", .summary = "make a suspended user active again",
	  .synopsis = "user resume USER [--tenant SLUG]", .opts = CLI_OPTS(tenant_opts),
	  .min_args = 1, .max_args = 1, .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_USER,
	  .call = { .s3_c = pbx_user_set_status,
		    .in = { CLI_FROM_TENANT(T_TENANT), CLI_FROM_ARG(0), CLI_FROM_CONST("active") },
		    .show = CLI_SHOW_CHANGE, .action = "resume" } },
	{ .name = "delete", .aliases = cli_aliases_rm,
	  .summary = "delete a user and its devices (kept as deleted unless --purge)",
	  .synopsis = "user delete USER [--tenant SLUG] [--purge]", .opts = CLI_OPTS(delete_opts),
	  .run = cmd_user_delete, .min_args = 1, .max_args = 1, .flags = CMD_PG | CMD_WRITES,
	  .args = CLI_ARG_USER },
	{ .name = "restore", .summary = "make a deleted user active again",
	  .synopsis = "user restore USER [--tenant SLUG] [--extension N]",
	  .opts = CLI_OPTS(restore_opts), .min_args = 1, .max_args = 1,
	  .flags = CMD_PG | CMD_WRITES, .args = CLI_ARG_USER,
	  .call = { .s3_c = pbx_user_restore,
		    .in = { CLI_FROM_TENANT(R_TENANT), CLI_FROM_ARG(0), CLI_FROM_OPT(R_EXTENSION) },
		    .show = CLI_SHOW_CHANGE, .action = "restore" } },
};

const struct cli_cmd cmd_user = {
	.name = "user",
	.summary = "manage a tenant's users and their extensions",
	.subs = CLI_SUBS(user_verbs),
	.max_args = -1,
};
