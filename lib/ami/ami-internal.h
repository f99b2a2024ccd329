/* SPDX-License-Identifier: MIT */
/*
 * What the files of lib/ami share: the handle, the buffered reader with deadlines, the
 * message framing and the internal status of a failed read (whether the connection broke,
 * which allows the read-only retry).
 */
#ifndef PBX_AMI_INTERNAL_H
#define PBX_AMI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pbx/ami.h"
#include "pbx/error.h"

struct ami_reader {
	char *buf;
	size_t cap, start, end;  /* unread bytes are buf[start..end) */
};

struct ssl_ctx_st;
struct ssl_st;

struct pbx_ami {
	char *host;
	int port;
	bool tls;             /* AMI over TLS (tls.c); never falls back to plain TCP */
	char *ca_file;        /* CA certificates for the server's; NULL: the system's */
	struct ssl_ctx_st *tls_ctx;
	struct ssl_st *ssl;   /* the session while connected over TLS */
	char *username;
	char *secret;
	char *events;
	int timeout_ms;
	bool md5;
	bool can_reconnect;   /* false for pbx_ami_connect_fd */

	char *name;           /* "ami at host:port", for messages */
	char *version;        /* from the greeting */
	int fd;               /* -1 when not connected */
	bool logged_in;
	unsigned long next_id;
	struct ami_reader rd;

	pbx_ami_event_fn *event_cb;
	void *event_data;
	/* Counting only (pbx_ami_dialplan_counts): ListDialplan events keep only their Event
	 * and ActionID headers and are not kept in the response; the completion event is. */
	bool list_counts_only;
};

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t ami_now_ms(void);

/* Wait for @events on @fd until @deadline: 1 ready, 0 deadline passed, -errno on failure. */
int ami_wait(int fd, short events, int64_t deadline);

/*
 * TLS (tls.c). ami_tls_start runs the handshake on the connected ami->fd, verifying the
 * server's certificate and name (PBX_EUNAVAILABLE naming the reason, PBX_EINVALID for an
 * unusable ca_file). ami_tls_recv and ami_tls_send behave as recv and send on a non-blocking
 * socket (-1 with errno EAGAIN: wait for *@want, POLLIN or POLLOUT). ami_tls_stop ends the
 * session (before the socket is closed), ami_tls_free also the configuration.
 */
int ami_tls_start(pbx_ami *ami, int64_t deadline, pbx_error *err);
ssize_t ami_tls_recv(pbx_ami *ami, void *buf, size_t n, short *want);
ssize_t ami_tls_send(pbx_ami *ami, const void *buf, size_t n, short *want);
void ami_tls_stop(pbx_ami *ami);
void ami_tls_free(pbx_ami *ami);

/*
 * Low-level I/O (io.c). Every function that fails fills @err and, when the connection broke
 * (EOF, reset, broken pipe), sets *@broken if @broken is not NULL.
 */
int ami_tcp_connect(pbx_ami *ami, pbx_error *err);
int ami_send_all(pbx_ami *ami, const char *data, size_t len, int64_t deadline,
		 bool *broken, pbx_error *err);
/*
 * The next line without its LF (and the CR before it), valid until the next read. EOF in
 * the middle of a line, or before any line when @eof_ok is false, is an error.
 * Returns 1 and *@line, or 0 at a clean EOF when @eof_ok, or a negative code.
 */
int ami_read_line(pbx_ami *ami, int64_t deadline, bool eof_ok, char **line, size_t *len,
		  bool *broken, pbx_error *err);
void ami_disconnect(pbx_ami *ami);

/* Messages (msg.c). */
int ami_msg_add(struct pbx_ami_msg *msg, const char *key, size_t klen, const char *value,
		size_t vlen);
void ami_msg_clear(struct pbx_ami_msg *msg);
/* Read one whole message (leading empty lines skipped), the Follows form included. */
int ami_read_msg(pbx_ami *ami, int64_t deadline, struct pbx_ami_msg *ret, bool *broken,
		 pbx_error *err);

/* Actions (client.c): send one action and wait for its answer, once, on this connection. */
int ami_transact(pbx_ami *ami, const char *action, const char *const *kv, int timeout_ms,
		 struct pbx_ami_response **ret, bool *broken, pbx_error *err);

/* Session (session.c). */
int ami_reconnect(pbx_ami *ami, pbx_error *err);
/* If the server closed an idle connection, notice it before sending anything. */
void ami_drop_if_closed(pbx_ami *ami);

/* Errors (client.c): fill @err with backend "ami" and return the code. */
int ami_errorf(pbx_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ami_unavailable(const pbx_ami *ami, pbx_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ami_protocol_error(const pbx_ami *ami, pbx_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse a non-negative decimal integer that must fill the whole string. */
bool ami_parse_ll(const char *s, long long *ret);

#endif
