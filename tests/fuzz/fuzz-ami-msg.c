/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the AMI client's reading side (lib/ami/io.c line reader, lib/ami/msg.c framing and
 * the response collection of client.c) with an arbitrary server stream: the input is what
 * "Asterisk" sends, greeting included, over a socketpair whose other end is then closed.
 * The client sends Command actions with ActionIDs 1, 2, 3, ... (as the recordings of a real
 * Asterisk in tests/fixtures/ami/, the seed corpus, answer) until the stream ends or breaks.
 * Invariants: every header of every answer has a non-empty key without ':' or blanks, no
 * CR or LF survives in a key or value, the limits of pbx/ami.h hold, error messages are
 * one line; nothing leaks.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "fuzz.h"

static void check_msg(const struct pbx_ami_msg *m)
{
	FUZZ_CHECK(m->n_headers <= PBX_AMI_MAX_HEADERS, "%zu headers", m->n_headers);
	for (size_t i = 0; i < m->n_headers; i++) {
		const char *k = m->headers[i].key, *v = m->headers[i].value;

		FUZZ_CHECK(k[0] != '\0', "empty key");
		for (const char *p = k; *p; p++)
			FUZZ_CHECK(*p > 0x20 && *p < 0x7f && *p != ':', "key byte 0x%02x", *p);
		FUZZ_CHECK(!strpbrk(v, "\r\n"), "line break in the value of %s", k);
		FUZZ_CHECK(strlen(v) <= PBX_AMI_MAX_LINE, "value of %zu bytes", strlen(v));
	}
}

static void on_event(const struct pbx_ami_msg *event, void *userdata)
{
	(void)userdata;
	check_msg(event);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbx_ami_config cfg = { .host = "fuzz", .port = 5038, .timeout_ms = 2000 };
	const char *kv[] = { "Command", "core show uptime", NULL };
	int sv[2], sndbuf = 4 * 1024 * 1024;
	pbx_ami *ami = NULL;
	pbx_error err = PBX_ERROR_INIT;
	size_t off = 0;

	if (size > 1024 * 1024)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	while (off < size) {
		ssize_t w = send(sv[1], data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w <= 0)
			break;  /* more than the socket holds: the rest is cut */
		off += (size_t)w;
	}
	/* The end of the input is the server closing the connection. */
	shutdown(sv[1], SHUT_WR);
	if (pbx_ami_connect_fd(sv[0], &cfg, &ami, &err) < 0) {
		FUZZ_CHECK(fuzz_one_line(err.message), "greeting error '%s'", err.message);
		close(sv[1]);
		return 0;
	}
	pbx_ami_set_event_cb(ami, on_event, NULL);
	for (int i = 0; i < 64; i++) {
		struct pbx_ami_response *resp = NULL;
		int r = pbx_ami_action_raw(ami, "Command", kv, &resp, &err);

		if (r < 0) {
			FUZZ_CHECK(fuzz_one_line(err.message), "error '%s'", err.message);
			FUZZ_CHECK(r == PBX_EUNAVAILABLE || r == PBX_ERROR, "code %d", r);
			break;
		}
		check_msg(&resp->head);
		for (size_t k = 0; k < resp->n_events; k++)
			check_msg(&resp->events[k]);
		if (resp->complete)
			check_msg(resp->complete);
		for (size_t k = 0; k < resp->n_output; k++)
			FUZZ_CHECK(!strpbrk(resp->output[k], "\r\n"), "line break in output");
		if (pbx_ami_response_check(ami, "Command", resp, &err) < 0)
			FUZZ_CHECK(fuzz_one_line(err.message), "check '%s'", err.message);
		pbx_ami_response_free(resp);
	}
	pbx_ami_close(ami);
	close(sv[1]);
	return 0;
}
