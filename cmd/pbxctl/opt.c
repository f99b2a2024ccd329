/* SPDX-License-Identifier: MIT */
/*
 * Declarative option parsing on top of getopt_long: the verb's static option array becomes
 * a struct option[], values are checked for syntax only (field rules live in lib).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_opt_index(const struct cli_cmd *cmd, const char *name)
{
	for (size_t i = 0; i < cmd->n_opts; i++)
		if (!strcmp(cmd->opts[i].name, name))
			return (int)i;
	return -1;
}

const char *cli_opt_str(const struct cli_cmd *cmd, const struct cli_args *a, const char *name)
{
	int i = cli_opt_index(cmd, name);

	if (i < 0)
		PBX_BUG("cli_opt_str: unknown option");
	return a->v[i].set ? a->v[i].s : NULL;
}

/* The long option closest to @word, for "did you mean". */
static const char *suggest_opt(const struct cli_cmd *cmd, const char *word)
{
	struct cli_cmd fake[CLI_MAX_OPTS];

	for (size_t i = 0; i < cmd->n_opts; i++)
		fake[i] = (struct cli_cmd){ .name = cmd->opts[i].name };
	return cli_suggest(fake, cmd->n_opts, word);
}

static int check_value(const char *path, const struct cli_cmd *cmd, const struct cli_opt *o,
		       const char *v, struct cli_optval *out)
{
	char *end;

	out->set = true;
	out->s = v;
	switch (o->kind) {
	case CLI_OPT_INT:
		errno = 0;
		out->i = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			return cli_usage_error(path, cmd, "--%s expects an integer, not '%s'", o->name, v);
		break;
	case CLI_OPT_ENUM: {
		bool ok = false;
		char list[256] = "";

		for (const char *const *p = o->values; *p; p++) {
			ok |= !strcmp(*p, v);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 p == o->values ? "" : ", ", *p);
		}
		if (!ok)
			return cli_usage_error(path, cmd, "--%s must be one of %s, not '%s'", o->name,
					       list, v);
		break;
	}
	case CLI_OPT_SECRET:
		/* The command line of every process is readable by every local user. */
		if (strcmp(v, "-") != 0)
			fprintf(stderr, "pbxctl: warning: %s%s--%s on the command line can be read by "
				"other local users (ps, /proc); prefer --%s-file FILE\n",
				path ? path : "", path && *path ? ": " : "", o->name, o->name);
		break;
	default:
		break;
	}
	return 0;
}

/* Output options are accepted after the verb too: `pbxctl tenant list -o json`. */
enum { OUT_OUTPUT = 900, OUT_JSON, OUT_YAML, OUT_FIELDS, OUT_NO_HEADERS };

static int output_opt(struct cli *cli, const char *path, const struct cli_cmd *cmd, int c,
		      const char *arg)
{
	if (!cli)
		return 0;
	switch (c) {
	case OUT_OUTPUT:
		if (cli_output_parse(arg, &cli->out.mode) < 0)
			return cli_usage_error(path, cmd, "--output must be table, json, yaml or tsv, not '%s'",
					       arg);
		break;
	case OUT_JSON:
		cli->out.mode = CLI_OUT_JSON;
		break;
	case OUT_YAML:
		cli->out.mode = CLI_OUT_YAML;
		break;
	case OUT_FIELDS:
		cli->out.fields = arg;
		break;
	case OUT_NO_HEADERS:
		cli->out.no_headers = true;
		break;
	}
	return 0;
}

int cli_parse(struct cli *cli, const struct cli_cmd *cmd, const char *path, int argc, char **argv,
	      struct cli_args *a)
{
	struct option longopts[CLI_MAX_OPTS + 8];
	char shortopts[CLI_MAX_OPTS * 2 + 4] = "+";
	size_t n = 0;
	int c, idx;

	if (cmd->n_opts > CLI_MAX_OPTS)
		PBX_BUG("too many options");
	*a = (struct cli_args){ .cmd = cmd, .path = path };
	/* Permute so that options may follow positional arguments: no leading '+'. */
	shortopts[0] = '\0';
	strcat(shortopts, ":");
	for (size_t i = 0; i < cmd->n_opts; i++) {
		const struct cli_opt *o = &cmd->opts[i];

		longopts[n++] = (struct option){ o->name, o->arg ? required_argument : no_argument,
						 NULL, 1000 + (int)i };
		if (o->short_name) {
			size_t l = strlen(shortopts);

			shortopts[l] = o->short_name;
			shortopts[l + 1] = '\0';
			if (o->arg)
				strcat(shortopts, ":");
		}
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n++] = (struct option){ "output", required_argument, NULL, OUT_OUTPUT };
	longopts[n++] = (struct option){ "json", no_argument, NULL, OUT_JSON };
	longopts[n++] = (struct option){ "yaml", no_argument, NULL, OUT_YAML };
	longopts[n++] = (struct option){ "fields", required_argument, NULL, OUT_FIELDS };
	longopts[n++] = (struct option){ "no-headers", no_argument, NULL, OUT_NO_HEADERS };
	longopts[n] = (struct option){ 0 };
	strcat(shortopts, "h");
	if (!strchr(shortopts, 'o'))
		strcat(shortopts, "o:");
	if (!strchr(shortopts, 'f'))
		strcat(shortopts, "f:");

	/* getopt_long accepts abbreviations (--ext for --extensions); a new option could
	 * silently change what one means, so every long option must be spelt out. */
	for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++) {
		size_t len;
		bool known = false;

		if (strncmp(argv[k], "--", 2) != 0)
			continue;
		len = strcspn(argv[k] + 2, "=");
		for (size_t m = 0; m < n && !known; m++)
			known = strlen(longopts[m].name) == len &&
				!strncmp(longopts[m].name, argv[k] + 2, len);
		if (!known) {
			char word[64];
			const char *s;

			snprintf(word, sizeof(word), "%.*s", (int)(len < 63 ? len : 63), argv[k] + 2);
			s = suggest_opt(cmd, word);
			if (s)
				return cli_usage_error(path, cmd,
						       "unknown option '--%s'; did you mean '--%s'?",
						       word, s);
			return cli_usage_error(path, cmd, "unknown option '--%s'", word);
		}
		/* skip the value of an option that takes one */
		for (size_t m = 0; m < n; m++)
			if (strlen(longopts[m].name) == len && !strncmp(longopts[m].name, argv[k] + 2, len) &&
			    longopts[m].has_arg == required_argument && !argv[k][2 + len] &&
			    k + 1 < argc)
				k++;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct cli_opt *o = NULL;
		size_t i;

		if (c == 'h') {
			cli_help_cmd(stdout, path, cmd);
			return 1;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (c == ':')
				return cli_usage_error(path, cmd, "option '%s' needs a value", bad);
			if (!strncmp(bad, "--", 2)) {
				char word[64];
				const char *s;

				snprintf(word, sizeof(word), "%s", bad + 2);
				word[strcspn(word, "=")] = '\0';
				s = suggest_opt(cmd, word);
				if (s)
					return cli_usage_error(path, cmd,
							       "unknown option '--%s'; did you mean '--%s'?",
							       word, s);
				return cli_usage_error(path, cmd, "unknown option '--%s'", word);
			}
			return cli_usage_error(path, cmd, "unknown option '-%c'", optopt);
		}
		if (c >= OUT_OUTPUT && c <= OUT_NO_HEADERS) {
			if (output_opt(cli, path, cmd, c, optarg) < 0)
				return -1;
			continue;
		}
		if (c == 'o' || c == 'f') {
			if (output_opt(cli, path, cmd, c == 'o' ? OUT_OUTPUT : OUT_FIELDS, optarg) < 0)
				return -1;
			continue;
		}
		if (c >= 1000) {
			i = (size_t)(c - 1000);
		} else {
			for (i = 0; i < cmd->n_opts; i++)
				if (cmd->opts[i].short_name == c)
					break;
		}
		o = &cmd->opts[i];
		if (!o->arg) {
			a->v[i].set = true;
			a->v[i].i++;
			continue;
		}
		if (check_value(path, cmd, o, optarg, &a->v[i]) < 0)
			return -1;
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (a->argc < cmd->min_args)
		return cli_usage_error(path, cmd, "missing argument");
	if (cmd->max_args >= 0 && a->argc > cmd->max_args)
		return cli_usage_error(path, cmd, "unexpected argument '%s'", a->argv[cmd->max_args]);
	return 0;
}
