/* SPDX-License-Identifier: MIT */
/*
 * AMI over TLS (Asterisk's manager.conf tlsenable, port 5039) with OpenSSL: the handshake on
 * the connected non-blocking socket, bounded by the same deadline as the TCP connect, with
 * the server's certificate checked against ami.ca_file (or the system's trust store) and its
 * name against ami.host; then reads and writes through the TLS session. A failed handshake
 * is an error naming what failed; there is never a fallback to plain TCP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"

/* The first OpenSSL error of this thread as lower-case text, or @fallback; clears the rest. */
static const char *ssl_reason(char *buf, size_t n, const char *fallback)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, n, "%s", r ? r : fallback);
	ERR_clear_error();
	return buf;
}

static int make_ctx(pbx_ami *ami, pbx_error *err)
{
	char ebuf[160];
	SSL_CTX *c;

	if (ami->tls_ctx)
		return 0;
	c = SSL_CTX_new(TLS_client_method());
	if (!c)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	/* A server that closes without close_notify ends the stream, as a TCP close does. */
	SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ami->ca_file ? SSL_CTX_load_verify_locations(c, ami->ca_file, NULL) != 1 :
			   SSL_CTX_set_default_verify_paths(c) != 1) {
		SSL_CTX_free(c);
		return pbx_errorf(err, PBX_EINVALID, "ami", "ca_file",
				  "ami.ca_file %s: cannot load CA certificates: %s",
				  ami->ca_file ? ami->ca_file : "(system default)",
				  ssl_reason(ebuf, sizeof(ebuf), "unreadable"));
	}
	ami->tls_ctx = c;
	return 0;
}

/* Why the handshake failed, in one line. */
static int handshake_failed(pbx_ami *ami, int ssl_err, pbx_error *err)
{
	long v = SSL_get_verify_result(ami->ssl);
	char ebuf[160];

	if (v != X509_V_OK)
		return ami_unavailable(ami, err, "%s: TLS: the server's certificate was refused: %s",
				       ami->name, X509_verify_cert_error_string(v));
	ssl_reason(ebuf, sizeof(ebuf), ssl_err == SSL_ERROR_SYSCALL || ssl_err ==
		   SSL_ERROR_ZERO_RETURN ? "the server closed the connection" : "handshake failed");
	if (strstr(ebuf, "wrong version number") || strstr(ebuf, "packet length too long") ||
	    strstr(ebuf, "record layer failure"))
		return ami_unavailable(ami, err, "%s: TLS handshake failed: the server does not "
				       "speak TLS (%s); is this a plain-TCP AMI port?", ami->name,
				       ebuf);
	return ami_unavailable(ami, err, "%s: TLS handshake failed: %s", ami->name, ebuf);
}

int ami_tls_start(pbx_ami *ami, int64_t deadline, pbx_error *err)
{
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, ami->host, ip) == 1 || inet_pton(AF_INET6, ami->host, ip) == 1;
	int r;

	r = make_ctx(ami, err);
	if (r < 0)
		return r;
	ERR_clear_error();
	ami->ssl = SSL_new(ami->tls_ctx);
	if (!ami->ssl || SSL_set_fd(ami->ssl, ami->fd) != 1)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	/* The certificate must name the host we were told to reach: DNS name or address. */
	if (is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ami->ssl), ami->host) != 1)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	} else if (SSL_set1_host(ami->ssl, ami->host) != 1 ||
		   SSL_set_tlsext_host_name(ami->ssl, ami->host) != 1) {
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	for (;;) {
		int rc = SSL_connect(ami->ssl), e, w;

		if (rc == 1)
			return 0;
		e = SSL_get_error(ami->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return handshake_failed(ami, e, err);
		w = ami_wait(ami->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (w == 0)
			return ami_unavailable(ami, err, "%s: TLS handshake: no answer within %d ms",
					       ami->name, ami->timeout_ms);
		if (w < 0)
			return ami_unavailable(ami, err, "%s: TLS handshake: %s", ami->name,
					       strerror(-w));
	}
}

/* Map an SSL_read/SSL_write result to recv/send conventions; *@want gets the poll event. */
static ssize_t io_result(pbx_ami *ami, int rc, short *want)
{
	int e;

	if (rc > 0)
		return rc;
	e = SSL_get_error(ami->ssl, rc);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;   /* close_notify: a clean end */
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0 || errno == EAGAIN)
			return 0;   /* EOF without close_notify */
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

ssize_t ami_tls_recv(pbx_ami *ami, void *buf, size_t n, short *want)
{
	errno = 0;
	return io_result(ami, SSL_read(ami->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n), want);
}

ssize_t ami_tls_send(pbx_ami *ami, const void *buf, size_t n, short *want)
{
	errno = 0;
	return io_result(ami, SSL_write(ami->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n), want);
}

void ami_tls_stop(pbx_ami *ami)
{
	if (!ami->ssl)
		return;
	SSL_shutdown(ami->ssl);   /* best effort: one close_notify, no waiting */
	SSL_free(ami->ssl);
	ami->ssl = NULL;
	ERR_clear_error();
}

void ami_tls_free(pbx_ami *ami)
{
	ami_tls_stop(ami);
	SSL_CTX_free(ami->tls_ctx);
	ami->tls_ctx = NULL;
}
