/* SPDX-License-Identifier: MIT */
/*
 * amipeer against the recordings of a real Asterisk: each .sent recording is sent to the
 * peer as is, and the peer's answer must equal the .recv recording byte for byte, except for
 * values that change with time (timestamps, dates, uptimes, the challenge nonce, contact
 * expiry and SIP Call-IDs), which are masked on both sides. PJSIPShowEndpoint's answer is the
 * one exception compared by structure: the peer knows only what its contacts file says, so
 * it sends a subset of the EndpointDetail and AorDetail fields and no AuthDetail or
 * TransportDetail; every field it does send must appear, with the recorded value, in the
 * recorded event of the same type, and ContactStatusDetail must match exactly.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peerproc.h"

static struct peerproc peer;

static void stop(void)
{
	peer_stop(&peer);
}

/* Send @name.sent as one write, half-close, and read everything until the peer closes. */
static char *exchange(const char *name, size_t *ret_len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)peer.port) };
	char file[256], *sent, *buf = NULL;
	size_t len, n = 0;
	long long until = mono_ms() + 10000;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	snprintf(file, sizeof(file), "%s.sent", name);
	sent = read_fixture(file, &len);
	cr_assert(write(fd, sent, len) == (ssize_t)len);
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[65536];
		ssize_t got;

		cr_assert(mono_ms() < until, "%s: the peer did not close the session", name);
		if (poll(&p, 1, 1000) <= 0)
			continue;
		got = read(fd, chunk, sizeof(chunk));
		if (got <= 0)
			break;
		buf = realloc(buf, n + (size_t)got + 1);
		cr_assert(buf != NULL);
		memcpy(buf + n, chunk, (size_t)got);
		n += (size_t)got;
		buf[n] = '\0';
	}
	close(fd);
	free(sent);
	*ret_len = n;
	return buf ? buf : calloc(1, 1);
}

/* Keys whose values change from run to run. */
static const char *const dynamic[] = {
	"Timestamp: ", "CoreStartupDate: ", "CoreStartupTime: ", "CoreReloadDate: ",
	"CoreReloadTime: ", "Uptime: ", "LastReload: ", "Challenge: ", "ExpirationTime: ",
	"RegExpire: ", "CallId: ", "CallID: ", "Output: System uptime: ",
	"Output: Last reload: ",
};

/* @s with each dynamic value replaced by "*" (which must not be empty). */
static char *mask(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	const char *p = s, *end = s + len;

	cr_assert(out != NULL);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
		bool masked = false;

		for (size_t i = 0; i < sizeof(dynamic) / sizeof(dynamic[0]) && !masked; i++) {
			size_t kl = strlen(dynamic[i]);
			size_t vl = ll - kl - (ll > kl + 1 && p[ll - 2] == '\r' ? 2 : 1);

			if (ll <= kl + 2 || strncmp(p, dynamic[i], kl) != 0)
				continue;
			cr_assert(vl > 0, "empty dynamic value in: %.*s", (int)ll, p);
			memcpy(o, p, kl);
			o += kl;
			*o++ = '*';
			memcpy(o, p + kl + vl, ll - kl - vl);
			o += ll - kl - vl;
			masked = true;
		}
		if (!masked) {
			memcpy(o, p, ll);
			o += ll;
		}
		p += ll;
	}
	*o = '\0';
	return out;
}

static void replay(const char *name)
{
	char file[256], *want, *got, *mw, *mg;
	size_t wl, gl;

	snprintf(file, sizeof(file), "%s.recv", name);
	want = read_fixture(file, &wl);
	got = exchange(name, &gl);
	mw = mask(want, wl);
	mg = mask(got, gl);
	cr_assert(eq(str, mg, mw), "%s: the peer's answer differs from the recording", name);
	free(want);
	free(got);
	free(mw);
	free(mg);
}

Test(amipeer_replay, login_success, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("login-success");
}

Test(amipeer_replay, login_failure_closes_the_session, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("login-failure");
}

Test(amipeer_replay, login_md5_challenge, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("login-md5-challenge");
}

Test(amipeer_replay, not_logged_in, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("not-logged-in");
}

Test(amipeer_replay, ping_corestatus, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("ping-corestatus");
}

Test(amipeer_replay, unknown_action, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("unknown-action");
}

Test(amipeer_replay, command_output, .fini = stop)
{
	peer_start(&peer, "command-output", NULL);
	replay("command-output");
}

Test(amipeer_replay, db_put_get, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("db-put-get");
}

Test(amipeer_replay, userevent_astdb, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("userevent-astdb");
}

Test(amipeer_replay, events_on_login, .fini = stop)
{
	peer_start(&peer, NULL, NULL);
	replay("events-on-login");
}

Test(amipeer_replay, reload_ok, .fini = stop)
{
	peer_start(&peer, "reload-ok", NULL);
	replay("reload-ok");
}

Test(amipeer_replay, reload_unclosed_bracket, .fini = stop)
{
	peer_start(&peer, "reload-unclosed-bracket", NULL);
	replay("reload-unclosed-bracket");
}

Test(amipeer_replay, reload_restore_good, .fini = stop)
{
	peer_start(&peer, "reload-restore-good", NULL);
	replay("reload-restore-good");
}

Test(amipeer_replay, reload_bad_priority, .fini = stop)
{
	peer_start(&peer, "reload-bad-priority", NULL);
	replay("reload-bad-priority");
}

Test(amipeer_replay, reload_garbage_line, .fini = stop)
{
	peer_start(&peer, "reload-garbage-line", NULL);
	replay("reload-garbage-line");
}

Test(amipeer_replay, reload_unknown_app, .fini = stop)
{
	peer_start(&peer, "reload-unknown-app", NULL);
	replay("reload-unknown-app");
}

/* ---- pjsip-status: exact except for ActionID 4, which is compared by structure ---- */

struct msgs {
	char **m;   /* each message with its terminating blank line */
	size_t n;
};

static void split(const char *s, struct msgs *ret)
{
	const char *p = strchr(s, '\n') + 1;   /* after the greeting */

	*ret = (struct msgs){ 0 };
	while (*p) {
		const char *sep = strstr(p, "\r\n\r\n");
		size_t len = sep ? (size_t)(sep + 4 - p) : strlen(p);

		ret->m = realloc(ret->m, (ret->n + 1) * sizeof(*ret->m));
		ret->m[ret->n++] = strndup(p, len);
		p += len;
	}
}

static void msgs_free(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->m[i]);
	free(m->m);
}

static bool in_group4(const char *m)
{
	return strstr(m, "\r\nActionID: 4\r\n") != NULL;
}

static const char *event_of(const char *m, char *buf, size_t n)
{
	if (sscanf(m, "Event: %63[^\r]", buf) != 1 && sscanf(m, "Response: %63[^\r]", buf) != 1)
		snprintf(buf, n, "?");
	return buf;
}

/* Every line of @ours is a line of @theirs (after masking). */
static void assert_subset(const char *ours, const char *theirs)
{
	char *copy = strdup(ours), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char probe[1024];

		snprintf(probe, sizeof(probe), "%s\n", line);
		cr_assert(strstr(theirs, probe) != NULL, "field not in the recording: %s", line);
	}
	free(copy);
}

Test(amipeer_replay, pjsip_status, .fini = stop)
{
	struct msgs w, g;
	char *contacts, *want, *got, *mw, *mg, a[64], b[64];
	size_t wl, gl, i = 0, j = 0;

	peer_start(&peer, NULL, NULL);
	contacts = read_fixture("contacts-pjsip-status.txt", NULL);
	write_text(peer.contacts, contacts);
	free(contacts);
	want = read_fixture("pjsip-status.recv", &wl);
	got = exchange("pjsip-status", &gl);
	mw = mask(want, wl);
	mg = mask(got, gl);
	cr_assert(strncmp(mg, mw, strlen("Asterisk Call Manager/13.0.0\r\n")) == 0);
	split(mw, &w);
	split(mg, &g);
	/* Outside ActionID 4: message by message, byte for byte. */
	while (i < w.n || j < g.n) {
		while (i < w.n && in_group4(w.m[i]))
			i++;
		while (j < g.n && in_group4(g.m[j]))
			j++;
		if (i >= w.n || j >= g.n)
			break;
		cr_assert(eq(str, g.m[j], w.m[i]));
		i++;
		j++;
	}
	cr_assert(i >= w.n && j >= g.n, "message count differs");
	/* ActionID 4: same response, events a subset in order, each field recorded. */
	i = 0;
	for (j = 0; j < g.n; j++) {
		if (!in_group4(g.m[j]))
			continue;
		event_of(g.m[j], b, sizeof(b));
		while (i < w.n && (!in_group4(w.m[i]) || strcmp(event_of(w.m[i], a, sizeof(a)),
								 b) != 0))
			i++;
		cr_assert(i < w.n, "event %s is not in the recording, or out of order", b);
		if (strcmp(b, "ContactStatusDetail") == 0 || strcmp(b, "Success") == 0)
			cr_assert(eq(str, g.m[j], w.m[i]));
		else if (strcmp(b, "EndpointDetailComplete") == 0)
			cr_assert(strstr(g.m[j], "EventList: Complete\r\nListItems: 3\r\n") != NULL);
		else
			assert_subset(g.m[j], w.m[i]);
		i++;
	}
	msgs_free(&w);
	msgs_free(&g);
	free(want);
	free(got);
	free(mw);
	free(mg);
}
