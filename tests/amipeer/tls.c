/* SPDX-License-Identifier: MIT */
/*
 * amipeer over TLS (--tls-cert, --tls-key), as Asterisk's manager.conf tlsenable serves AMI
 * on port 5039: the server context, the handshake of each accepted connection (blocking, at
 * most a few seconds, so a client that refuses the certificate simply ends its connection),
 * and non-blocking reads and writes with recv/send conventions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "peer.h"

SSL_CTX *tls_server_ctx(const char *cert, const char *key)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());

	if (!c || SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "amipeer: cannot load the TLS certificate %s and key %s\n", cert, key);
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return c;
}

SSL *tls_accept(SSL_CTX *ctx, int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	int fl = fcntl(fd, F_GETFL);
	SSL *ssl = SSL_new(ctx);

	/* The handshake blocks (bounded): the peer serves tests, one client at a time. */
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return ssl;
}

static ssize_t result(SSL *ssl, int rc)
{
	int e;

	if (rc > 0)
		return rc;
	e = SSL_get_error(ssl, rc);
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = ECONNRESET;
	return e == SSL_ERROR_SYSCALL ? 0 : -1;
}

ssize_t tls_read(SSL *ssl, void *buf, size_t n)
{
	return result(ssl, SSL_read(ssl, buf, (int)n));
}

ssize_t tls_write(SSL *ssl, const void *buf, size_t n)
{
	return result(ssl, SSL_write(ssl, buf, (int)n));
}

void tls_close(SSL *ssl)
{
	if (!ssl)
		return;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
}
