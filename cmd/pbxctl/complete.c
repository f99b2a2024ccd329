/* SPDX-License-Identifier: MIT */
/*
 * The hidden `pbxctl __complete -- WORDS...` command that the bash, zsh and fish shims
 * call: candidates one per line ("value" or "value<TAB>description"), then a directive line
 * ":files" or ":nofiles". Words come from the command table; tenant slugs, usernames and
 * device labels from the database, honouring -c and -t already typed, with a 1 s timeout.
 * It never prints on stderr and always exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Database lookups for dynamic arguments (complete-objects.c). @user is the positional
 * word before the one being completed, or NULL for the first: a device is named by
 * USER LABEL, so its first word completes as a user.
 */
static void complete_dynamic(struct cli *cli, enum cli_arg_kind kind, const char *prefix,
			     const char *user)
{
	pbx_ctx *ctx;
	FILE *saved = stderr;

	/* A user is completed only as the first positional word (USER [LABEL]). */
	if (kind == CLI_ARG_USER && user)
		return;
	/* Completion must stay silent: configuration errors are swallowed. */
	stderr = fopen("/dev/null", "w");
	ctx = stderr ? cli_ctx(cli) : NULL;
	if (stderr)
		fclose(stderr);
	stderr = saved;
	if (!ctx)
		return;
	pbx_ctx_set_log(ctx, NULL, NULL);
	pbx_ctx_set_connect_timeout(ctx, 1);
	cli_complete_objects(ctx, cli->tenant, kind, prefix, user);
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++) {
		const struct cli_opt *o = &opts[i];

		if (word[0] == '-' && word[1] == '-' && !strcmp(word + 2, o->name))
			return o;
		if (word[0] == '-' && word[1] && !word[2] && word[1] == o->short_name)
			return o;
	}
	return NULL;
}

static void list_opts(const struct cli_opt *opts, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "--%s", opts[i].name);
		if (!strncmp(name, prefix, strlen(prefix)))
			printf("%s\t%s\n", name, opts[i].help);
	}
}

static void list_cmds(const struct cli_cmd *table, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (!(table[i].flags & CMD_HIDDEN) && !strncmp(table[i].name, prefix, strlen(prefix)))
			printf("%s\t%s\n", table[i].name, table[i].summary);
}

/* The lower-case word after "noun verb" of synopsis line @line, or NULL; length in *@len. */
static const char *keyword_of(const char *line, size_t *len)
{
	const char *w = line;

	for (int skip = 0; skip < 2; skip++) {
		w += strcspn(w, " \n");
		w += strspn(w, " ");
	}
	*len = strspn(w, "abcdefghijklmnopqrstuvwxyz-");
	return *len && (w[*len] == ' ' || w[*len] == '\n' || !w[*len]) ? w : NULL;
}

/*
 * The keywords a verb's synopsis lines have right after "noun verb" ("me forward set DEST",
 * "me forward clear": set, clear) that start with @cur, each once; false when none.
 */
static bool synopsis_keywords(const struct cli_cmd *at, const char *cur)
{
	bool any = false;

	for (const char *line = at->synopsis; line && *line; ) {
		size_t n = strcspn(line, "\n"), k, k2;
		const char *w = keyword_of(line, &k);
		bool seen = false;

		if (w && !strncmp(w, cur, strlen(cur))) {
			for (const char *p = at->synopsis; p < line && !seen; p += strcspn(p, "\n") + 1) {
				const char *q = keyword_of(p, &k2);

				seen = q && k2 == k && !strncmp(q, w, k);
			}
			if (!seen)
				printf("%.*s\n", (int)k, w);
			any = true;
		}
		line += n + (line[n] == '\n');
	}
	return any;
}

/* Complete the value of option @o; returns the directive. */
static const char *complete_value(struct cli *cli, const struct cli_opt *o, const char *cur)
{
	if (o->kind == CLI_OPT_ENUM) {
		for (const char *const *v = o->values; *v; v++)
			if (!strncmp(*v, cur, strlen(cur)))
				printf("%s\n", *v);
		return ":nofiles";
	}
	if (o->kind == CLI_OPT_FILE || o->complete == CLI_ARG_FILE)
		return ":files";
	if (o->complete != CLI_ARG_NONE)
		complete_dynamic(cli, o->complete, cur, NULL);
	return ":nofiles";
}

static int cmd_complete_run(struct cli *cli, struct cli_args *a)
{
	const struct cli_cmd *noun = NULL, *verb = NULL;
	const char *directive = ":nofiles";
	const char *cur = a->argc > 0 ? a->argv[a->argc - 1] : "";
	const char *last_pos = NULL;   /* the last positional word before the cursor */
	int npos = 0;
	int i = 0;

	/* Walk the words before the one being completed. */
	for (; i < a->argc - 1; i++) {
		const char *w = a->argv[i];
		const struct cli_cmd *at = verb ? verb : noun;
		const struct cli_opt *o;

		if (w[0] == '-') {
			o = find_opt(cli_global_opts, cli_n_global_opts, w);
			if (!o && at)
				o = find_opt(at->opts, at->n_opts, w);
			if (o && o->arg && i + 1 < a->argc - 1) {
				if (!strcmp(o->name, "config") && o == find_opt(cli_global_opts, cli_n_global_opts, w))
					cli_set_config_path(a->argv[i + 1]);
				if (!strcmp(o->name, "tenant"))
					cli->tenant = a->argv[i + 1];
				i++;
			} else if (o && o->arg) {
				/* The option's value is the word being completed. */
				printf("%s\n", complete_value(cli, o, cur));
				return 0;
			}
			continue;
		}
		if (!noun) {
			noun = cli_find(cli_commands, cli_n_commands, w);
			if (!noun)
				goto done;
		} else if (noun->subs && !verb) {
			verb = cli_find(noun->subs, noun->n_subs, w);
			if (!verb)
				goto done;
		} else {
			npos++;
			last_pos = w;
		}
	}
	if (cur[0] == '-') {
		if (!noun)
			list_opts(cli_global_opts, cli_n_global_opts, cur);
		else if (verb || !noun->subs)
			list_opts((verb ? verb : noun)->opts, (verb ? verb : noun)->n_opts, cur);
		goto done;
	}
	if (!noun) {
		list_cmds(cli_commands, cli_n_commands, cur);
	} else if (noun->subs && !verb) {
		list_cmds(noun->subs, noun->n_subs, cur);
	} else {
		const struct cli_cmd *at = verb ? verb : noun;

		if (at == &cmd_help || (!verb && !strcmp(noun->name, "help"))) {
			if (npos == 0)
				list_cmds(cli_commands, cli_n_commands, cur);
		} else if (npos == 0 && (at->args == CLI_ARG_FILE || at->args == CLI_ARG_NONE) &&
			   synopsis_keywords(at, cur)) {
			/* "me forward set|clear", "me voicemail pin|greeting" */
		} else if (at->args == CLI_ARG_FILE) {
			directive = ":files";
		} else if (at->args != CLI_ARG_NONE && (at->max_args < 0 || npos < at->max_args)) {
			complete_dynamic(cli, at->args, cur, last_pos);
		}
	}
done:
	printf("%s\n", directive);
	return 0;
}

const struct cli_cmd cmd_complete = {
	.name = "__complete",
	.summary = "print completion candidates for the words given (used by the shell shims)",
	.synopsis = "__complete -- WORDS...",
	.run = cmd_complete_run,
	.max_args = -1,
	.flags = CMD_HIDDEN,
};
