/* SPDX-License-Identifier: MIT */
/*
 * The AMI session: the handle and its copied configuration, connecting (TCP, TLS or a given
 * socket), the greeting, the plain or MD5-challenge Login, reconnecting after a broken
 * connection, and the best-effort Logoff on close. The secret is wiped from memory.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"
#include "md5.h"

#define GREETING "Asterisk Call Manager/"
#define LOGOFF_WAIT_MS 1000

static int refused(const pbx_ami *ami, const struct pbx_ami_response *resp, pbx_error *err)
{
	const char *msg = pbx_ami_msg_get(&resp->head, "Message");

	pbx_errorf(err, PBX_EPERM, NULL, NULL, "%s refused the login of user %s: %s",
		   ami->name, ami->username, msg ? msg : "no reason given");
	if (err)
		snprintf(err->backend, sizeof(err->backend), "ami");
	return PBX_EPERM;
}

/* Key = md5hex(challenge + secret), into @key. */
static int challenge(pbx_ami *ami, char key[33], pbx_error *err)
{
	const char *kv[] = { "AuthType", "md5", NULL };
	struct pbx_ami_response *resp = NULL;
	const char *nonce;
	char *text = NULL;
	int r;

	r = ami_transact(ami, "Challenge", kv, ami->timeout_ms, &resp, NULL, err);
	if (r < 0)
		return r;
	nonce = pbx_ami_msg_get(&resp->head, "Challenge");
	if (pbx_ami_response_check(ami, "Challenge", resp, NULL) < 0)
		r = refused(ami, resp, err);
	else if (!nonce || !*nonce)
		r = ami_protocol_error(ami, err, "%s answered Challenge without a nonce",
				       ami->name);
	else if (asprintf(&text, "%s%s", nonce, ami->secret ? ami->secret : "") < 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	else {
		pbx_ami_md5_hex(text, strlen(text), key);
		explicit_bzero(text, strlen(text));
		free(text);
	}
	pbx_ami_response_free(resp);
	return r;
}

static int login(pbx_ami *ami, pbx_error *err)
{
	const char *events = ami->events ? ami->events : "off";
	const char *secret = ami->secret ? ami->secret : "";
	struct pbx_ami_response *resp = NULL;
	char key[33] = "";
	const char *plain[] = { "Username", ami->username, "Secret", secret,
				"Events", events, NULL };
	const char *md5[] = { "AuthType", "md5", "Username", ami->username, "Key", key,
			      "Events", events, NULL };
	int r;

	if (ami->md5) {
		r = challenge(ami, key, err);
		if (r < 0)
			goto cleanup;
	}
	r = ami_transact(ami, "Login", ami->md5 ? md5 : plain, ami->timeout_ms, &resp, NULL, err);
	if (r < 0)
		goto cleanup;
	if (pbx_ami_response_check(ami, "Login", resp, NULL) < 0) {
		r = refused(ami, resp, err);
		goto cleanup;
	}
	ami->logged_in = true;
cleanup:
	explicit_bzero(key, sizeof(key));
	pbx_ami_response_free(resp);
	return r;
}

static int greet_and_login(pbx_ami *ami, pbx_error *err)
{
	char *line;
	size_t len;
	int r;

	r = ami_read_line(ami, ami_now_ms() + ami->timeout_ms, false, &line, &len, NULL, err);
	if (r < 0)
		goto fail;
	if (strncmp(line, GREETING, strlen(GREETING)) != 0) {
		r = ami_unavailable(ami, err, "%s is not an Asterisk manager interface", ami->name);
		pbx_error_set_detail(err, "greeting: %.*s", len > 80 ? 80 : (int)len, line);
		goto fail;
	}
	free(ami->version);
	ami->version = strdup(line + strlen(GREETING));
	if (!ami->version) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto fail;
	}
	if (!ami->username)
		return 0;
	r = login(ami, err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	ami_disconnect(ami);
	return r;
}

int ami_reconnect(pbx_ami *ami, pbx_error *err)
{
	int r;

	ami_disconnect(ami);
	if (!ami->can_reconnect)
		return ami_unavailable(ami, err, "%s: the connection is closed", ami->name);
	r = ami_tcp_connect(ami, err);
	if (r < 0)
		return r;
	return greet_and_login(ami, err);
}

/* If the server closed an idle connection, notice it before sending anything. */
void ami_drop_if_closed(pbx_ami *ami)
{
	struct pollfd p = { .fd = ami->fd, .events = POLLIN };
	char c;

	if (ami->fd < 0 || ami->rd.end > ami->rd.start)
		return;
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR) ||
				    recv(ami->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0))
		ami_disconnect(ami);
}

static void free_handle(pbx_ami *ami)
{
	if (!ami)
		return;
	ami_disconnect(ami);
	if (ami->secret) {
		explicit_bzero(ami->secret, strlen(ami->secret));
		free(ami->secret);
	}
	ami_tls_free(ami);
	free(ami->host);
	free(ami->ca_file);
	free(ami->username);
	free(ami->events);
	free(ami->name);
	free(ami->version);
	free(ami->rd.buf);
	free(ami);
}

static int new_handle(const struct pbx_ami_config *cfg, pbx_ami **ret, pbx_error *err)
{
	pbx_ami *ami = calloc(1, sizeof(*ami));
	const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";

	if (!ami)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (cfg->port < 0 || cfg->port > 65535) {
		free(ami);
		return pbx_errorf(err, PBX_EINVALID, "ami", "port",
				  "AMI port %d is outside 1-65535", cfg->port);
	}
	ami->fd = -1;
	ami->next_id = 1;
	ami->tls = cfg->tls;
	ami->port = cfg->port > 0 ? cfg->port : cfg->tls ? PBX_AMI_DEFAULT_TLS_PORT :
		    PBX_AMI_DEFAULT_PORT;
	ami->ca_file = cfg->ca_file && *cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	ami->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : PBX_AMI_DEFAULT_TIMEOUT_MS;
	ami->md5 = cfg->md5;
	ami->host = strdup(host);
	ami->username = cfg->username ? strdup(cfg->username) : NULL;
	ami->secret = cfg->secret ? strdup(cfg->secret) : NULL;
	ami->events = cfg->events ? strdup(cfg->events) : NULL;
	if (asprintf(&ami->name, strchr(host, ':') ? "ami at [%s]:%d" : "ami at %s:%d",
		     host, ami->port) < 0)
		ami->name = NULL;
	if (!ami->host || !ami->name || (cfg->username && !ami->username) ||
	    (cfg->ca_file && *cfg->ca_file && !ami->ca_file) ||
	    (cfg->secret && !ami->secret) || (cfg->events && !ami->events)) {
		free_handle(ami);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	if (cfg->username && (strpbrk(cfg->username, "\r\n") ||
			      (cfg->secret && strpbrk(cfg->secret, "\r\n")) ||
			      (cfg->events && strpbrk(cfg->events, "\r\n")))) {
		free_handle(ami);
		return pbx_errorf(err, PBX_EINVALID, "ami", "username",
				  "the AMI username, secret and events must be one line");
	}
	*ret = ami;
	return 0;
}

int pbx_ami_connect(const struct pbx_ami_config *cfg, pbx_ami **ret, pbx_error *err)
{
	pbx_ami *ami = NULL;
	int r;

	r = new_handle(cfg, &ami, err);
	if (r < 0)
		return r;
	ami->can_reconnect = true;
	r = ami_tcp_connect(ami, err);
	if (r == 0)
		r = greet_and_login(ami, err);
	if (r < 0) {
		free_handle(ami);
		return r;
	}
	*ret = ami;
	return 0;
}

int pbx_ami_connect_fd(int fd, const struct pbx_ami_config *cfg, pbx_ami **ret,
		       pbx_error *err)
{
	pbx_ami *ami = NULL;
	int r, fl;

	r = new_handle(cfg, &ami, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	ami->fd = fd;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free_handle(ami);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot make the AMI socket "
				  "non-blocking");
	}
	r = ami->tls ? ami_tls_start(ami, ami_now_ms() + ami->timeout_ms, err) : 0;
	if (r == 0)
		r = greet_and_login(ami, err);
	if (r < 0) {
		free_handle(ami);
		return r;
	}
	*ret = ami;
	return 0;
}

void pbx_ami_close(pbx_ami *ami)
{
	struct pbx_ami_response *resp = NULL;
	int wait = LOGOFF_WAIT_MS;

	if (!ami)
		return;
	ami_drop_if_closed(ami);
	if (ami->fd >= 0 && ami->logged_in) {
		if (ami->timeout_ms < wait)
			wait = ami->timeout_ms;
		if (ami_transact(ami, "Logoff", NULL, wait, &resp, NULL, NULL) == 0)
			pbx_ami_response_free(resp);
	}
	free_handle(ami);
}

const char *pbx_ami_version(const pbx_ami *ami)
{
	return ami->version;
}

void pbx_ami_set_event_cb(pbx_ami *ami, pbx_ami_event_fn *cb, void *userdata)
{
	ami->event_cb = cb;
	ami->event_data = userdata;
}
