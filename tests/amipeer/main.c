/* SPDX-License-Identifier: MIT */
/*
 * amipeer: a single-threaded (poll) AMI server for tests that speaks as the recordings of a
 * real Asterisk do. This file holds the options, the control file, the action log and the
 * event loop: accepting connections, framing requests, and sending answers, each after the
 * --slow delay (of every action, or of the one it names). See README.md for the options.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "peer.h"

/* ---- small helpers shared by every file ---- */

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "amipeer: out of memory\n");
		exit(1);
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "amipeer: out of memory\n");
		exit(1);
	}
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void sb_addn(struct sb *s, const char *data, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->p = xrealloc(s->p, s->cap);
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void sb_add(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	char *t = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "amipeer: out of memory\n");
		exit(1);
	}
	sb_addn(s, t, (size_t)n);
	free(t);
}

void sb_free(struct sb *s)
{
	free(s->p);
	*s = (struct sb){ 0 };
}

const char *req_get(const struct req *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->h[i].key, key) == 0)
			return r->h[i].value;
	return "";
}

bool req_has(const struct req *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->h[i].key, key) == 0)
			return true;
	return false;
}

static void req_free(struct req *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->h[i].key);
		free(r->h[i].value);
	}
	free(r->h);
	*r = (struct req){ 0 };
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- switches and the control file ---- */

static bool apply_switch(struct switches *sw, const char *name, const char *arg)
{
	if (strcmp(name, "refuse-login") == 0) {
		sw->refuse_login = true;
	} else if (strcmp(name, "reload-error") == 0) {
		sw->reload_error = true;
	} else if (strcmp(name, "drop-after") == 0 && arg && *arg) {
		free(sw->drop_after);
		sw->drop_after = xstrdup(arg);
	} else if (strcmp(name, "slow") == 0 && arg && *arg) {
		/* "MS": every answer; "ACTION:MS": that action's answer only */
		const char *colon = strchr(arg, ':');

		free(sw->slow_action);
		sw->slow_action = colon ? xstrndup(arg, (size_t)(colon - arg)) : NULL;
		sw->slow_ms = atoi(colon ? colon + 1 : arg);
	} else if (strcmp(name, "skip-line") == 0 && arg && *arg) {
		free(sw->skip_line);
		sw->skip_line = xstrdup(arg);
	} else if (strcmp(name, "stale-reload") == 0) {
		sw->stale_reload = true;
	} else if (strcmp(name, "db-error") == 0) {
		sw->db_error = true;
		free(sw->db_error_family);
		sw->db_error_family = arg && *arg ? xstrdup(arg) : NULL;
	} else if (strcmp(name, "not-loaded") == 0 && arg && *arg) {
		free(sw->not_loaded);
		sw->not_loaded = xstrdup(arg);
	} else {
		return false;
	}
	return true;
}

static void copy_switches(struct switches *dst, const struct switches *src)
{
	free(dst->drop_after);
	free(dst->skip_line);
	free(dst->not_loaded);
	free(dst->slow_action);
	free(dst->db_error_family);
	*dst = *src;
	dst->drop_after = src->drop_after ? xstrdup(src->drop_after) : NULL;
	dst->slow_action = src->slow_action ? xstrdup(src->slow_action) : NULL;
	dst->skip_line = src->skip_line ? xstrdup(src->skip_line) : NULL;
	dst->not_loaded = src->not_loaded ? xstrdup(src->not_loaded) : NULL;
	dst->db_error_family = src->db_error_family ? xstrdup(src->db_error_family) : NULL;
}

static char *read_file(const char *path)
{
	struct sb s = { 0 };
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_addn(&s, buf, n);
	fclose(f);
	if (!s.p)
		s.p = xstrdup("");
	return s.p;
}

/* Re-read the control file; when its text changed, the switches become base + file. */
static void reload_control(struct peer *p)
{
	char *text, *save = NULL;

	if (!p->control)
		return;
	text = read_file(p->control);
	if (!text)
		text = xstrdup("");
	if (p->control_text && strcmp(text, p->control_text) == 0) {
		free(text);
		return;
	}
	free(p->control_text);
	p->control_text = xstrdup(text);
	copy_switches(&p->sw, &p->base);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name = line, *arg;

		while (*name == ' ' || *name == '\t' || *name == '-')
			name++;
		if (!*name || *name == '#')
			continue;
		name[strcspn(name, "\r")] = '\0';
		arg = name + strcspn(name, " \t=");
		if (*arg) {
			*arg++ = '\0';
			arg += strspn(arg, " \t=");
		}
		if (!apply_switch(&p->sw, name, arg))
			fprintf(stderr, "amipeer: %s: unknown switch '%s'\n", p->control, name);
	}
	p->drop_armed = p->sw.drop_after != NULL;
	free(text);
}

static void log_action(struct peer *p, const struct req *r)
{
	if (!p->log)
		return;
	fprintf(p->log, "%s", *req_get(r, "Action") ? req_get(r, "Action") : "(none)");
	for (size_t i = 0; i < r->n; i++) {
		const char *k = r->h[i].key;

		if (strcasecmp(k, "Action") == 0 || strcasecmp(k, "ActionID") == 0)
			continue;
		/* Login's Key is the MD5 answer; AstDB's Key is a plain key name. */
		if (strcasecmp(k, "Secret") == 0 ||
		    (strcasecmp(k, "Key") == 0 && strcasecmp(req_get(r, "Action"), "Login") == 0))
			fprintf(p->log, " %s=(hidden)", k);
		else
			fprintf(p->log, " %s=%s", k, r->h[i].value);
	}
	fprintf(p->log, "\n");
	fflush(p->log);
}

static void log_conn(struct peer *p, int id, const char *what)
{
	if (!p->log)
		return;
	fprintf(p->log, "# connection %d %s\n", id, what);
	fflush(p->log);
}

/* ---- connections ---- */

struct chunk {
	char *data;
	size_t len, off;
	int64_t ready_at;
};

struct conn {
	int fd, id;
	SSL *ssl;            /* --tls-cert: the session, NULL on plain TCP */
	struct sb in;
	struct chunk *out;
	size_t n_out;
	struct session s;
	bool eof, closing;   /* closing: no more input, close once the output is sent */
	bool dead;
};

static void queue(struct conn *c, struct sb *data, int delay_ms)
{
	if (!data->len) {
		sb_free(data);
		return;
	}
	c->out = xrealloc(c->out, (c->n_out + 1) * sizeof(*c->out));
	c->out[c->n_out++] = (struct chunk){ .data = data->p, .len = data->len,
					     .ready_at = now_ms() + delay_ms };
	*data = (struct sb){ 0 };
}

/* Split one request off the input; 1 found, 0 need more, -1 hostile (close). */
static int take_request(struct conn *c, struct req *r)
{
	size_t pos = 0;

	*r = (struct req){ 0 };
	if (!c->in.len)
		return 0;
	for (;;) {
		char *nl = memchr(c->in.p + pos, '\n', c->in.len - pos);
		size_t n;
		char *line, *colon;

		if (!nl) {
			/* Incomplete: parsed again when more arrives, within limits. */
			req_free(r);
			return c->in.len - pos > MAX_LINE || c->in.len > MAX_REQUEST ? -1 : 0;
		}
		line = c->in.p + pos;
		n = (size_t)(nl - line);
		pos += n + 1;
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0) {
			if (r->n == 0)
				continue;
			memmove(c->in.p, c->in.p + pos, c->in.len - pos);
			c->in.len -= pos;
			return 1;
		}
		if (r->n >= MAX_HEADERS)
			continue;
		colon = memchr(line, ':', n);
		if (!colon)
			continue;   /* Asterisk ignores such a line */
		r->h = xrealloc(r->h, (r->n + 1) * sizeof(*r->h));
		r->h[r->n].key = xstrndup(line, (size_t)(colon - line));
		colon++;
		while (colon < line + n && (*colon == ' ' || *colon == '\t'))
			colon++;
		r->h[r->n].value = xstrndup(colon, (size_t)(line + n - colon));
		r->n++;
	}
}

/* The open connections, so that a UserEvent reaches every session that asked for them. */
static struct conn **all_conns;
static size_t *all_n;

/* Hand what peer_handle left in p->broadcast to every session logged in with user events,
 * @delay_ms after the action that caused it (as its answer). */
static void broadcast(struct peer *p, int delay_ms)
{
	if (!p->broadcast.len)
		return;
	for (size_t i = 0; all_conns && i < *all_n; i++) {
		struct conn *c = &(*all_conns)[i];
		struct sb copy = { 0 };

		if (!c->s.authed || !c->s.user_events || c->dead)
			continue;
		sb_addn(&copy, p->broadcast.p, p->broadcast.len);
		queue(c, &copy, delay_ms);
	}
	sb_free(&p->broadcast);
}

static void process_input(struct peer *p, struct conn *c)
{
	struct req r;
	int got;

	while (!c->closing && (got = take_request(c, &r)) != 0) {
		struct sb out = { 0 };
		const char *action;
		int delay;

		if (got < 0) {
			c->dead = true;
			return;
		}
		reload_control(p);
		log_action(p, &r);
		action = req_get(&r, "Action");
		if (p->drop_armed && strcasecmp(action, p->sw.drop_after) == 0) {
			/* The answers to the actions before it are written first, as Asterisk
			 * wrote them before it read this one. */
			p->drop_armed = false;
			c->closing = true;
			req_free(&r);
			return;
		}
		/* the switch's delay, for every action or for the one it names */
		delay = !p->sw.slow_action || strcasecmp(action, p->sw.slow_action) == 0 ?
			p->sw.slow_ms : 0;
		if (peer_handle(p, &c->s, &r, &out) == CLOSE)
			c->closing = true;
		queue(c, &out, delay);
		broadcast(p, delay);
		req_free(&r);
	}
}

static void conn_read(struct peer *p, struct conn *c)
{
	char buf[16384];
	ssize_t n = c->ssl ? tls_read(c->ssl, buf, sizeof(buf)) : recv(c->fd, buf, sizeof(buf), 0);

	/* TLS may hold decrypted bytes that poll cannot see: read until it would block. */
	while (n > 0 && c->ssl) {
		sb_addn(&c->in, buf, (size_t)n);
		n = tls_read(c->ssl, buf, sizeof(buf));
	}
	if (n > 0 || (c->ssl && n < 0 && errno == EAGAIN)) {
		if (n > 0)
			sb_addn(&c->in, buf, (size_t)n);
		process_input(p, c);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		c->eof = true;
		process_input(p, c);
		c->closing = true;
	}
}

static void conn_write(struct conn *c)
{
	int64_t now = now_ms();

	while (c->n_out && c->out[0].ready_at <= now) {
		struct chunk *k = &c->out[0];
		ssize_t n = c->ssl ? tls_write(c->ssl, k->data + k->off, k->len - k->off) :
				     send(c->fd, k->data + k->off, k->len - k->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			return;
		}
		k->off += (size_t)n;
		if (k->off < k->len)
			return;
		free(k->data);
		memmove(c->out, c->out + 1, (c->n_out - 1) * sizeof(*c->out));
		c->n_out--;
	}
}

static void conn_free(struct conn *c)
{
	tls_close(c->ssl);
	close(c->fd);
	sb_free(&c->in);
	for (size_t i = 0; i < c->n_out; i++)
		free(c->out[i].data);
	free(c->out);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void accept_one(struct peer *p, int lfd, struct conn **conns, size_t *n, int *next_id)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct sb greeting = { 0 };
	struct conn *c;
	SSL *ssl = NULL;

	if (fd < 0)
		return;
	/* As main/manager.c does for every session: no Nagle delay on the answers. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (p->tls && !(ssl = tls_accept(p->tls, fd))) {
		log_conn(p, *next_id, "refused: TLS handshake failed");
		(*next_id)++;
		close(fd);
		return;
	}
	*conns = xrealloc(*conns, (*n + 1) * sizeof(**conns));
	c = &(*conns)[(*n)++];
	*c = (struct conn){ .fd = fd, .id = (*next_id)++, .ssl = ssl };
	log_conn(p, c->id, "opened");
	sb_add(&greeting, "Asterisk Call Manager/%s\r\n", AMI_VERSION);
	queue(c, &greeting, 0);
	conn_write(c);
}

/*
 * --events FILE: when FILE appears, its event blocks (recorded text, LF or CRLF) go to every
 * logged-in session that asked for events, as unsolicited events; then FILE is removed.
 * A test writes it atomically (temporary file, rename).
 */
static void inject_events(struct peer *p, struct conn *conns, size_t n)
{
	char *text = p->events ? read_file(p->events) : NULL;
	struct sb crlf = { 0 };

	if (!text)
		return;
	unlink(p->events);
	for (const char *q = text; *q; q++) {
		if (*q == '\n' && (q == text || q[-1] != '\r'))
			sb_addn(&crlf, "\r", 1);
		sb_addn(&crlf, q, 1);
	}
	for (size_t i = 0; i < n; i++) {
		struct sb copy = { 0 };

		if (!conns[i].s.authed || !conns[i].s.events || conns[i].closing || !crlf.len)
			continue;
		sb_addn(&copy, crlf.p, crlf.len);
		queue(&conns[i], &copy, 0);
		conn_write(&conns[i]);
	}
	sb_free(&crlf);
	free(text);
}

static int serve(struct peer *p, int lfd)
{
	struct conn *conns = NULL;
	size_t n = 0;
	int next_id = 1;

	all_conns = &conns;
	all_n = &n;

	while (!stop) {
		struct pollfd *pf = xmalloc((n + 1) * sizeof(*pf));
		int64_t now = now_ms(), wake = -1;
		size_t polled = n;

		pf[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < n; i++) {
			struct conn *c = &conns[i];

			pf[i + 1] = (struct pollfd){ .fd = c->fd, .events = c->closing ? 0 : POLLIN };
			if (c->n_out && c->out[0].ready_at <= now)
				pf[i + 1].events |= POLLOUT;
			else if (c->n_out && (wake < 0 || c->out[0].ready_at < wake))
				wake = c->out[0].ready_at;
		}
		/* with --events, look for the file ten times a second */
		if (p->events && (wake < 0 || wake - now > 100))
			wake = now + 100;
		if (poll(pf, n + 1, wake < 0 ? -1 : (int)(wake - now)) < 0 && errno != EINTR) {
			perror("amipeer: poll");
			free(pf);
			return 1;
		}
		for (size_t i = 0; i < polled; i++) {
			struct conn *c = &conns[i];

			if (pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR) && !c->closing)
				conn_read(p, c);
			if (!c->dead)
				conn_write(c);
		}
		if (pf[0].revents & POLLIN)
			accept_one(p, lfd, &conns, &n, &next_id);
		free(pf);
		inject_events(p, conns, n);
		for (size_t i = 0; i < n;) {
			struct conn *c = &conns[i];

			if (c->dead || (c->closing && c->n_out == 0)) {
				log_conn(p, c->id, "closed");
				conn_free(c);
				conns[i] = conns[--n];
				continue;
			}
			i++;
		}
	}
	for (size_t i = 0; i < n; i++)
		conn_free(&conns[i]);
	free(conns);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: amipeer [--port N] [--port-file FILE] [--bind ADDR] [--user U --secret S]\n"
		"               [--dialplan-dir DIR] [--contacts FILE] [--registrations FILE]\n"
		"               [--events FILE]\n"
		"               [--log FILE] [--control FILE] [--refuse-login]\n"
		"               [--drop-after ACTION] [--reload-error] [--slow [ACTION:]MS]\n"
		"               [--exit-with-parent] [--tls-cert PEM --tls-key PEM]\n");
}

int main(int argc, char **argv)
{
	enum { O_PORT = 256, O_PORTFILE, O_BIND, O_USER, O_SECRET, O_DIALPLAN, O_CONTACTS,
	       O_REGS, O_EVENTS, O_LOG, O_CONTROL, O_REFUSE, O_DROP, O_RELOADERR, O_SLOW, O_PARENT,
	       O_HELP, O_TLS_CERT, O_TLS_KEY };
	static const struct option opts[] = {
		{ "port", required_argument, NULL, O_PORT },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "bind", required_argument, NULL, O_BIND },
		{ "user", required_argument, NULL, O_USER },
		{ "secret", required_argument, NULL, O_SECRET },
		{ "dialplan-dir", required_argument, NULL, O_DIALPLAN },
		{ "contacts", required_argument, NULL, O_CONTACTS },
		{ "registrations", required_argument, NULL, O_REGS },
		{ "events", required_argument, NULL, O_EVENTS },
		{ "log", required_argument, NULL, O_LOG },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "refuse-login", no_argument, NULL, O_REFUSE },
		{ "drop-after", required_argument, NULL, O_DROP },
		{ "reload-error", no_argument, NULL, O_RELOADERR },
		{ "slow", required_argument, NULL, O_SLOW },
		{ "exit-with-parent", no_argument, NULL, O_PARENT },
		{ "help", no_argument, NULL, O_HELP },
		{ "tls-cert", required_argument, NULL, O_TLS_CERT },
		{ "tls-key", required_argument, NULL, O_TLS_KEY },
		{ 0 },
	};
	struct peer p = { .user = "pbxctl", .secret = "secret" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	const char *port_file = NULL, *tls_cert = NULL, *tls_key = NULL;
	int port = 5038, lfd, one = 1, o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_PORT: port = atoi(optarg); break;
		case O_PORTFILE: port_file = optarg; break;
		case O_BIND:
			if (inet_pton(AF_INET, optarg, &sa.sin_addr) != 1) {
				fprintf(stderr, "amipeer: --bind wants an IPv4 address\n");
				return 2;
			}
			break;
		case O_USER: p.user = optarg; break;
		case O_SECRET: p.secret = optarg; break;
		case O_DIALPLAN: p.dialplan_dir = optarg; break;
		case O_CONTACTS: p.contacts = optarg; break;
		case O_REGS: p.registrations = optarg; break;
		case O_EVENTS: p.events = optarg; break;
		case O_LOG:
			p.log = fopen(optarg, "a");
			if (!p.log) {
				perror(optarg);
				return 1;
			}
			break;
		case O_CONTROL: p.control = optarg; break;
		case O_REFUSE: apply_switch(&p.base, "refuse-login", NULL); break;
		case O_DROP: apply_switch(&p.base, "drop-after", optarg); break;
		case O_RELOADERR: apply_switch(&p.base, "reload-error", NULL); break;
		case O_SLOW: apply_switch(&p.base, "slow", optarg); break;
		case O_PARENT:
			/* A test that crashes must not leave its peer behind. */
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() == 1)
				return 1;
			break;
		case O_HELP: usage(stdout); return 0;
		case O_TLS_CERT: tls_cert = optarg; break;
		case O_TLS_KEY: tls_key = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || port < 0 || port > 65535 || !tls_cert != !tls_key) {
		usage(stderr);
		return 2;
	}
	if (tls_cert && !(p.tls = tls_server_ctx(tls_cert, tls_key)))
		return 1;
	copy_switches(&p.sw, &p.base);
	p.drop_armed = p.sw.drop_after != NULL;
	reload_control(&p);
	p.started = p.reloaded = time(NULL);
	peer_reload_dialplan(&p);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("amipeer: listen");
		return 1;
	}
	if (port_file) {
		char tmp[4096];
		FILE *f;

		/* Written to a temporary name and renamed, so a reader never sees half a number. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) < 0) {
			perror(port_file);
			return 1;
		}
	}
	r = serve(&p, lfd);
	close(lfd);
	dp_free(&p.dp);
	astdb_free(&p.db);
	free(p.control_text);
	free(p.base.drop_after);
	free(p.sw.drop_after);
	free(p.base.slow_action);
	free(p.sw.slow_action);
	free(p.base.db_error_family);
	free(p.sw.db_error_family);
	free(p.base.skip_line);
	free(p.sw.skip_line);
	free(p.base.not_loaded);
	free(p.sw.not_loaded);
	if (p.log)
		fclose(p.log);
	SSL_CTX_free(p.tls);
	return r;
}
