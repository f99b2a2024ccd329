/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl me voicemail pin` and `me voicemail greeting FILE | --delete`: an end user's own
 * voicemail PIN (asked on the terminal with echo off, or read from --pin-file) and greeting.
 * Both go through the privileged apply worker (pbx/selfservice.h), which settles them
 * within a second or two; the verb waits up to CLI_ME_WAIT_MS for the verdict.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "pbx/greeting.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "cli.h"

#define CLI_ME_WAIT_MS 5000
#define PIN_BUF 64

enum { V_PIN_FILE, V_DELETE };
const struct cli_opt cli_me_voicemail_opts[CLI_ME_VOICEMAIL_NOPTS] = {
	[V_PIN_FILE] = { "pin-file", 0, "FILE", "pin: the current PIN on the first line of FILE, the new one on the second (- for standard input)", CLI_OPT_FILE, NULL, CLI_ARG_FILE },
	[V_DELETE] = { "delete", 0, NULL, "greeting: remove your greeting (callers hear the standard message)", CLI_OPT_FLAG, NULL, 0 },
};

/* One line from the terminal with echo off; -1 when there is no terminal. */
static int ask(FILE *tty, const char *prompt, char *buf, size_t n)
{
	struct termios old, quiet;
	bool restore = tcgetattr(fileno(tty), &old) == 0;
	bool ok;

	fputs(prompt, tty);
	fflush(tty);
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)n, tty) != NULL;
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	if (!ok)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return ok ? 0 : -1;
}

/* The two PINs from @file (first line current, second new) or the terminal. */
static int read_pins(const char *file, char *cur, char *new_pin)
{
	char again[PIN_BUF];
	FILE *f;
	int r = 0;

	if (file) {
		if (!(f = strcmp(file, "-") ? fopen(file, "r") : stdin)) {
			cli_usage_error("me voicemail", NULL, "cannot read the PINs from %s", file);
			return -1;
		}
		if (!fgets(cur, PIN_BUF, f) || !fgets(new_pin, PIN_BUF, f))
			r = -1;
		if (f != stdin)
			fclose(f);
		cur[strcspn(cur, "\r\n")] = '\0';
		new_pin[strcspn(new_pin, "\r\n")] = '\0';
		if (r < 0)
			cli_usage_error("me voicemail", NULL, "%s must hold the current PIN on its "
					"first line and the new PIN on its second", file);
		return r;
	}
	if (!(f = fopen("/dev/tty", "r+"))) {
		cli_usage_error("me voicemail", NULL, "no terminal to ask for the PINs; give "
				"--pin-file FILE");
		return -1;
	}
	if (ask(f, "Current PIN: ", cur, PIN_BUF) < 0 || ask(f, "New PIN: ", new_pin, PIN_BUF) < 0 ||
	    ask(f, "New PIN again: ", again, PIN_BUF) < 0) {
		r = -1;
		cli_usage_error("me voicemail", NULL, "no PIN was typed");
	} else if (strcmp(new_pin, again)) {
		r = -1;
		cli_usage_error("me voicemail", NULL, "the new PINs differ; nothing was changed");
	}
	pbx_secret_wipe(again, sizeof(again));
	fclose(f);
	return r;
}

static int me_pin(struct cli *cli, struct cli_args *a)
{
	char cur[PIN_BUF] = "", new_pin[PIN_BUF] = "";
	struct pbx_operator op;
	struct pbx_rows rows;
	const char *status;
	pbx_ctx *ctx;
	int r;

	if (read_pins(a->v[V_PIN_FILE].s, cur, new_pin) < 0) {
		r = CLI_USAGE;
	} else if (!(ctx = cli_ctx(cli))) {
		r = cli->err.code;
	} else {
		r = pbx_me_change_pin(ctx, cur, new_pin, CLI_ME_WAIT_MS, &op, &rows, &cli->err);
		status = r == 0 ? pbx_rows_get(&rows, 0, "status") : NULL;
		if (status && !strcmp(status, "queued"))
			fprintf(stderr, "pbxctl: me: PIN change request %s is queued; no apply worker "
				"answered within %d seconds, it settles it when it runs\n",
				pbx_rows_get(&rows, 0, "request"), CLI_ME_WAIT_MS / 1000);
		r = cli_finish_change(cli, r, "pin", status && !strcmp(status, "done"), &rows, NULL);
	}
	pbx_secret_wipe(cur, sizeof(cur));
	pbx_secret_wipe(new_pin, sizeof(new_pin));
	return r;
}

static int me_greeting(struct cli *cli, struct cli_args *a)
{
	struct pbx_operator op;
	struct pbx_rows rows;
	const char *status;
	pbx_ctx *ctx;
	int r;

	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	r = pbx_me_greeting(ctx, a->v[V_DELETE].set ? NULL : a->argv[1], CLI_ME_WAIT_MS, &op,
			    &rows, &cli->err);
	status = r == 0 ? pbx_rows_get(&rows, 0, "status") : NULL;
	if (status && !strcmp(status, "queued"))
		fprintf(stderr, "pbxctl: me: greeting request %s is queued; no apply worker "
			"answered within %d seconds, it settles it when it runs\n",
			pbx_rows_get(&rows, 0, "request"), CLI_ME_WAIT_MS / 1000);
	return cli_finish_change(cli, r, a->v[V_DELETE].set ? "greeting-delete" : "greeting",
				 status && !strcmp(status, "done"), &rows, NULL);
}

/* me voicemail pin [--pin-file FILE] | greeting FILE | greeting --delete */
int cli_me_voicemail(struct cli *cli, struct cli_args *a)
{
	const char *what = a->argv[0];

	if (!strcmp(what, "pin") && a->argc == 1 && !a->v[V_DELETE].set)
		return me_pin(cli, a);
	if (!strcmp(what, "greeting") && !a->v[V_PIN_FILE].set &&
	    ((a->argc == 2 && !a->v[V_DELETE].set) || (a->argc == 1 && a->v[V_DELETE].set)))
		return me_greeting(cli, a);
	cli_usage_error("me voicemail", NULL, "expected pin [--pin-file FILE], greeting FILE or "
			"greeting --delete");
	return CLI_USAGE;
}
