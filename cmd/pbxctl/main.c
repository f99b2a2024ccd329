/* SPDX-License-Identifier: MIT */
/*
 * pbxctl's entry point: global options, configuration precedence (flag > environment >
 * file > default), dispatch through the command table, and the only table that maps lib
 * codes to exit statuses.
 */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/operator.h"
#include "pbx-config.h"
#include "cli.h"

static const struct {
	int code, status;
} exit_table[] = {
	{ PBX_OK, 0 },
	{ PBX_ERROR, 1 },
	{ PBX_EINVALID, 3 },
	{ PBX_ENOTFOUND, 4 },
	{ PBX_ECONFLICT, 5 },
	{ PBX_EBUSY, 5 },
	{ PBX_EPERM, 6 },
	{ PBX_EUNAVAILABLE, 7 },
	{ PBX_EROLLEDBACK, 8 },
	{ PBX_EROLLBACKFAILED, 9 },
	{ PBX_EPARTIAL, 10 },
};

int cli_exit_status(int code)
{
	for (size_t i = 0; i < sizeof(exit_table) / sizeof(exit_table[0]); i++)
		if (exit_table[i].code == code)
			return exit_table[i].status;
	return 1;
}

static const char *const output_values[] = { "table", "json", "yaml", "tsv", NULL };

enum {
	GOPT_CONFIG, GOPT_TENANT, GOPT_OUTPUT, GOPT_JSON, GOPT_YAML, GOPT_FIELDS, GOPT_NO_HEADERS,
	GOPT_QUIET, GOPT_VERBOSE, GOPT_NO_COLOR, GOPT_VERSION,
};

const struct cli_opt cli_global_opts[] = {
	[GOPT_CONFIG] = { "config", 'c', "FILE", "configuration file (default $PBXCTL_CONFIG, then " PBX_DEFAULT_CONFIG ")", CLI_OPT_FILE, NULL, CLI_ARG_FILE },
	[GOPT_TENANT] = { "tenant", 't', "SLUG", "tenant to act on (default $PBXCTL_TENANT)", CLI_OPT_STRING, NULL, CLI_ARG_TENANT },
	[GOPT_OUTPUT] = { "output", 'o', "FORMAT", "output format: table, json, yaml or tsv", CLI_OPT_ENUM, output_values, CLI_ARG_NONE },
	[GOPT_JSON] = { "json", 0, NULL, "same as -o json", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
	[GOPT_YAML] = { "yaml", 0, NULL, "same as -o yaml", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
	[GOPT_FIELDS] = { "fields", 'f', "KEYS", "comma-separated keys to show, in order", CLI_OPT_STRING, NULL, CLI_ARG_NONE },
	[GOPT_NO_HEADERS] = { "no-headers", 0, NULL, "omit the header line of table and tsv output", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
	[GOPT_QUIET] = { "quiet", 'q', NULL, "print only errors", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
	[GOPT_VERBOSE] = { "verbose", 'v', NULL, "more detail; errors gain detail and hint lines", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
	[GOPT_NO_COLOR] = { "no-color", 0, NULL, "no colour (also when NO_COLOR is set)", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
	[GOPT_VERSION] = { "version", 0, NULL, "print the version and exit", CLI_OPT_FLAG, NULL, CLI_ARG_NONE },
};
const size_t cli_n_global_opts = sizeof(cli_global_opts) / sizeof(cli_global_opts[0]);

static const char *config_path;
static bool config_required;

void cli_set_config_path(const char *path)
{
	config_path = path;
	config_required = true;
}

static void log_cb(void *ud, enum pbx_log_level level, const char *msg)
{
	struct cli *cli = ud;

	if ((level == PBX_LOG_WARN && cli->verbosity >= 0) || level == PBX_LOG_ERROR ||
	    (level == PBX_LOG_INFO && cli->verbosity >= 1) ||
	    (level == PBX_LOG_DEBUG && cli->verbosity >= 2))
		fprintf(stderr, "pbxctl: %s%s\n", level == PBX_LOG_WARN ? "warning: " : "", msg);
}

pbx_ctx *cli_ctx(struct cli *cli)
{
	pbx_diag diag = PBX_DIAG_INIT;
	int r;

	if (cli->ctx)
		return cli->ctx;
	if ((r = pbx_config_defaults(&cli->cfg, &cli->err)) < 0) {
		cli_fail(cli, r);
		return NULL;
	}
	r = pbx_config_load_file(&cli->cfg, config_path, config_required, &diag);
	if (r < 0) {
		/* Every problem of the file, one line each. */
		for (size_t i = 0; i < diag.n; i++)
			cli_render_error(stderr, &cli->out, &diag.items[i],
					 cli_exit_status(diag.items[i].code), cli->verbosity > 0);
		cli->err = diag.items[0];
		cli->err.code = diag.worst;
		pbx_diag_free(&diag);
		return NULL;
	}
	pbx_diag_free(&diag);
	if ((r = pbx_config_apply_env(&cli->cfg, &cli->err)) < 0 ||
	    (r = pbx_ctx_new(&cli->cfg, &cli->ctx, &cli->err)) < 0) {
		cli_fail(cli, r);
		return NULL;
	}
	pbx_ctx_set_log(cli->ctx, log_cb, cli);
	return cli->ctx;
}

/*
 * A refusal or a miss under row-level security says who the operator is: a row of another
 * tenant looks exactly like one that does not exist (nothing about it is revealed), so the
 * message says which operator looked, and which tenant it is limited to.
 */
static void explain_scope(struct cli *cli, int code)
{
	struct pbx_operator op;
	char who[200];
	size_t n = strlen(cli->err.message);

	/* Files (key, config, import) are not rows: their misses say nothing of the operator. */
	if ((code != PBX_EPERM && code != PBX_ENOTFOUND) || !cli->ctx || cli->err.file[0] ||
	    strstr(cli->err.message, "file") || strcmp(cli->err.backend, "ami") == 0 ||
	    strcmp(cli->err.backend, "mariadb") == 0 || pbx_whoami(cli->ctx, &op) < 0 ||
	    op.bypass_rls || !strcmp(op.role, "platform_admin"))
		return;
	pbx_operator_describe(&op, who, sizeof(who));
	if (code == PBX_EPERM && !strncmp(cli->err.message, "not allowed for operator ", 25))
		snprintf(cli->err.message, sizeof(cli->err.message), "not allowed for operator %s",
			 who);
	else if (code == PBX_ENOTFOUND && n + 40 < sizeof(cli->err.message))
		snprintf(cli->err.message + n, sizeof(cli->err.message) - n,
			 " or is out of reach of operator %s", who);
}

int cli_fail(struct cli *cli, int code)
{
	if (!cli->err.code)
		cli->err.code = code;
	explain_scope(cli, code);
	cli_render_error(stderr, &cli->out, &cli->err, cli_exit_status(code), cli->verbosity > 0);
	return code;
}

/* Parse the global options before the command; returns the index of the command word. */
static int parse_globals(struct cli *cli, int argc, char **argv)
{
	struct option longopts[sizeof(cli_global_opts) / sizeof(cli_global_opts[0]) + 2];
	size_t n = 0;
	int c, idx;

	for (size_t i = 0; i < cli_n_global_opts; i++)
		longopts[n++] = (struct option){ cli_global_opts[i].name,
			cli_global_opts[i].arg ? required_argument : no_argument, NULL, 1000 + (int)i };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ 0 };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:t:o:f:qvh", longopts, &idx)) != -1) {
		switch (c) {
		case 'c': c = 1000 + GOPT_CONFIG; break;
		case 't': c = 1000 + GOPT_TENANT; break;
		case 'o': c = 1000 + GOPT_OUTPUT; break;
		case 'f': c = 1000 + GOPT_FIELDS; break;
		case 'q': c = 1000 + GOPT_QUIET; break;
		case 'v': c = 1000 + GOPT_VERBOSE; break;
		case 'h':
			cli_help_top(stdout);
			exit(0);
		case ':':
			cli_usage_error(NULL, NULL, "option '%s' needs a value", argv[optind - 1]);
			exit(2);
		case '?':
			cli_usage_error(NULL, NULL, "unknown option '%s'; see 'pbxctl --help'",
					argv[optind - 1]);
			exit(2);
		}
		switch (c - 1000) {
		case GOPT_CONFIG:
			config_path = optarg;
			config_required = true;
			break;
		case GOPT_TENANT:
			cli->tenant = optarg;
			break;
		case GOPT_OUTPUT:
			if (cli_output_parse(optarg, &cli->out.mode) < 0) {
				cli_usage_error(NULL, NULL,
						"--output must be table, json, yaml or tsv, not '%s'", optarg);
				exit(2);
			}
			break;
		case GOPT_JSON:
			cli->out.mode = CLI_OUT_JSON;
			break;
		case GOPT_YAML:
			cli->out.mode = CLI_OUT_YAML;
			break;
		case GOPT_FIELDS:
			cli->out.fields = optarg;
			break;
		case GOPT_NO_HEADERS:
			cli->out.no_headers = true;
			break;
		case GOPT_QUIET:
			cli->verbosity = -1;
			break;
		case GOPT_VERBOSE:
			cli->verbosity = cli->verbosity < 0 ? 1 : cli->verbosity + 1;
			break;
		case GOPT_NO_COLOR:
			cli->out.color = false;
			break;
		case GOPT_VERSION:
			printf("pbxctl %s\n", PBX_VERSION);
			exit(0);
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct cli cli = { .out = { .mode = CLI_OUT_TABLE } };
	const struct cli_cmd *noun, *verb;
	struct cli_args a;
	char path[96];
	int i, r, code;

	signal(SIGPIPE, SIG_IGN);
	setlocale(LC_CTYPE, "");
	cli_commands_init();
	cli.out.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	cli.tenant = getenv("PBXCTL_TENANT");
	config_path = getenv("PBXCTL_CONFIG");
	config_required = config_path != NULL;
	if (!config_path)
		config_path = PBX_DEFAULT_CONFIG;

	i = parse_globals(&cli, argc, argv);
	if (i >= argc) {
		cli_help_top(stderr);
		return 2;
	}
	noun = cli_find(cli_commands, cli_n_commands, argv[i]);
	if (!noun) {
		const char *s = cli_suggest(cli_commands, cli_n_commands, argv[i]);

		if (s)
			cli_usage_error(NULL, NULL, "'%s' is not a pbxctl command; did you mean '%s'?",
					argv[i], s);
		else
			cli_usage_error(NULL, NULL, "'%s' is not a pbxctl command; see 'pbxctl help'",
					argv[i]);
		return 2;
	}
	verb = noun;
	snprintf(path, sizeof(path), "%s", noun->name);
	if (noun->subs) {
		const char *w = i + 1 < argc ? argv[i + 1] : NULL;

		if (w && (!strcmp(w, "--help") || !strcmp(w, "-h"))) {
			cli_help_cmd(stdout, path, noun);
			return 0;
		}
		verb = w && w[0] != '-' ? cli_find(noun->subs, noun->n_subs, w) : NULL;
		if (verb) {
			i++;
		} else if (w && w[0] != '-') {
			const char *s = cli_suggest(noun->subs, noun->n_subs, w);

			if (s)
				cli_usage_error(path, noun, "'%s' is not a %s verb; did you mean '%s'?",
						w, noun->name, s);
			else
				cli_usage_error(path, noun, "'%s' is not a %s verb", w, noun->name);
			return 2;
		} else {
			for (size_t k = 0; k < noun->n_subs && !verb; k++)
				if (noun->subs[k].flags & CMD_DEFAULT)
					verb = &noun->subs[k];
			if (!verb) {
				cli_usage_error(path, noun, "a verb is required");
				return 2;
			}
			/* The default verb parses what follows the noun. */
		}
		snprintf(path, sizeof(path), "%s %s", noun->name, verb->name);
	}
	r = cli_parse(&cli, verb, path, argc - i, argv + i, &a);
	if (r != 0)
		return r > 0 ? 0 : 2;
	code = verb->run ? verb->run(&cli, &a) : cli_run_call(&cli, &a);
	if (cli.ctx)
		pbx_ctx_free(cli.ctx);
	pbx_config_free(&cli.cfg);
	if (code == 2)
		return 2;   /* usage error already reported by the verb */
	return cli_exit_status(code);
}
