/* SPDX-License-Identifier: MIT */
/*
 * The AMI transport: a non-blocking TCP connect bounded by the timeout (then the TLS handshake
 * when ami.tls is set, tls.c), writes and a buffered
 * line reader that never waits past a deadline, never holds more than one line of 64 KiB and
 * refuses a carriage return anywhere but at the end of a line.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"

#define READ_CHUNK 16384

int64_t ami_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* strerror with a lower-case first letter, as messages are lower case. */
static const char *errtext(int e, char *buf, size_t n)
{
	snprintf(buf, n, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

int ami_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - ami_now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int try_connect(const struct addrinfo *ai, int64_t deadline, int *ret_fd)
{
	int fd, r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	r = ami_wait(fd, POLLOUT, deadline);
	if (r <= 0) {
		close(fd);
		return r == 0 ? -ETIMEDOUT : r;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		close(fd);
		return -soerr;
	}
done:
	/* A batch's window goes out at once; nothing waits for an ACK (Nagle). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	*ret_fd = fd;
	return 0;
}

int ami_tcp_connect(pbx_ami *ami, pbx_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char port[16], ebuf[128];
	int64_t deadline = ami_now_ms() + ami->timeout_ms;
	int r, last = -ECONNREFUSED;

	snprintf(port, sizeof(port), "%d", ami->port);
	r = getaddrinfo(ami->host, port, &hints, &res);
	if (r != 0)
		return ami_unavailable(ami, err, "%s is unreachable: cannot resolve %s: %s",
				       ami->name, ami->host, gai_strerror(r));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = -1;

		last = try_connect(ai, deadline, &fd);
		if (last == 0) {
			ami->fd = fd;
			break;
		}
		if (last == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (last == -ETIMEDOUT)
		return ami_unavailable(ami, err, "%s is unreachable: no answer within %d ms",
				       ami->name, ami->timeout_ms);
	if (last < 0)
		return ami_unavailable(ami, err, "%s is unreachable: %s", ami->name,
				       errtext(-last, ebuf, sizeof(ebuf)));
	ami->rd.start = ami->rd.end = 0;
	if (ami->tls) {
		r = ami_tls_start(ami, deadline, err);
		if (r < 0) {
			ami_disconnect(ami);
			return r;
		}
	}
	return 0;
}

void ami_disconnect(pbx_ami *ami)
{
	ami_tls_stop(ami);
	if (ami->fd >= 0)
		close(ami->fd);
	ami->fd = -1;
	ami->logged_in = false;
	ami->rd.start = ami->rd.end = 0;
}

static void set_broken(bool *broken)
{
	if (broken)
		*broken = true;
}

int ami_send_all(pbx_ami *ami, const char *data, size_t len, int64_t deadline, bool *broken,
		 pbx_error *err)
{
	char ebuf[128];

	if (ami->fd < 0) {
		set_broken(broken);
		return ami_unavailable(ami, err, "%s: not connected", ami->name);
	}
	while (len > 0) {
		short want = POLLOUT;
		ssize_t w = ami->ssl ? ami_tls_send(ami, data, len, &want) :
				       send(ami->fd, data, len, MSG_NOSIGNAL);
		int r;

		if (w > 0) {
			data += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			set_broken(broken);
			return ami_unavailable(ami, err, "%s: write failed: %s", ami->name,
					       errtext(errno, ebuf, sizeof(ebuf)));
		}
		r = ami_wait(ami->fd, want, deadline);
		if (r == 0)
			return ami_unavailable(ami, err, "%s did not accept data within %d ms",
					       ami->name, ami->timeout_ms);
		if (r < 0) {
			set_broken(broken);
			return ami_unavailable(ami, err, "%s: write failed: %s", ami->name,
					       errtext(-r, ebuf, sizeof(ebuf)));
		}
	}
	return 0;
}

/* Make room for at least READ_CHUNK more bytes without exceeding one line plus a chunk. */
static int reader_room(struct ami_reader *rd)
{
	size_t want;
	char *p;

	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;
	}
	if (rd->cap - rd->end >= READ_CHUNK)
		return 0;
	want = rd->end + READ_CHUNK;
	p = realloc(rd->buf, want);
	if (!p)
		return PBX_ERROR;
	rd->buf = p;
	rd->cap = want;
	return 0;
}

int ami_read_line(pbx_ami *ami, int64_t deadline, bool eof_ok, char **line, size_t *len,
		  bool *broken, pbx_error *err)
{
	struct ami_reader *rd = &ami->rd;
	size_t scanned = 0;
	char ebuf[128];

	if (ami->fd < 0) {
		set_broken(broken);
		return ami_unavailable(ami, err, "%s: not connected", ami->name);
	}
	for (;;) {
		size_t avail = rd->end - rd->start;
		char *nl = avail > scanned ? memchr(rd->buf + rd->start + scanned, '\n',
						    avail - scanned) : NULL;
		short want = POLLIN;
		ssize_t got;
		int r;

		if (nl) {
			size_t n = (size_t)(nl - (rd->buf + rd->start));

			*line = rd->buf + rd->start;
			rd->start += n + 1;
			if (n > 0 && (*line)[n - 1] == '\r')
				n--;
			if (n > PBX_AMI_MAX_LINE)
				return ami_protocol_error(ami, err,
					"%s sent a line longer than %d KiB", ami->name,
					PBX_AMI_MAX_LINE / 1024);
			/* AMI lines end in CR LF; a CR inside one would reach values, and from
			 * them a terminal or a log, where it rewrites what was shown before. */
			if (memchr(*line, '\r', n))
				return ami_protocol_error(ami, err,
					"%s sent a malformed message: a carriage return inside a line",
					ami->name);
			(*line)[n] = '\0';
			*len = n;
			return 1;
		}
		scanned = avail;
		if (avail > PBX_AMI_MAX_LINE + 1)
			return ami_protocol_error(ami, err, "%s sent a line longer than %d KiB",
						  ami->name, PBX_AMI_MAX_LINE / 1024);
		if (reader_room(rd) < 0)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		got = ami->ssl ? ami_tls_recv(ami, rd->buf + rd->end, rd->cap - rd->end, &want) :
				 recv(ami->fd, rd->buf + rd->end, rd->cap - rd->end, 0);
		if (got > 0) {
			rd->end += (size_t)got;
			continue;
		}
		if (got == 0) {
			set_broken(broken);
			if (avail > 0 || !eof_ok)
				return ami_unavailable(ami, err,
					"%s closed the connection%s", ami->name,
					avail > 0 ? " in the middle of a message" : "");
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			set_broken(broken);
			return ami_unavailable(ami, err, "%s: read failed: %s", ami->name,
					       errtext(errno, ebuf, sizeof(ebuf)));
		}
		r = ami_wait(ami->fd, want, deadline);
		if (r == 0)
			return ami_unavailable(ami, err, "%s did not answer within %d ms",
					       ami->name, ami->timeout_ms);
		if (r < 0) {
			set_broken(broken);
			return ami_unavailable(ami, err, "%s: read failed: %s", ami->name,
					       errtext(-r, ebuf, sizeof(ebuf)));
		}
	}
}
