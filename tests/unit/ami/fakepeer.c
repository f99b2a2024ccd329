/* SPDX-License-Identifier: MIT */
/*
 * The unit tests' scripted AMI server (see fakepeer.h): recordings are split into answers
 * (a Response message and the events that follow it), sent one per action received.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakepeer.h"

char *fixture(const char *name, size_t *ret_len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
	f = fopen(path, "rb");
	cr_assert(f, "fixture %s is missing", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert(buf != NULL);
	cr_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (ret_len)
		*ret_len = (size_t)n;
	return buf;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* the client went away: fine for hostile tests */
		p += w;
		n -= (size_t)w;
	}
}

static void add_chunk(struct fake_peer *f, const char *p, size_t n)
{
	f->chunks = realloc(f->chunks, (f->n_chunks + 1) * sizeof(*f->chunks));
	cr_assert(f->chunks != NULL);
	f->chunks[f->n_chunks].data = strndup(p, n);
	f->chunks[f->n_chunks].len = n;
	f->n_chunks++;
}

/* Split the answers after the greeting: each starts at a "Response:" message. */
static void split(struct fake_peer *f, const char *s, size_t len)
{
	const char *end = s + len, *chunk = NULL, *p = s;

	while (p < end) {
		const char *sep = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		const char *next = sep ? sep + 4 : end;

		if (strncmp(p, "Response:", 9) == 0) {
			if (chunk)
				add_chunk(f, chunk, (size_t)(p - chunk));
			chunk = p;
		}
		p = next;
	}
	if (chunk)
		add_chunk(f, chunk, (size_t)(end - chunk));
}

/* The chunk with each "ActionID: x" replaced by the client's id. */
static char *with_id(const struct fake_chunk *c, const char *id, size_t *ret_len)
{
	size_t cap = c->len * 2 + 64, n = 0;
	char *out = malloc(cap);
	const char *p = c->data, *end = c->data + c->len;

	cr_assert(out != NULL);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);

		if (strncmp(p, "ActionID: ", 10) == 0 && id) {
			n += (size_t)sprintf(out + n, "ActionID: %s\r\n", id);
		} else {
			memcpy(out + n, p, ll);
			n += ll;
		}
		p += ll;
	}
	*ret_len = n;
	return out;
}

static void keep(struct fake_peer *f, const char *buf, size_t n)
{
	f->sent = realloc(f->sent, f->sent_len + n + 1);
	cr_assert(f->sent != NULL);
	memcpy(f->sent + f->sent_len, buf, n);
	f->sent_len += n;
	f->sent[f->sent_len] = '\0';
}

/* Answer every complete action in f->sent after @done bytes; returns the new offset. */
static size_t answer(struct fake_peer *f, size_t done, size_t *next_chunk)
{
	for (;;) {
		char *start = f->sent + done, *endp = strstr(start, "\r\n\r\n"), *idp, id[64] = "";
		size_t rl;
		char *r;

		if (!endp)
			return done;
		done = (size_t)(endp + 4 - f->sent);
		f->actions++;
		idp = strstr(start, "ActionID: ");
		if (idp && idp < endp)
			sscanf(idp + 10, "%63[^\r\n]", id);
		if (*next_chunk < f->n_chunks) {
			r = with_id(&f->chunks[(*next_chunk)++], *id ? id : NULL, &rl);
			write_all(f->fd, r, rl);
			free(r);
		} else if (strncmp(start, "Action: Logoff\r\n", 16) == 0) {
			char bye[256];

			snprintf(bye, sizeof(bye), "Response: Goodbye\r\nActionID: %s\r\n"
				 "Message: Thanks for all the fish.\r\n\r\n", id);
			write_all(f->fd, bye, strlen(bye));
		}
	}
}

static void *run(void *arg)
{
	struct fake_peer *f = arg;
	size_t done = 0, next = 0;
	char buf[65536];

	if (f->lockstep)
		write_all(f->fd, f->greeting, strlen(f->greeting));
	else {
		write_all(f->fd, f->raw, f->raw_len);
		if (f->eof_after_raw)
			shutdown(f->fd, SHUT_WR);
	}
	for (;;) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		keep(f, buf, (size_t)n);
		if (f->lockstep)
			done = answer(f, done, &next);
	}
	return NULL;
}

static int start(struct fake_peer *f)
{
	int sv[2];

	cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	f->fd = sv[1];
	f->sent = calloc(1, 1);
	cr_assert(pthread_create(&f->thread, NULL, run, f) == 0);
	return sv[0];
}

int fake_start_recording(struct fake_peer *f, const char *name, const char *extra)
{
	char file[256], *rec, *nl;
	size_t len;

	*f = (struct fake_peer){ .lockstep = true };
	snprintf(file, sizeof(file), "%s.recv", name);
	rec = fixture(file, &len);
	nl = strchr(rec, '\n');
	cr_assert(nl != NULL);
	f->greeting = strndup(rec, (size_t)(nl + 1 - rec));
	split(f, nl + 1, len - (size_t)(nl + 1 - rec));
	if (extra)
		split(f, extra, strlen(extra));
	free(rec);
	return start(f);
}

int fake_start_raw(struct fake_peer *f, const char *data, size_t len, bool eof_after)
{
	*f = (struct fake_peer){ .raw = malloc(len ? len : 1), .raw_len = len,
				 .eof_after_raw = eof_after };
	cr_assert(f->raw != NULL);
	memcpy(f->raw, data, len);
	return start(f);
}

void fake_finish(struct fake_peer *f)
{
	pthread_join(f->thread, NULL);
	close(f->fd);
	f->fd = -1;
}

void fake_free(struct fake_peer *f)
{
	for (size_t i = 0; i < f->n_chunks; i++)
		free(f->chunks[i].data);
	free(f->chunks);
	free(f->greeting);
	free(f->raw);
	free(f->sent);
}

char *mask_action_ids(const char *s, size_t len)
{
	char *out = malloc(len * 2 + 1), *o = out;
	const char *p = s, *end = s + len;

	cr_assert(out != NULL);
	while (p < end) {
		if ((p == s || p[-1] == '\n') && strncmp(p, "ActionID: ", 10) == 0) {
			o += sprintf(o, "ActionID: N");
			p += 10;
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}
