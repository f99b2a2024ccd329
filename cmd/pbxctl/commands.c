/* SPDX-License-Identifier: MIT */
/*
 * The top-level command table: one line per noun. Each noun's verbs live in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "pbx-config.h"
#include "cli.h"

static int cmd_help_run(struct cli *cli, struct cli_args *a)
{
	const struct cli_cmd *noun, *verb;
	char path[96];

	if (a->argc == 0) {
		cli_help_top(stdout);
		return 0;
	}
	noun = cli_find(cli_commands, cli_n_commands, a->argv[0]);
	if (!noun) {
		const char *s = cli_suggest(cli_commands, cli_n_commands, a->argv[0]);

		cli_usage_error("help", NULL, "'%s' is not a pbxctl command%s%s%s", a->argv[0],
				s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
		return 2;
	}
	if (a->argc > 1 && noun->subs) {
		verb = cli_find(noun->subs, noun->n_subs, a->argv[1]);
		if (!verb) {
			cli_usage_error("help", noun, "'%s' is not a %s verb", a->argv[1], noun->name);
			return 2;
		}
		snprintf(path, sizeof(path), "%s %s", noun->name, verb->name);
		cli_help_cmd(stdout, path, verb);
		return 0;
	}
	cli_help_cmd(stdout, noun->name, noun);
	return 0;
}

const struct cli_cmd cmd_help = {
	.name = "help",
	.summary = "show help for pbxctl or one of its commands",
	.synopsis = "help [COMMAND [VERB]]",
	.run = cmd_help_run,
	.min_args = 0,
	.max_args = 2,
	.args = CLI_ARG_COMMAND,
};

static int cmd_version_run(struct cli *cli, struct cli_args *a)
{
	printf("pbxctl %s\n", PBX_VERSION);
	return 0;
}

const struct cli_cmd cmd_version = {
	.name = "version",
	.summary = "print the version",
	.synopsis = "version",
	.run = cmd_version_run,
	.max_args = 0,
};

const char *const cli_aliases_ls[] = { "ls", NULL };
const char *const cli_aliases_rm[] = { "rm", NULL };

static const struct cli_cmd *const nouns[] = {
	&cmd_tenant,
	&cmd_did,
	&cmd_trunk,
	&cmd_policy,
	&cmd_user,
	&cmd_device,
	&cmd_secrets,
	&cmd_apply,
	&cmd_diag,
	&cmd_audit,
	&cmd_operator,
	&cmd_whoami,
	&cmd_me,
	&cmd_db,
	&cmd_import,
	&cmd_export,
	&cmd_help,
	&cmd_version,
	&cmd_complete,
};

const size_t cli_n_commands = sizeof(nouns) / sizeof(nouns[0]);
struct cli_cmd cli_commands[sizeof(nouns) / sizeof(nouns[0])];

/* The nouns are defined in their own files; C cannot gather them into one array of
 * structs at compile time, so the table is filled once at start-up. */
void cli_commands_init(void)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		cli_commands[i] = *nouns[i];
}
