/* SPDX-License-Identifier: MIT */
/*
 * The AMI client against hostile or broken servers: truncated messages, over-long lines,
 * oversized messages, garbage, silence (deadlines), wrong greetings, stray messages, and
 * header injection through CR/LF in values, which must be refused before anything is sent.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "fakepeer.h"

#define GREETING "Asterisk Call Manager/13.0.0\r\n"
#define LOGIN_OK "Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"

static struct pbx_ami_config config(int timeout_ms)
{
	return (struct pbx_ami_config){
		.host = "127.0.0.1", .port = 5038, .username = "pbxctl", .secret = "secret",
		.timeout_ms = timeout_ms,
	};
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A logged-in client whose server then sends @tail (and EOF when @eof). */
static pbx_ami *open_raw(struct fake_peer *f, const char *tail, size_t tail_len, bool eof,
			 int timeout_ms)
{
	size_t head = strlen(GREETING LOGIN_OK);
	char *all = malloc(head + tail_len);
	struct pbx_ami_config cfg = config(timeout_ms);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;
	int fd;

	cr_assert(all != NULL);
	memcpy(all, GREETING LOGIN_OK, head);
	memcpy(all + head, tail, tail_len);
	fd = fake_start_raw(f, all, head + tail_len, eof);
	free(all);
	cr_assert(eq(int, pbx_ami_connect_fd(fd, &cfg, &ami, &err), 0), "%s", err.message);
	return ami;
}

static void finish(struct fake_peer *f, pbx_ami *ami)
{
	pbx_ami_close(ami);
	fake_finish(f);
	fake_free(f);
}

Test(ami_hostile, truncated_message_at_eof)
{
	static const char tail[] = "Response: Success\r\nActionID: 2\r\nPing: Po";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, tail, strlen(tail), true, 2000);

	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "closed the connection in the middle of a message") != NULL, "%s",
		  err.message);
	finish(&f, ami);
}

Test(ami_hostile, truncated_after_complete_lines_at_eof)
{
	static const char tail[] = "Response: Success\r\nActionID: 2\r\n";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, tail, strlen(tail), true, 2000);

	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "in the middle of a message") != NULL, "%s", err.message);
	finish(&f, ami);
}

Test(ami_hostile, line_of_100_kib_is_refused)
{
	size_t n = 100 * 1024;
	char *tail = malloc(n + 64);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami;
	int len;

	cr_assert(tail != NULL);
	len = sprintf(tail, "Response: Success\r\nActionID: 2\r\nPing: ");
	memset(tail + len, 'a', n);
	memcpy(tail + len + n, "\r\n\r\n", 4);
	ami = open_raw(&f, tail, (size_t)len + n + 4, false, 2000);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "a line longer than 64 KiB") != NULL, "%s", err.message);
	free(tail);
	finish(&f, ami);
}

Test(ami_hostile, line_of_exactly_64_kib_is_accepted)
{
	size_t n = 64 * 1024 - strlen("Pong: ");
	char *tail = malloc(n + 128);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami;
	int len;

	cr_assert(tail != NULL);
	len = sprintf(tail, "Response: Success\r\nActionID: 2\r\nPing: Pong\r\nPong: ");
	memset(tail + len, 'a', n);
	memcpy(tail + len + n, "\r\n\r\n", 4);
	ami = open_raw(&f, tail, (size_t)len + n + 4, false, 2000);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	free(tail);
	finish(&f, ami);
}

Test(ami_hostile, message_of_2_mib_is_refused)
{
	size_t n = 2 * 1024 * 1024, used;
	char *tail = malloc(n + 128);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami;

	cr_assert(tail != NULL);
	used = (size_t)sprintf(tail, "Response: Success\r\nActionID: 2\r\n");
	while (used < n) {
		memcpy(tail + used, "Output: 0123456789012345678901234567890123456789\r\n", 50);
		used += 50;
	}
	memcpy(tail + used, "\r\n", 2);
	ami = open_raw(&f, tail, used + 2, false, 5000);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "a message larger than 1 MiB") != NULL, "%s", err.message);
	free(tail);
	finish(&f, ami);
}

Test(ami_hostile, message_of_120000_headers_is_refused)
{
	size_t count = 120000, used;
	char *tail = malloc(count * 6 + 128);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami;

	cr_assert(tail != NULL);
	used = (size_t)sprintf(tail, "Response: Success\r\nActionID: 2\r\n");
	for (size_t i = 0; i < count; i++) {
		memcpy(tail + used, "A: b\r\n", 6);
		used += 6;
	}
	memcpy(tail + used, "\r\n", 2);
	ami = open_raw(&f, tail, used + 2, false, 5000);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "larger than 100000 lines") != NULL, "%s", err.message);
	free(tail);
	finish(&f, ami);
}

Test(ami_hostile, garbage_without_colon_is_malformed)
{
	static const char tail[] = "this is not AMI at all\r\n\r\n";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, tail, strlen(tail), false, 2000);

	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "sent a malformed message") != NULL, "%s", err.message);
	cr_assert(strstr(err.detail, "this is not AMI") != NULL, "%s", err.detail);
	finish(&f, ami);
}

/* Found by tests/fuzz/fuzz-ami-msg: a lone CR inside a value survived into the message. */
Test(ami_hostile, carriage_return_inside_a_line_is_malformed)
{
	static const char tail[] = "Event: ListDialplan\r\nContext: acme-internal\rlan\r\n\r\n"
				   "Response: Success\r\nActionID: 2\r\nPing: Pong\r\n\r\n";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, tail, strlen(tail), true, 2000);

	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "a carriage return inside a line") != NULL, "%s", err.message);
	finish(&f, ami);
}

Test(ami_hostile, carriage_return_in_the_greeting_is_refused)
{
	static const char all[] = "Asterisk Call Manager/13.0.0\rX\r\n";
	struct pbx_ami_config cfg = config(2000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;
	struct fake_peer f;
	int fd = fake_start_raw(&f, all, strlen(all), true);

	cr_assert(eq(int, pbx_ami_connect_fd(fd, &cfg, &ami, &err), PBX_ERROR));
	cr_assert(strstr(err.message, "a carriage return inside a line") != NULL, "%s", err.message);
	fake_finish(&f);
	fake_free(&f);
}

Test(ami_hostile, binary_garbage_is_malformed)
{
	static const char tail[] = "\x01\x02\xff\xfe: \x00zz\r\n\r\n";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, tail, sizeof(tail) - 1, false, 2000);

	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_ERROR));
	for (const unsigned char *p = (const unsigned char *)err.message; *p; p++)
		cr_assert(p[0] >= 0x20, "control character in the message");
	finish(&f, ami);
}

Test(ami_hostile, silent_server_hits_the_deadline)
{
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, "", 0, false, 300);
	long long t0 = now_ms(), took;

	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_EUNAVAILABLE));
	took = now_ms() - t0;
	cr_assert(took >= 250 && took < 2000, "took %lld ms", took);
	cr_assert(strstr(err.message, "did not answer within 300 ms") != NULL, "%s", err.message);
	finish(&f, ami);
}

Test(ami_hostile, stray_events_do_not_extend_the_deadline)
{
	/* An event stream that never answers the action must not keep the client waiting. */
	size_t n = 0, cap = 64 * 1024;
	char *tail = malloc(cap);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami;
	long long t0, took;

	cr_assert(tail != NULL);
	while (n + 32 < cap)
		n += (size_t)sprintf(tail + n, "Event: Noise\r\nSeq: %zu\r\n\r\n", n);
	ami = open_raw(&f, tail, n, false, 300);
	t0 = now_ms();
	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_EUNAVAILABLE));
	took = now_ms() - t0;
	cr_assert(took < 2000, "took %lld ms", took);
	free(tail);
	finish(&f, ami);
}

Test(ami_hostile, missing_greeting_times_out_on_connect)
{
	struct pbx_ami_config cfg = config(300);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = NULL;
	long long t0 = now_ms();
	int fd = fake_start_raw(&f, "", 0, false);

	cr_assert(eq(int, pbx_ami_connect_fd(fd, &cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(now_ms() - t0 < 2000);
	cr_assert(ami == NULL);
	fake_finish(&f);
	fake_free(&f);
}

Test(ami_hostile, wrong_greeting_is_not_ami)
{
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
	struct pbx_ami_config cfg = config(1000);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = NULL;
	int fd = fake_start_raw(&f, ssh, strlen(ssh), false);

	cr_assert(eq(int, pbx_ami_connect_fd(fd, &cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "is not an Asterisk manager interface") != NULL, "%s", err.message);
	fake_finish(&f);
	cr_assert(eq(sz, f.sent_len, 0), "nothing, and no secret, goes to a non-AMI server");
	fake_free(&f);
}

static void count_event(const struct pbx_ami_msg *ev, void *data)
{
	cr_assert(eq(str, (char *)pbx_ami_msg_get(ev, "Event"), "PeerStatus"));
	(*(int *)data)++;
}

Test(ami_hostile, stray_responses_and_events_are_skipped)
{
	static const char tail[] =
		"Event: PeerStatus\r\nPeer: PJSIP/x\r\n\r\n"
		"Response: Success\r\nActionID: 99\r\nMessage: stale\r\n\r\n"
		"\r\n\r\n"
		"Response: Success\r\nActionID: 2\r\nPing: Pong\r\nTimestamp: 1.0\r\n\r\n";
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	int events = 0;
	pbx_ami *ami = open_raw(&f, tail, strlen(tail), false, 2000);

	pbx_ami_set_event_cb(ami, count_event, &events);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, events, 1), "the event, not the stale response, is reported");
	finish(&f, ami);
}

Test(ami_hostile, follows_without_end_is_bounded)
{
	static const char tail[] = "Response: Follows\r\nPrivilege: Command\r\nActionID: 2\r\n"
				   "some output\n\r\n\r\n";
	const char *kv[] = { "Command", "core show uptime", NULL };
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, tail, strlen(tail), false, 300);

	cr_assert(eq(int, pbx_ami_action(ami, "Command", kv, NULL, &err), PBX_EUNAVAILABLE));
	finish(&f, ami);
}

/* ---- header injection ---- */

static void assert_refused(int r, const pbx_error *err, const char *field)
{
	cr_assert(eq(int, r, PBX_EINVALID), "%d", r);
	cr_assert(eq(int, err->code, PBX_EINVALID));
	cr_assert(eq(str, (char *)err->field, (char *)field));
}

Test(ami_injection, crlf_in_values_is_refused_before_sending)
{
	const char *cmd[] = { "Command", "core show uptime\r\nAction: Reload", NULL };
	const char *lf_key[] = { "Fam\nily", "x", NULL };
	const char *colon_key[] = { "Family: x", "y", NULL };
	const char *own_id[] = { "ActionID", "7", NULL };
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = open_raw(&f, "", 0, false, 2000);

	assert_refused(pbx_ami_db_put(ami, "DND", "acme/1001", "YES\r\nAction: Reload", &err),
		       &err, "Val");
	assert_refused(pbx_ami_db_put(ami, "DND", "acme/1001\n", "YES", &err), &err, "Key");
	assert_refused(pbx_ami_db_get(ami, "DND\r", "k", NULL, &err), &err, "Family");
	assert_refused(pbx_ami_action(ami, "Command", cmd, NULL, &err), &err, "Command");
	assert_refused(pbx_ami_command(ami, "dialplan show x\nAction: Reload", NULL, &err), &err,
		       "Command");
	assert_refused(pbx_ami_reload(ami, "pbx_config\r\n\r\nAction: Originate", &err), &err,
		       "Module");
	assert_refused(pbx_ami_dialplan_counts(ami, "acme\r\nAction: Reload", NULL, NULL, &err),
		       &err, "Context");
	assert_refused(pbx_ami_action(ami, "Ping\r\nAction: Reload", NULL, NULL, &err), &err,
		       "action");
	assert_refused(pbx_ami_action(ami, "DBGet", lf_key, NULL, &err), &err, "Fam?ily");
	assert_refused(pbx_ami_action(ami, "DBGet", colon_key, NULL, &err), &err, "Family: x");
	assert_refused(pbx_ami_action(ami, "Ping", own_id, NULL, &err), &err, "ActionID");
	assert_refused(pbx_ami_db_put(ami, "DND", "k", NULL, &err), &err, "Val");
	pbx_ami_close(ami);
	fake_finish(&f);
	/* Only the Login and the Logoff ever reached the wire. */
	cr_assert(eq(str, f.sent, "Action: Login\r\nActionID: 1\r\nUsername: pbxctl\r\n"
		     "Secret: secret\r\nEvents: off\r\n\r\nAction: Logoff\r\nActionID: 2\r\n\r\n"));
	fake_free(&f);
}

Test(ami_injection, crlf_in_credentials_is_refused)
{
	struct pbx_ami_config cfg = config(1000);
	pbx_error err = PBX_ERROR_INIT;
	struct fake_peer f;
	pbx_ami *ami = NULL;
	int fd = fake_start_raw(&f, GREETING, strlen(GREETING), false);

	cfg.secret = "secret\r\nAction: Reload";
	cr_assert(eq(int, pbx_ami_connect_fd(fd, &cfg, &ami, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "Reload") == NULL);
	fake_finish(&f);
	cr_assert(eq(sz, f.sent_len, 0));
	fake_free(&f);
}

Test(ami_connect, refused_port_is_unavailable)
{
	struct pbx_ami_config cfg = config(1000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	cfg.port = 1;   /* nothing listens on tcp/1 on loopback */
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(eq(str, err.message, "ami at 127.0.0.1:1 is unreachable: connection refused"));
	cr_assert(eq(str, err.backend, "ami"));
	cr_assert(strstr(err.message, "secret") == NULL);
}

Test(ami_connect, unknown_host_is_unavailable)
{
	struct pbx_ami_config cfg = config(1000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	cfg.host = "no-such-host.invalid";
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "ami at no-such-host.invalid:5038 is unreachable") != NULL, "%s",
		  err.message);
}

/* ---- random garbage ---- */

Test(ami_hostile, random_fragments_never_crash_or_hang)
{
	/* Fragments of real messages in random order and cut at random places, then EOF. */
	static const char *const frag[] = {
		"Response: Success\r\n", "Response: Follows\r\n", "Response: Error\r\n",
		"ActionID: 2\r\n", "ActionID: 3\r\n", "EventList: start\r\n",
		"EventList: Complete\r\n", "Event: ContactList\r\n", "\r\n", "\n", "\r",
		"Output: x\r\n", "--END COMMAND--", "Message: m\r\n", ":", ": ", "Ping: Pong\r\n",
		"Privilege: Command\r\n", "\x00", "\xff", "ListItems: 99999999999999999999\r\n",
	};
	unsigned seed = 12345;

	for (int iter = 0; iter < 300; iter++) {
		char buf[4096];
		size_t n = 0;
		pbx_error err = PBX_ERROR_INIT;
		struct pbx_ami_response *resp = NULL;
		struct fake_peer f;
		pbx_ami *ami;
		int count = (int)(rand_r(&seed) % 40), r;

		for (int i = 0; i < count; i++) {
			const char *s = frag[rand_r(&seed) % (sizeof(frag) / sizeof(frag[0]))];
			size_t l = strlen(s) ? strlen(s) : 1;

			if (rand_r(&seed) % 8 == 0)
				l = (size_t)rand_r(&seed) % l + 1;
			if (n + l > sizeof(buf))
				break;
			memcpy(buf + n, s, l);
			n += l;
		}
		ami = open_raw(&f, buf, n, true, 500);
		r = pbx_ami_action_raw(ami, "Ping", NULL, &resp, &err);
		if (r == 0)
			pbx_ami_response_free(resp);
		else
			cr_assert(err.code == r && err.message[0] != '\0');
		finish(&f, ami);
	}
}

Test(ami_connect, port_out_of_range_is_invalid)
{
	struct pbx_ami_config cfg = config(1000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	cfg.port = 70000;
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "port"));
	cr_assert(ami == NULL);
}
