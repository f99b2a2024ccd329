/* SPDX-License-Identifier: MIT */
/*
 * amipeer's Action: Command: a few CLI commands ("core show uptime", "core show version",
 * "dialplan show", "dialplan reload"), Asterisk's "No such command" with its find_best()
 * suggestion, "Command '...' failed." after a failing command, and the modern AMI form of
 * the answer: Response, Message: Command output follows, one "Output:" line per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "peer.h"

#define MAX_WORDS 32

enum cli_result { CLI_OK, CLI_FAIL, CLI_USAGE };

typedef enum cli_result cli_fn(struct peer *p, int argc, char **argv, struct sb *out);

struct cli_entry {
	const char *words[6];
	cli_fn *fn;      /* NULL: known for matching only */
	const char *usage;
};

/* print_uptimestr of Asterisk's main/asterisk.c */
static void uptime(struct sb *out, const char *prefix, long secs, bool plain)
{
	static const struct { long len; const char *name; } units[] = {
		{ 365L * 86400, "year" }, { 7L * 86400, "week" }, { 86400, "day" },
		{ 3600, "hour" }, { 60, "minute" },
	};
	struct sb s = { 0 };

	if (secs < 0)
		return;
	if (plain) {
		sb_add(out, "%s: %ld\n", prefix, secs);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs > units[i].len) {
			long x = secs / units[i].len;

			secs -= x * units[i].len;
			sb_add(&s, "%ld %s%s%s", x, units[i].name, x == 1 ? "" : "s",
			       secs ? ", " : "");
		}
	}
	if (secs > 0 || !s.len)
		sb_add(&s, "%ld second%s", secs, secs == 1 ? "" : "s");
	sb_add(out, "%s: %s\n", prefix, s.p);
	sb_free(&s);
}

static enum cli_result cmd_uptime(struct peer *p, int argc, char **argv, struct sb *out)
{
	time_t now = time(NULL);
	bool plain = argc == 4 && strcasecmp(argv[3], "seconds") == 0;

	if (argc > 4 || (argc == 4 && !plain))
		return CLI_USAGE;
	uptime(out, "System uptime", (long)(now - p->started), plain);
	uptime(out, "Last reload", (long)(now - p->reloaded), plain);
	return CLI_OK;
}

static enum cli_result cmd_version(struct peer *p, int argc, char **argv, struct sb *out)
{
	if (argc != 3)
		return CLI_USAGE;
	sb_add(out, "Asterisk %s built by amipeer (pbxctl tests)\n", ASTERISK_VERSION);
	return CLI_OK;
}

static enum cli_result cmd_dialplan_show(struct peer *p, int argc, char **argv,
					 struct sb *out)
{
	char *context = NULL, *exten = NULL, *arg;
	bool ok;

	if (argc > 3)
		return CLI_USAGE;
	if (argc == 3) {
		arg = argv[2];
		context = strchr(arg, '@');
		if (context) {
			*context++ = '\0';
			exten = *arg ? arg : NULL;
		} else {
			context = arg;
		}
		if (!*context)
			context = NULL;
	}
	ok = cli_dialplan_show(p, context, exten, out);
	return ok ? CLI_OK : CLI_FAIL;
}

static enum cli_result cmd_dialplan_reload(struct peer *p, int argc, char **argv,
					   struct sb *out)
{
	if (argc != 2)
		return CLI_USAGE;
	peer_reload_dialplan(p);
	p->reloaded = time(NULL);
	sb_add(out, "Dialplan reloaded.\n");
	return CLI_OK;
}

static const struct cli_entry table[] = {
	{ { "!" }, NULL, NULL },
	{ { "core", "show", "uptime" }, cmd_uptime,
	  "Usage: core show uptime [seconds]\n       Shows Asterisk uptime information.\n" },
	{ { "core", "show", "version" }, cmd_version,
	  "Usage: core show version\n       Shows Asterisk version information.\n" },
	{ { "core", "show", "help" }, NULL, NULL },
	{ { "core", "show", "channels" }, NULL, NULL },
	{ { "core", "reload" }, NULL, NULL },
	{ { "dialplan", "show" }, cmd_dialplan_show,
	  "Usage: dialplan show [[exten@]context]\n       Show dialplan\n" },
	{ { "dialplan", "reload" }, cmd_dialplan_reload,
	  "Usage: dialplan reload\n       Reload extensions.conf without reloading any other\n"
	  "       modules.  This command does not delete global variables unless\n"
	  "       clearglobalvars is set to yes in extensions.conf\n" },
	{ { "module", "reload" }, NULL, NULL },
	{ { "database", "show" }, NULL, NULL },
	{ { "pjsip", "reload" }, NULL, NULL },
	{ { "pjsip", "show", "endpoints" }, NULL, NULL },
	{ { "pjsip", "show", "contacts" }, NULL, NULL },
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

static size_t entry_len(const struct cli_entry *e)
{
	size_t n = 0;

	while (n < 6 && e->words[n])
		n++;
	return n;
}

/*
 * find_cli of main/cli.c for plain words: an exact or prefix match (@match 0) or, with
 * @match -1, also an entry differing only in the last word of both.
 */
static const struct cli_entry *find_cli(char **words, size_t n, int match)
{
	const struct cli_entry *cand = NULL;
	size_t best = 0;
	bool have = false;

	for (size_t i = 0; i < N_TABLE; i++) {
		const struct cli_entry *e = &table[i];
		size_t en = entry_len(e), m = 0;

		while (m < en && m < n && strcasecmp(e->words[m], words[m]) == 0)
			m++;
		if (m == en) {
			if (m == n)
				return e;
			if (match != 0)
				continue;
		} else {
			if (m == n)
				continue;
			if (match != -1 || m + 1 != n || m + 1 != en)
				continue;
		}
		if (!have || m > best) {
			cand = e;
			best = m;
			have = true;
		}
	}
	return cand;
}

/* find_best: the words the user typed, up to the first one no command continues. */
static void find_best(char **words, size_t n, struct sb *out)
{
	size_t x;

	for (x = 0; x < n; x++)
		if (!find_cli(words, x + 1, -1))
			break;
	for (size_t i = 0; i <= x && i < n; i++)
		sb_add(out, "%s%s", i ? " " : "", words[i]);
}

static enum cli_result run_cli(struct peer *p, const char *command, struct sb *out)
{
	char *copy = xstrdup(command), *save = NULL, *words[MAX_WORDS];
	const struct cli_entry *e;
	enum cli_result res;
	size_t n = 0;

	for (char *w = strtok_r(copy, " \t", &save); w && n < MAX_WORDS;
	     w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	e = n ? find_cli(words, n, 0) : NULL;
	if (!e || !e->fn) {
		struct sb best = { 0 };

		find_best(words, n, &best);
		sb_add(out, "No such command '%s' (type 'core show help %s' for other possible "
		       "commands)\n", command, best.p ? best.p : "");
		sb_free(&best);
		free(copy);
		return CLI_FAIL;
	}
	res = e->fn(p, (int)n, words, out);
	if (res == CLI_USAGE)
		sb_add(out, "%s", e->usage);
	else if (res == CLI_FAIL)
		sb_add(out, "Command '%s' failed.\n", command);
	free(copy);
	return res;
}

void peer_command(struct peer *p, const struct req *r, struct sb *out)
{
	struct sb text = { 0 };
	enum cli_result res = run_cli(p, req_get(r, "Command"), &text);
	char *s = text.p, *nl;

	send_response(out, r, res == CLI_OK ? "Success" : "Error", "Command output follows",
		      false);
	/* One Output line per line; the empty piece after the final newline is not sent. */
	while (s && *s) {
		nl = strchr(s, '\n');
		if (!nl) {
			sb_add(out, "Output: %s\r\n", s);
			break;
		}
		sb_add(out, "Output: %.*s\r\n", (int)(nl - s), s);
		s = nl + 1;
	}
	sb_add(out, "\r\n");
	sb_free(&text);
}
