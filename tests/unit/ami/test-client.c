/* SPDX-License-Identifier: MIT */
/*
 * The AMI client against the recordings of a real Asterisk, replayed byte for byte over a
 * socketpair: what it parses out of each .recv, and that what it sends is the .sent
 * recording (with the same ActionIDs), plus the Logoff it sends on close.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "fakepeer.h"

static struct pbx_ami_config config(void)
{
	return (struct pbx_ami_config){
		.host = "127.0.0.1", .port = 5038, .username = "pbxctl", .secret = "secret",
		.timeout_ms = 3000,
	};
}

static pbx_ami *open_recording(struct fake_peer *f, const char *name, const char *extra,
			       const struct pbx_ami_config *cfg)
{
	struct pbx_ami_config dflt = config();
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;
	int fd = fake_start_recording(f, name, extra);
	int r = pbx_ami_connect_fd(fd, cfg ? cfg : &dflt, &ami, &err);

	cr_assert(eq(int, r, 0), "connect: %s", err.message);
	return ami;
}

/* After close: the client sent exactly NAME.sent, then Logoff with @logoff_id (0: none). */
static void assert_sent(struct fake_peer *f, const char *name, int logoff_id)
{
	char file[256], *want, *full = NULL;

	snprintf(file, sizeof(file), "%s.sent", name);
	want = fixture(file, NULL);
	if (logoff_id)
		cr_assert(asprintf(&full, "%sAction: Logoff\r\nActionID: %d\r\n\r\n", want,
				   logoff_id) > 0);
	cr_assert(eq(str, f->sent, full ? full : want));
	free(full);
	free(want);
}

static void finish(struct fake_peer *f, pbx_ami *ami)
{
	pbx_ami_close(ami);
	fake_finish(f);
}

Test(ami_recording, login_success_reads_greeting_and_sends_login_then_logoff)
{
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "login-success", NULL, NULL);

	cr_assert(eq(str, (char *)pbx_ami_version(ami), "13.0.0"));
	finish(&f, ami);
	/* login-success.sent ends with the Logoff, ActionID 2, exactly what close sends. */
	assert_sent(&f, "login-success", 0);
	fake_free(&f);
}

Test(ami_recording, login_failure_is_eperm_without_the_secret)
{
	struct pbx_ami_config cfg = config();
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = NULL;
	int fd, r;

	cfg.secret = "wrong";
	fd = fake_start_recording(&f, "login-failure", NULL);
	r = pbx_ami_connect_fd(fd, &cfg, &ami, &err);
	cr_assert(eq(int, r, PBX_EPERM));
	cr_assert(eq(int, err.code, PBX_EPERM));
	cr_assert(ami == NULL);
	cr_assert(strstr(err.message, "ami at 127.0.0.1:5038") != NULL, "%s", err.message);
	cr_assert(strstr(err.message, "Authentication failed") != NULL, "%s", err.message);
	cr_assert(strstr(err.message, "wrong") == NULL && strstr(err.detail, "wrong") == NULL);
	fake_finish(&f);
	/* No Logoff after a refused login: the server has ended the session. */
	assert_sent(&f, "login-failure", 0);
	fake_free(&f);
}

Test(ami_recording, md5_challenge_login_sends_md5_of_nonce_and_secret)
{
	/* The recording holds the Challenge only; the Login answer is crafted. */
	static const char login_ok[] = "Response: Success\r\nActionID: 2\r\n"
				       "Message: Authentication accepted\r\n\r\n";
	struct pbx_ami_config cfg = config();
	struct fake_peer f;
	char *want, *full = NULL;
	pbx_ami *ami;

	cfg.md5 = true;
	ami = open_recording(&f, "login-md5-challenge", login_ok, &cfg);
	finish(&f, ami);
	want = fixture("login-md5-challenge.sent", NULL);
	/* md5("163187093secret"), computed with md5sum(1). */
	cr_assert(asprintf(&full, "%sAction: Login\r\nActionID: 2\r\nAuthType: md5\r\n"
			   "Username: pbxctl\r\nKey: bdbfdd6d7955a23fa4f3111c38710c88\r\n"
			   "Events: off\r\n\r\nAction: Logoff\r\nActionID: 3\r\n\r\n", want) > 0);
	cr_assert(eq(str, f.sent, full));
	cr_assert(strstr(f.sent, "Secret") == NULL, "the secret must not be sent in md5 mode");
	free(full);
	free(want);
	fake_free(&f);
}

Test(ami_recording, action_before_login_is_permission_denied)
{
	struct pbx_ami_config cfg = config();
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_ami_response *resp = NULL;
	struct fake_peer f;
	pbx_ami *ami;

	cfg.username = NULL;   /* no Login at all */
	ami = open_recording(&f, "not-logged-in", NULL, &cfg);
	cr_assert(eq(int, pbx_ami_action(ami, "CoreStatus", NULL, &resp, &err), PBX_EPERM));
	cr_assert(resp == NULL);
	cr_assert(strstr(err.message, "Permission denied") != NULL, "%s", err.message);
	finish(&f, ami);
	assert_sent(&f, "not-logged-in", 0);
	fake_free(&f);
}

Test(ami_recording, ping_corestatus_coresettings_values)
{
	struct pbx_ami_response *st = NULL, *set = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "ping-corestatus", NULL, NULL);

	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_action(ami, "CoreStatus", NULL, &st, &err), 0));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&st->head, "CoreStartupDate"), "2026-11-24"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&st->head, "CoreReloadTime"), "22:46:07"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&st->head, "CoreCurrentCalls"), "0"));
	cr_assert(st->complete == NULL && st->n_events == 0);
	cr_assert(eq(int, pbx_ami_action(ami, "CoreSettings", NULL, &set, &err), 0));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&set->head, "AMIversion"), "13.0.0"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&set->head, "AsteriskVersion"),
		     "UNKNOWN__and_probably_unsupported"));
	/* "SystemName: " is present with an empty value, not missing. */
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&set->head, "systemname"), ""));
	cr_assert(eq(sz, set->head.n_headers, 14));
	pbx_ami_response_free(st);
	pbx_ami_response_free(set);
	finish(&f, ami);
	assert_sent(&f, "ping-corestatus", 5);
	fake_free(&f);
}

Test(ami_recording, unknown_action_is_an_error_with_the_server_message)
{
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "unknown-action", NULL, NULL);

	cr_assert(eq(int, pbx_ami_action(ami, "NoSuchThing", NULL, NULL, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "NoSuchThing failed: Invalid/unknown command: NoSuchThing.") != NULL,
		  "%s", err.message);
	cr_assert(eq(str, err.backend, "ami"));
	finish(&f, ami);
	assert_sent(&f, "unknown-action", 3);
	fake_free(&f);
}

Test(ami_recording, raw_action_returns_the_error_response)
{
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "unknown-action", NULL, NULL);

	cr_assert(eq(int, pbx_ami_action_raw(ami, "NoSuchThing", NULL, &resp, &err), 0));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->head, "Response"), "Error"));
	cr_assert(eq(int, pbx_ami_response_check(ami, "NoSuchThing", resp, &err), PBX_ERROR));
	pbx_ami_response_free(resp);
	finish(&f, ami);
	fake_free(&f);
}

Test(ami_recording, command_output_modern_form)
{
	struct pbx_ami_response *up = NULL, *dp = NULL, *bad = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "command-output", NULL, NULL);

	cr_assert(eq(int, pbx_ami_command(ami, "core show uptime", &up, &err), 0));
	cr_assert(eq(sz, up->n_output, 2));
	cr_assert(eq(str, up->output[0], "System uptime: 38 seconds"));
	cr_assert(eq(str, up->output[1], "Last reload: 38 seconds"));
	cr_assert(eq(int, pbx_ami_command(ami, "dialplan show default", &dp, &err), 0));
	cr_assert(eq(sz, dp->n_output, 4));
	cr_assert(eq(str, dp->output[0], "[ Context 'default' created by 'pbx_config' ]"));
	cr_assert(eq(str, dp->output[1], "  's' =>            1. Hangup()                     "
		     "              [extensions.conf:6]"));
	cr_assert(eq(str, dp->output[2], ""));
	cr_assert(eq(str, dp->output[3], "-= 1 extension (1 priority) in 1 context. =-"));
	cr_assert(eq(int, pbx_ami_command(ami, "no such cli command", &bad, &err), PBX_ERROR));
	cr_assert(bad == NULL);
	cr_assert(strstr(err.message, "command 'no such cli command' failed: No such command") != NULL,
		  "%s", err.message);
	pbx_ami_response_free(up);
	pbx_ami_response_free(dp);
	finish(&f, ami);
	assert_sent(&f, "command-output", 5);
	fake_free(&f);
}

Test(ami_recording, command_output_old_follows_form)
{
	/* crafted: the Asterisk 1.8-13 form, raw text that looks like headers and blank lines */
	struct pbx_ami_response *resp = NULL;
	char marker[64] = "";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "crafted-command-follows", NULL, NULL);

	cr_assert(eq(int, pbx_ami_command(ami, "dialplan show default", &resp, &err), 0),
		  "%s", err.message);
	cr_assert(eq(sz, resp->n_output, 4));
	cr_assert(eq(str, resp->output[0], "[ Context 'default' created by 'pbx_config' ]"));
	cr_assert(eq(str, resp->output[1], "  's' =>            1. Hangup()                     "
		     "              [extensions.conf:6]"));
	cr_assert(eq(str, resp->output[2], ""));
	cr_assert(eq(str, resp->output[3], "-= 1 extension (1 priority) in 1 context. =-"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->head, "Privilege"), "Command"));
	pbx_ami_response_free(resp);
	/* The second answer has no newline before --END COMMAND--, and Key: Value text. */
	cr_assert(eq(int, pbx_ami_command(ami, "core show uptime", &resp, &err), 0));
	cr_assert(eq(sz, resp->n_output, 2));
	cr_assert(eq(str, resp->output[0], "System uptime: 38 seconds"));
	cr_assert(eq(str, resp->output[1], "Last reload: 38 seconds"));
	cr_assert(pbx_ami_msg_get(&resp->head, "System uptime") == NULL);
	pbx_ami_response_free(resp);
	/* And the session goes on normally after it. */
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	/* That Asterisk answers a failed command with Follows too: still not found. */
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), PBX_ENOTFOUND));
	cr_assert(strstr(err.message, "There is no existence of 'pbxctl-meta-acme' context") !=
		  NULL, "%s", err.message);
	cr_assert(eq(str, marker, ""));
	finish(&f, ami);
	fake_free(&f);
}

Test(ami_recording, astdb_put_get_del)
{
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	char *val = NULL;
	pbx_ami *ami = open_recording(&f, "db-put-get", NULL, NULL);

	cr_assert(eq(int, pbx_ami_db_put(ami, "DND", "acme/1001", "YES", &err), 0));
	cr_assert(eq(int, pbx_ami_db_get(ami, "DND", "acme/1001", &val, &err), 0));
	cr_assert(eq(str, val, "YES"));
	free(val);
	val = NULL;
	cr_assert(eq(int, pbx_ami_db_del(ami, "DND", "acme/1001", &err), 0));
	cr_assert(eq(int, pbx_ami_db_get(ami, "DND", "acme/1001", &val, &err), PBX_ENOTFOUND));
	cr_assert(val == NULL);
	cr_assert(strstr(err.message, "Database entry not found") != NULL, "%s", err.message);
	finish(&f, ami);
	assert_sent(&f, "db-put-get", 6);
	fake_free(&f);
}

Test(ami_recording, dbget_event_list_is_collected)
{
	const char *kv[] = { "Family", "DND", "Key", "acme/1001", NULL };
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_recording(&f, "db-put-get", NULL, NULL);

	cr_assert(eq(int, pbx_ami_action(ami, "DBPut", (const char *const[]){ "Family", "DND",
					 "Key", "acme/1001", "Val", "YES", NULL }, NULL, &err), 0));
	cr_assert(eq(int, pbx_ami_action(ami, "DBGet", kv, &resp, &err), 0));
	cr_assert(eq(sz, resp->n_events, 1));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[0], "Event"), "DBGetResponse"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&resp->events[0], "Val"), "YES"));
	cr_assert(resp->complete != NULL);
	cr_assert(eq(str, (char *)pbx_ami_msg_get(resp->complete, "ListItems"), "1"));
	pbx_ami_response_free(resp);
	finish(&f, ami);
	fake_free(&f);
}

Test(ami_recording, pjsip_contacts_endpoints_and_registrations)
{
	const char *ep[] = { "Endpoint", "acme-1002-desk", NULL };
	const char *none[] = { "Endpoint", "no-such-endpoint", NULL };
	struct pbx_ami_registration *regs = NULL;
	struct pbx_ami_response *eps = NULL, *one = NULL;
	struct pbx_ami_contact *c = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	size_t n = 99, nr = 99;
	pbx_ami *ami = open_recording(&f, "pjsip-status", NULL, NULL);

	cr_assert(eq(int, pbx_ami_contacts(ami, &c, &n, &err), 0), "%s", err.message);
	cr_assert(eq(sz, n, 3));
	cr_assert(eq(str, c[0].endpoint, "acme-1001-desk"));
	cr_assert(eq(str, c[0].aor, "acme-1001-desk"));
	cr_assert(eq(str, c[0].uri, "sip:acme-1001-desk@127.0.0.1:5071"));
	cr_assert(eq(str, c[0].via_addr, "127.0.0.1"));
	cr_assert(eq(int, c[0].via_port, 5071));
	cr_assert(eq(str, c[0].user_agent, "sipp-rig"));
	cr_assert(eq(i64, c[0].expiration_time, 1795560646));
	cr_assert(eq(str, c[0].status, "NonQualified"));
	cr_assert(eq(i64, c[0].roundtrip_usec, -1));
	cr_assert(eq(str, c[1].endpoint, "acme-1001-soft"));
	cr_assert(eq(int, c[1].via_port, 5072));
	cr_assert(eq(str, c[2].endpoint, "acme-1002-desk"));
	cr_assert(eq(str, c[2].uri, "sip:acme-1002-desk@127.0.0.1:5073"));
	pbx_ami_contacts_free(c, n);

	cr_assert(eq(int, pbx_ami_action(ami, "PJSIPShowEndpoints", NULL, &eps, &err), 0));
	cr_assert(eq(sz, eps->n_events, 3));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&eps->events[2], "ObjectName"),
		     "acme-1002-desk"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(eps->complete, "Event"),
		     "EndpointListComplete"));
	cr_assert(eq(int, pbx_ami_action(ami, "PJSIPShowEndpoint", ep, &one, &err), 0));
	cr_assert(eq(sz, one->n_events, 5));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&one->events[0], "Context"), "acme-internal"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&one->events[4], "Event"),
		     "ContactStatusDetail"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(one->complete, "ListItems"), "5"));
	pbx_ami_response_free(eps);
	pbx_ami_response_free(one);

	cr_assert(eq(int, pbx_ami_registrations_outbound(ami, &regs, &nr, &err), 0));
	cr_assert(eq(sz, nr, 0));
	pbx_ami_registrations_free(regs, nr);
	cr_assert(eq(int, pbx_ami_action(ami, "PJSIPShowEndpoint", none, NULL, &err),
		     PBX_ENOTFOUND));
	cr_assert(strstr(err.message, "Unable to retrieve endpoint no-such-endpoint") != NULL, "%s",
		  err.message);
	finish(&f, ami);
	assert_sent(&f, "pjsip-status", 7);
	fake_free(&f);
}

Test(ami_recording, outbound_registrations_rows)
{
	/* crafted: Asterisk's field names for two trunks, one registered */
	struct pbx_ami_registration *g = NULL;
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	size_t n = 0;
	pbx_ami *ami = open_recording(&f, "crafted-registrations", NULL, NULL);

	cr_assert(eq(int, pbx_ami_registrations_outbound(ami, &g, &n, &err), 0), "%s",
		  err.message);
	cr_assert(eq(sz, n, 2));
	cr_assert(eq(str, g[0].name, "trunk-a"));
	cr_assert(eq(str, g[0].server_uri, "sip:sip.example.net"));
	cr_assert(eq(str, g[0].client_uri, "sip:4930123@sip.example.net"));
	cr_assert(eq(str, g[0].status, "Registered"));
	cr_assert(eq(i64, g[0].next_reg, 3300));
	cr_assert(eq(str, g[1].status, "Rejected"));
	pbx_ami_registrations_free(g, n);
	finish(&f, ami);
	fake_free(&f);
}

struct seen {
	int events;
	char uptime[32];
};

static void on_event(const struct pbx_ami_msg *ev, void *data)
{
	struct seen *s = data;
	const char *up = pbx_ami_msg_get(ev, "Uptime");

	if (strcmp(pbx_ami_msg_get(ev, "Event"), "FullyBooted") == 0 && up)
		snprintf(s->uptime, sizeof(s->uptime), "%s", up);
	s->events++;
}

Test(ami_recording, unsolicited_event_after_login_is_skipped_and_reported)
{
	struct pbx_ami_config cfg = config();
	struct seen seen = { 0 };
	struct fake_peer f;
	char *rec, *want, *got;
	pbx_ami *ami;

	cfg.events = "system,call,reporting";
	ami = open_recording(&f, "events-on-login", NULL, &cfg);
	pbx_ami_set_event_cb(ami, on_event, &seen);
	finish(&f, ami);   /* the Logoff answer comes after FullyBooted */
	cr_assert(eq(int, seen.events, 1));
	cr_assert(eq(str, seen.uptime, "223"));
	/* The recording's client numbered its Logoff 9; ours is 2. */
	rec = fixture("events-on-login.sent", NULL);
	want = mask_action_ids(rec, strlen(rec));
	got = mask_action_ids(f.sent, f.sent_len);
	cr_assert(eq(str, got, want));
	cr_assert(strstr(f.sent, "Action: Logoff\r\nActionID: 2\r\n") != NULL);
	free(rec);
	free(want);
	free(got);
	fake_free(&f);
}

struct reload_case {
	const char *name, *marker;
	int extens, prios;
};

static void check_reload(const struct reload_case *c)
{
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	char marker[64] = "";
	int e = -1, p = -1, r;
	pbx_ami *ami = open_recording(&f, c->name, NULL, NULL);

	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	r = pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker), &err);
	if (c->marker) {
		cr_assert(eq(int, r, 0), "%s: %s", c->name, err.message);
		cr_assert(eq(str, marker, (char *)c->marker));
	} else {
		cr_assert(eq(int, r, PBX_ENOTFOUND), "%s: %d", c->name, r);
		cr_assert(strstr(err.message, "There is no existence of 'pbxctl-meta-acme' "
				 "context") != NULL, "%s", err.message);
		cr_assert(eq(str, marker, ""));
	}
	r = pbx_ami_dialplan_counts(ami, "acme-internal", &e, &p, &err);
	if (c->extens >= 0) {
		cr_assert(eq(int, r, 0), "%s: %s", c->name, err.message);
		cr_assert(eq(int, e, c->extens));
		cr_assert(eq(int, p, c->prios));
	} else {
		cr_assert(eq(int, r, PBX_ENOTFOUND));
		cr_assert(strstr(err.message, "Did not find context acme-internal") != NULL, "%s",
			  err.message);
		cr_assert(eq(int, e, -1));
	}
	finish(&f, ami);
	assert_sent(&f, c->name, 5);
	fake_free(&f);
}

Test(ami_recording, reload_ok_marker_and_counts)
{
	check_reload(&(struct reload_case){ "reload-ok", "job-0001", 2, 5 });
}

Test(ami_recording, reload_unclosed_bracket_loses_marker_and_context)
{
	check_reload(&(struct reload_case){ "reload-unclosed-bracket", NULL, -1, -1 });
}

Test(ami_recording, reload_bad_priority_loads_marker_but_one_priority_less)
{
	check_reload(&(struct reload_case){ "reload-bad-priority", "job-0004", 2, 4 });
}

Test(ami_recording, reload_garbage_line_unknown_app_restore)
{
	check_reload(&(struct reload_case){ "reload-garbage-line", "job-0005", 2, 5 });
	check_reload(&(struct reload_case){ "reload-unknown-app", "job-0006", 2, 5 });
	check_reload(&(struct reload_case){ "reload-restore-good", "job-0003", 2, 5 });
}

Test(ami_recording, marker_buffer_too_small_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	char marker[5] = "";
	pbx_ami *ami = open_recording(&f, "reload-ok", NULL, NULL);

	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0));
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), PBX_EINVALID));
	cr_assert(eq(str, marker, ""));
	finish(&f, ami);
	fake_free(&f);
}
