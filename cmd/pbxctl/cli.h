/* SPDX-License-Identifier: MIT */
/*
 * The CLI's one command table and its option model. Help, completion, the docs tests and
 * the dispatcher all read the same static tables; verb handlers parse nothing themselves.
 */
#ifndef PBXCTL_CLI_H
#define PBXCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/config.h"
#include "pbx/error.h"
#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "render.h"

enum cli_opt_kind {
	CLI_OPT_FLAG,     /* no argument */
	CLI_OPT_STRING,
	CLI_OPT_INT,      /* decimal integer */
	CLI_OPT_ENUM,     /* one of .values */
	CLI_OPT_FILE,     /* a path, or - for stdin */
	CLI_OPT_SECRET,   /* a secret typed on the command line: a string, with a warning that
			     other local users can read it (ps, /proc), unless it is "-" (stdin);
			     the option named "<name>-file" is the one to prefer */
};

/* What a value (positional argument or option argument) is, for completion. */
enum cli_arg_kind {
	CLI_ARG_NONE,
	CLI_ARG_TENANT,
	CLI_ARG_USER,
	CLI_ARG_DEVICE,
	CLI_ARG_FILE,
	CLI_ARG_COMMAND,
	CLI_ARG_DID,      /* a DID's E.164 number */
	CLI_ARG_TRUNK,    /* a trunk name */
	CLI_ARG_POLICY,   /* a policy name of the -t tenant */
	CLI_ARG_OPERATOR, /* an operator's login */
};

struct cli_opt {
	const char *name;            /* long name, kebab-case */
	char short_name;             /* 0 when none */
	const char *arg;             /* argument name in capitals; NULL for flags */
	const char *help;
	enum cli_opt_kind kind;
	const char *const *values;   /* CLI_OPT_ENUM: NULL-terminated */
	enum cli_arg_kind complete;
};

#define CLI_MAX_OPTS 24

struct cli_optval {
	bool set;
	const char *s;
	long long i;
};

/* The one spelling of --tenant SLUG; @help says what the tenant is for in this verb. */
#define CLI_OPT_TENANT(help) { "tenant", 0, "SLUG", help, CLI_OPT_STRING, NULL, CLI_ARG_TENANT }

struct cli_cmd;

/* Parsed verb arguments: v[] follows the verb's option array by index. */
struct cli_args {
	struct cli_optval v[CLI_MAX_OPTS];
	int argc;
	char **argv;
	const struct cli_cmd *cmd;   /* the verb being run */
	const char *path;            /* "noun verb", the prefix of its messages */
};

struct cli;

#define CMD_PG       (1u << 0)  /* needs PostgreSQL */
#define CMD_REALTIME (1u << 1)  /* needs MariaDB */
#define CMD_AMI      (1u << 2)  /* needs AMI */
#define CMD_WRITES   (1u << 3)  /* changes state */
#define CMD_HIDDEN   (1u << 4)  /* not listed in help */
#define CMD_DEFAULT  (1u << 5)  /* the verb run when a noun is given alone */

/*
 * A verb that is one library call (verb.c): where each value it passes comes from, and
 * what it prints. The strings come from in[], in order; the bool of the _b forms from flag.
 */
enum cli_in_kind {
	CLI_IN_NONE,
	CLI_IN_ARG,         /* positional argument .i; NULL when not given */
	CLI_IN_OPT,         /* the value of option .i; NULL when not given */
	CLI_IN_TENANT,      /* option .i, else -t / $PBXCTL_TENANT; required */
	CLI_IN_ANY_TENANT,  /* option .i, else -t / $PBXCTL_TENANT; NULL: every tenant */
	CLI_IN_SLUG,        /* positional .i, else -t; required (the tenant verbs) */
	CLI_IN_ANY_SLUG,    /* positional .i, else -t; NULL: every tenant */
	CLI_IN_CONST,       /* .s */
	CLI_IN_FLAG,        /* bool: option .i was given */
	CLI_IN_BOOL,        /* bool: .i != 0 */
};

struct cli_in {
	enum cli_in_kind kind;
	int i;
	const char *s;
};

#define CLI_FROM_ARG(n)        { CLI_IN_ARG, (n), NULL }
#define CLI_FROM_OPT(n)        { CLI_IN_OPT, (n), NULL }
#define CLI_FROM_TENANT(n)     { CLI_IN_TENANT, (n), NULL }
#define CLI_FROM_ANY_TENANT(n) { CLI_IN_ANY_TENANT, (n), NULL }
#define CLI_FROM_SLUG(n)       { CLI_IN_SLUG, (n), NULL }
#define CLI_FROM_ANY_SLUG(n)   { CLI_IN_ANY_SLUG, (n), NULL }
#define CLI_FROM_CONST(v)      { CLI_IN_CONST, 0, (v) }
#define CLI_FROM_FLAG(n)       { CLI_IN_FLAG, (n), NULL }
#define CLI_FROM_BOOL(b)       { CLI_IN_BOOL, (b), NULL }

enum cli_show {
	CLI_SHOW_LIST = 1,  /* the rows as a list */
	CLI_SHOW_OBJECT,    /* the one row */
	CLI_SHOW_CHANGE,    /* the change envelope with the row (cli_finish_change) */
	CLI_SHOW_GONE,      /* the change envelope of a deletion, without a row */
};

struct cli_call {
	/* The library call: exactly one is set. _b: takes a bool; _c: says whether it changed. */
	int (*s0)(pbx_ctx *, struct pbx_rows *, pbx_error *);
	int (*s1)(pbx_ctx *, const char *, struct pbx_rows *, pbx_error *);
	int (*s2)(pbx_ctx *, const char *, const char *, struct pbx_rows *, pbx_error *);
	int (*s3)(pbx_ctx *, const char *, const char *, const char *, struct pbx_rows *,
		  pbx_error *);
	int (*s1_b)(pbx_ctx *, const char *, bool, struct pbx_rows *, pbx_error *);
	int (*s2_b)(pbx_ctx *, const char *, const char *, bool, struct pbx_rows *, pbx_error *);
	int (*s2_c)(pbx_ctx *, const char *, const char *, struct pbx_rows *, bool *, pbx_error *);
	int (*s3_c)(pbx_ctx *, const char *, const char *, const char *, struct pbx_rows *, bool *,
		    pbx_error *);
	int (*s3_bc)(pbx_ctx *, const char *, const char *, const char *, bool, struct pbx_rows *,
		     bool *, pbx_error *);
	struct cli_in in[3];
	struct cli_in flag;
	enum cli_show show;
	const char *action;                    /* CLI_SHOW_CHANGE, CLI_SHOW_GONE */
	void (*free_rows)(struct pbx_rows *);  /* NULL: pbx_rows_free */
};

struct cli_cmd {
	const char *name;
	const char *const *aliases;  /* NULL-terminated, or NULL */
	const char *summary;         /* one line, lower case, no full stop */
	const char *synopsis;        /* the man page's SYNOPSIS line(s), without "pbxctl " */
	const struct cli_opt *opts;
	size_t n_opts;
	const struct cli_cmd *subs;
	size_t n_subs;
	int (*run)(struct cli *cli, struct cli_args *a);   /* NULL: cli_run_call */
	int min_args, max_args;      /* max -1: unlimited */
	unsigned flags;
	enum cli_arg_kind args;      /* what positional arguments are */
	struct cli_call call;        /* the library call of a verb without .run */
};

/* The aliases every noun gives the same verbs. */
extern const char *const cli_aliases_ls[];   /* list */
extern const char *const cli_aliases_rm[];   /* delete, remove */

#define CLI_OPTS(a) (a), (sizeof(a) / sizeof((a)[0]))
#define CLI_SUBS(a) (a), (sizeof(a) / sizeof((a)[0]))

/* The state of one invocation. */
struct cli {
	struct pbx_config cfg;
	pbx_ctx *ctx;
	struct cli_render_opts out;
	const char *tenant;          /* -t/--tenant or $PBXCTL_TENANT */
	int verbosity;               /* -q: -1, default 0, -v: 1+ */
	pbx_error err;
	bool changed;
};

/* The top-level table (commands.c). */
extern struct cli_cmd cli_commands[];
extern const size_t cli_n_commands;
void cli_commands_init(void);
extern const struct cli_opt cli_global_opts[];
extern const size_t cli_n_global_opts;

/* The nouns, each defined at the end of its own file. */
extern const struct cli_cmd cmd_tenant, cmd_user, cmd_device, cmd_secrets, cmd_apply, cmd_audit, cmd_db, cmd_help, cmd_complete, cmd_version;
extern const struct cli_cmd cmd_did, cmd_trunk, cmd_policy, cmd_diag;
extern const struct cli_cmd cmd_operator, cmd_whoami, cmd_me;

/*
 * apply-worker.c: the apply queue. cli_apply_queued queues an apply of @tenant and, with
 * @wait, follows it (up to @wait_seconds, 0 without limit) and returns its code; the
 * others are the verbs worker and requests of apply.c's table.
 */
int cli_apply_queued(struct cli *cli, pbx_ctx *ctx, const char *tenant, bool wait,
		     int wait_seconds);
#define CLI_APPLY_WORKER_NOPTS 2
#define CLI_APPLY_REQUESTS_NOPTS 2
extern const struct cli_opt cli_apply_worker_opts[CLI_APPLY_WORKER_NOPTS];
extern const struct cli_opt cli_apply_requests_opts[CLI_APPLY_REQUESTS_NOPTS];
int cli_apply_worker(struct cli *cli, struct cli_args *a);
int cli_apply_requests(struct cli *cli, struct cli_args *a);

/* me-voicemail.c: the verb `me voicemail` (pin, greeting) of me.c's table. */
#define CLI_ME_VOICEMAIL_NOPTS 2
extern const struct cli_opt cli_me_voicemail_opts[CLI_ME_VOICEMAIL_NOPTS];
int cli_me_voicemail(struct cli *cli, struct cli_args *a);

/*
 * complete-objects.c: print the candidates of @kind starting with @prefix, from the context
 * complete_dynamic() opened; @tenant is -t (users, devices, policies need it; DIDs and
 * trunks are filtered by it), @user the positional word before (a device's user).
 */
void cli_complete_objects(pbx_ctx *ctx, const char *tenant, enum cli_arg_kind kind,
			  const char *prefix, const char *user);
extern const struct cli_cmd cmd_import, cmd_export;

/* opt.c: parse @argc/@argv against @cmd's options into @a. Returns 0 or -1 after printing
 * a usage error. The first element of argv is the verb's name. */
int cli_parse(struct cli *cli, const struct cli_cmd *cmd, const char *path, int argc, char **argv,
	      struct cli_args *a);
int cli_opt_index(const struct cli_cmd *cmd, const char *name);
/* The value of option @name when set, else NULL (CLI_OPT_STRING/ENUM/FILE). */
const char *cli_opt_str(const struct cli_cmd *cmd, const struct cli_args *a, const char *name);

/* help.c */
void cli_help_top(FILE *out);
void cli_help_cmd(FILE *out, const char *path, const struct cli_cmd *cmd);
int cli_usage_error(const char *path, const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Closest name of @table to @word by edit distance, or NULL when nothing is close. */
const char *cli_suggest(const struct cli_cmd *table, size_t n, const char *word);
const struct cli_cmd *cli_find(const struct cli_cmd *table, size_t n, const char *word);

/* main.c: open the context lazily, report failures, map codes to exit statuses. */
pbx_ctx *cli_ctx(struct cli *cli);
/* Use @path as the configuration file (as -c does). */
void cli_set_config_path(const char *path);
int cli_exit_status(int code);
/* Report cli->err (or @code) on stderr and return @code. */
int cli_fail(struct cli *cli, int code);

/* What a verb returns after it has reported a usage error itself. */
#define CLI_USAGE 2

/*
 * verb.c: what the verbs share. The tenant a verb acts on: @explicit_value (a positional
 * or option value), else -t / $PBXCTL_TENANT; NULL when neither is given.
 */
const char *cli_tenant(struct cli *cli, const char *explicit_value);

/* The tenant a verb acts on (@value, else -t / $PBXCTL_TENANT); NULL after a usage error. */
const char *cli_need_tenant(struct cli *cli, const char *path, const char *value);

/* The tenant a tenant verb acts on: positional argument @i, else -t / $PBXCTL_TENANT; NULL
 * after a usage error. */
const char *cli_need_slug(struct cli *cli, const struct cli_args *a, int i);

/*
 * The prologue of a verb that acts on one tenant: the tenant (as cli_need_tenant) and the
 * context. Returns 0, CLI_USAGE after a usage error, or the code of a context failure
 * (already reported) — what the verb returns when it is not 0.
 */
int cli_open_tenant(struct cli *cli, const char *path, const char *value, const char **ret_tenant,
		    pbx_ctx **ret_ctx);

/* A pair of opposite flags at option indexes @on and @off (--x / --no-x, --enable /
 * --disable): PBX_UNSET (-1), 0 or 1; -2 after a usage error (both given). */
int cli_flag_pair(const struct cli_args *a, int on, int off);

/* Run the library call of a table-driven verb (a->cmd->call) and print its result. */
int cli_run_call(struct cli *cli, struct cli_args *a);

/*
 * A secret (@what: "pin", "secret") from the first line of @file ("-": standard input) into
 * @buf, without its line end; the caller wipes @buf. 0, or -1 after a usage error (the file
 * cannot be opened; empty when !@allow_empty).
 */
int cli_read_secret_line(const char *path, const char *file, const char *what, bool allow_empty,
			 char *buf, size_t n);

/*
 * The end of a write verb: report a failed @r, or print the change envelope; then free
 * @rows with @free_rows (NULL: pbx_rows_free; devices and trunks wipe their secrets).
 */
int cli_finish_change(struct cli *cli, int r, const char *action, bool changed,
		      struct pbx_rows *rows, void (*free_rows)(struct pbx_rows *));

/* Render helpers that also remember "changed" for the exit path. */
int cli_show_list(struct cli *cli, const struct pbx_rows *rows);
int cli_show_object(struct cli *cli, const struct pbx_rows *rows);
/* The end of a read verb: report a failed @r, or print @rows; then free them. */
int cli_finish_list(struct cli *cli, int r, struct pbx_rows *rows);
int cli_finish_object(struct cli *cli, int r, struct pbx_rows *rows);
int cli_show_change(struct cli *cli, const char *action, bool changed,
		    const struct pbx_rows *rows);

/*
 * me.c: after a change of DND, forward, PIN, voicemail or extension, write the user's AstDB
 * keys so that calls see it at once. A failure is not the command's: the library logged
 * the warning (PostgreSQL has the change, the next apply writes it).
 */
void cli_push_selfservice(pbx_ctx *ctx, const char *tenant, const char *user);

#endif
