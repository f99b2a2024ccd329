/* SPDX-License-Identifier: MIT */
/*
 * amipeer's dialplan reader beyond the recordings: the extensions.conf syntax pbxctl
 * generates (labels, includes, hints, escaped semicolons, comments) and the ways Asterisk
 * treats broken files, seen through ShowDialPlan and "dialplan show".
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "peerproc.h"

static struct peerproc peer;
static pbx_ami *ami;

static void stop(void)
{
	pbx_ami_close(ami);
	ami = NULL;
	peer_stop(&peer);
}

/* Start a peer whose dialplan directory holds @file = @text, and connect. */
static void start_with(const char *file, const char *text)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	char path[1024];

	peer_start(&peer, NULL, NULL);
	snprintf(path, sizeof(path), "%s/%s", peer.dialplan, file);
	write_text(path, text);
	cfg = peer_config(&peer, 2000);
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
}

static void counts(const char *ctx, int want_e, int want_p)
{
	pbx_error err = PBX_ERROR_INIT;
	int e = -1, p = -1;

	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, ctx, &e, &p, &err), 0), "%s: %s", ctx,
		  err.message);
	cr_assert(eq(int, e, want_e), "%s extensions", ctx);
	cr_assert(eq(int, p, want_p), "%s priorities", ctx);
}

/* The CLI output of @command, joined with '\n'; the command must succeed. */
static char *cli(const char *command)
{
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	size_t len = 1;
	char *out;

	cr_assert(eq(int, pbx_ami_command(ami, command, &resp, &err), 0), "%s", err.message);
	for (size_t i = 0; i < resp->n_output; i++)
		len += strlen(resp->output[i]) + 1;
	out = calloc(1, len);
	for (size_t i = 0; i < resp->n_output; i++) {
		strcat(out, resp->output[i]);
		strcat(out, "\n");
	}
	pbx_ami_response_free(resp);
	return out;
}

static const char tenant[] =
	"[acme-features] ; comment after a header\n"
	"exten => *72,1,Set(DB(CF/acme/${CALLERID(num)})=${EXTEN:3})\n"
	"same => n,Hangup()\n"
	"\n"
	"[acme-internal]\n"
	"include => acme-features\n"
	"exten => 1001,hint,PJSIP/acme-1001-desk&PJSIP/acme-1001-soft\n"
	"exten => 1001,1,NoOp(a\\;b) ; the \\; is a semicolon, this is a comment\n"
	"same => n(dial),Dial(PJSIP/acme-1001-desk,20)\n"
	"same => n,GotoIf($[\"${DIALSTATUS}\" = \"BUSY\"]?dial)\n"
	";-- a block comment\n"
	"exten => 1002,1,Hangup()\n"
	"--;\n"
	"exten => _1XXX,1,Playback(invalid)\n"
	"same => n,Hangup()\n";

Test(amipeer_dialplan, generated_syntax_counts, .fini = stop)
{
	start_with("acme.conf", tenant);
	/* 1001 (hint + 3), _1XXX (2); 1002 was inside the block comment. */
	counts("acme-internal", 2, 6);
	counts("acme-features", 1, 2);
}

Test(amipeer_dialplan, show_dialplan_events_carry_labels_hints_and_includes, .fini = stop)
{
	const char *kv[] = { "Context", "acme-internal", NULL };
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	const struct pbx_ami_msg *ev;

	start_with("acme.conf", tenant);
	cr_assert(eq(int, pbx_ami_action(ami, "ShowDialPlan", kv, &resp, &err), 0));
	/* 6 priorities and one include */
	cr_assert(eq(sz, resp->n_events, 7));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(resp->complete, "ListItems"), "7"));
	ev = &resp->events[0];
	cr_assert(eq(str, (char *)pbx_ami_msg_get(ev, "Extension"), "1001"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(ev, "Priority"), "hint"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(ev, "Application"),
		     "PJSIP/acme-1001-desk&PJSIP/acme-1001-soft"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[1], "AppData"), "a;b"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[2], "ExtensionLabel"), "dial"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[3], "AppData"),
		     "$[\"${DIALSTATUS}\" = \"BUSY\"]?dial"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[4], "Extension"), "_1XXX"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[6], "IncludeContext"),
		     "acme-features"));
	pbx_ami_response_free(resp);
}

Test(amipeer_dialplan, cli_dialplan_show_context, .fini = stop)
{
	char *out;

	start_with("acme.conf", tenant);
	out = cli("dialplan show acme-internal");
	cr_assert(eq(str, out,
		"[ Context 'acme-internal' created by 'pbx_config' ]\n"
		"  '1001' =>         hint: PJSIP/acme-1001-desk&PJSIP/acme-1001-soft [acme.conf:7]\n"
		"                    1. NoOp(a;b)                                  [acme.conf:8]\n"
		"     [dial]         2. Dial(PJSIP/acme-1001-desk,20)              [acme.conf:9]\n"
		"                    3. GotoIf($[\"${DIALSTATUS}\" = \"BUSY\"]?dial)   [acme.conf:10]\n"
		"  '_1XXX' =>        1. Playback(invalid)                          [acme.conf:14]\n"
		"                    2. Hangup()                                   [acme.conf:15]\n"
		"  Include =>        'acme-features'                               [pbx_config]\n"
		"\n"
		"-= 2 extensions (6 priorities) in 1 context. =-\n"));
	free(out);
}

Test(amipeer_dialplan, cli_dialplan_show_exten_follows_patterns_and_includes, .fini = stop)
{
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char *out;

	start_with("acme.conf", tenant);
	out = cli("dialplan show 1005@acme-internal");
	cr_assert(strstr(out, "'_1XXX' =>        1. Playback(invalid)") != NULL, "%s", out);
	cr_assert(strstr(out, "-= 1 extension (2 priorities) in 1 context. =-") != NULL, "%s",
		  out);
	free(out);
	out = cli("dialplan show *72@acme-internal");
	cr_assert(strstr(out, "[ Included context 'acme-features' created by 'pbx_config' ]") !=
		  NULL, "%s", out);
	free(out);
	cr_assert(eq(int, pbx_ami_command(ami, "dialplan show 2001@acme-internal", &resp, &err),
		     PBX_ENOTFOUND));
	cr_assert(strstr(err.message, "There is no existence of 2001@acme-internal extension") !=
		  NULL, "%s", err.message);
}

Test(amipeer_dialplan, file_with_a_line_before_any_context_is_dropped, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	int e, p;

	start_with("acme.conf", "exten => 1,1,NoOp()\n[acme-internal]\nexten => 1001,1,NoOp()\n");
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "acme-internal", &e, &p, &err),
		     PBX_ENOTFOUND));
}

Test(amipeer_dialplan, duplicate_and_invalid_priorities_are_skipped, .fini = stop)
{
	start_with("acme.conf",
		   "[acme-internal]\n"
		   "exten => 1001,1,NoOp(first)\n"
		   "exten => 1001,1,NoOp(duplicate)\n"   /* refused: priority 1 in use */
		   "exten => 1001,0,NoOp(zero)\n"        /* invalid */
		   "exten => 1001,n(,NoOp(bad label)\n"  /* label without ')' */
		   "same => n,NoOp(second)\n"
		   "exten => 1002,n,NoOp(continues the priority count)\n"
		   "foo => bar\n"                        /* unknown directive, ignored */
		   "no equal sign here\n");
	/* 1001: 1, 2; 1002: 3 (n continues from the previous line, as in Asterisk) */
	counts("acme-internal", 2, 3);
}

Test(amipeer_dialplan, dialplan_show_all_and_unknown_cli_commands, .fini = stop)
{
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char *out;

	start_with("acme.conf", tenant);
	out = cli("dialplan show");
	cr_assert(strstr(out, "-= 3 extensions (8 priorities) in 2 contexts. =-") != NULL, "%s",
		  out);
	free(out);
	out = cli("core show uptime seconds");
	cr_assert(strncmp(out, "System uptime: ", 15) == 0, "%s", out);
	free(out);
	cr_assert(eq(int, pbx_ami_command(ami, "pjsip frobnicate all", &resp, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "No such command 'pjsip frobnicate all' (type 'core show "
			 "help pjsip frobnicate all' for other possible commands)") != NULL, "%s",
		  err.message);
	cr_assert(eq(int, pbx_ami_command(ami, "dialplan show a b", &resp, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "Usage: dialplan show [[exten@]context]") != NULL, "%s",
		  err.message);
}
