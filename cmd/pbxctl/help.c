/* SPDX-License-Identifier: MIT */
/*
 * Help, usage errors and "did you mean", all built from the command table.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64], prev, tmp;

	if (la > 63 || lb > 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *cli_suggest(const struct cli_cmd *table, size_t n, const char *word)
{
	const char *best = NULL;
	size_t bestd = 99;

	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (table[i].flags & CMD_HIDDEN)
			continue;
		d = distance(word, table[i].name);
		if (d < bestd || (d == bestd && best && !strncmp(table[i].name, word, 1))) {
			bestd = d;
			best = table[i].name;
		}
		for (const char *const *al = table[i].aliases; al && *al; al++)
			if ((d = distance(word, *al)) < bestd) {
				bestd = d;
				best = table[i].name;
			}
	}
	/* Close enough: at most a third of the word wrong, or a prefix of the name. */
	if (best && (bestd * 3 <= strlen(word) + 1 || bestd <= 2 ||
		     !strncmp(best, word, strlen(word))))
		return best;
	return NULL;
}

const struct cli_cmd *cli_find(const struct cli_cmd *table, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(table[i].name, word))
			return &table[i];
		for (const char *const *al = table[i].aliases; al && *al; al++)
			if (!strcmp(*al, word))
				return &table[i];
	}
	return NULL;
}

static void print_synopsis(FILE *out, const struct cli_cmd *cmd)
{
	const char *s = cmd->synopsis;

	fputs("usage: ", out);
	while (s && *s) {
		size_t len = strcspn(s, "\n");

		fprintf(out, "pbxctl %.*s\n", (int)len, s);
		s += len;
		if (*s == '\n') {
			s++;
			if (*s)
				fputs("       ", out);
		}
	}
}

static void print_opts(FILE *out, const struct cli_opt *opts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct cli_opt *o = &opts[i];
		char left[80];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
}

static const char *noun_of(const char *path)
{
	static char noun[32];

	snprintf(noun, sizeof(noun), "%s", path);
	noun[strcspn(noun, " ")] = '\0';
	return noun;
}

void cli_help_top(FILE *out)
{
	fputs("usage: pbxctl [-c FILE] [-t TENANT] [-o table|json|yaml|tsv] [-q] [-v] [--no-color]\n"
	      "              COMMAND [SUBCOMMAND] [ARGS]\n\n"
	      "the command-line control plane of a multi-tenant Asterisk PBX\n\ncommands:\n", out);
	for (size_t i = 0; i < cli_n_commands; i++)
		if (!(cli_commands[i].flags & CMD_HIDDEN))
			fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fputs("\nglobal options:\n", out);
	print_opts(out, cli_global_opts, cli_n_global_opts);
	fputs("\nRun 'pbxctl help COMMAND' for a command's verbs. See pbxctl(1).\n", out);
}

void cli_help_cmd(FILE *out, const char *path, const struct cli_cmd *cmd)
{
	if (cmd->synopsis)
		print_synopsis(out, cmd);
	else
		fprintf(out, "usage: pbxctl %s%s\n", path, cmd->subs ? " VERB [ARGS]" : "");
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->subs) {
		fputs("\nverbs:\n", out);
		for (size_t i = 0; i < cmd->n_subs; i++)
			if (!(cmd->subs[i].flags & CMD_HIDDEN))
				fprintf(out, "  %-14s %s\n", cmd->subs[i].name, cmd->subs[i].summary);
	}
	if (cmd->n_opts) {
		fputs("\noptions:\n", out);
		print_opts(out, cmd->opts, cmd->n_opts);
	}
	if (!strcmp(noun_of(path), "help") || !strcmp(noun_of(path), "version"))
		fputs("\nSee pbxctl(1).\n", out);
	else
		fprintf(out, "\nSee pbxctl-%s(1).\n", noun_of(path));
}

int cli_usage_error(const char *path, const struct cli_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pbx_sanitize(msg);
	fprintf(stderr, "pbxctl: %s%s%s\n", path ? path : "", path && *path ? ": " : "", msg);
	if (cmd && cmd->synopsis)
		print_synopsis(stderr, cmd);
	else if (cmd && cmd->subs)
		fprintf(stderr, "usage: pbxctl %s VERB [ARGS]\n", cmd->name);
	return -1;
}
