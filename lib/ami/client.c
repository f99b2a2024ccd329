/* SPDX-License-Identifier: MIT */
/*
 * The AMI session: greeting and login (plain or MD5 challenge), actions with unique ActionIDs,
 * correlation of responses and event lists, unsolicited events, the one reconnect-and-retry
 * allowed for read-only actions, and the mapping of "Response: Error" to pbx codes.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"
#include "md5.h"

#define GREETING "Asterisk Call Manager/"
#define LOGOFF_WAIT_MS 1000

static int verr(const pbx_ami *ami, pbx_error *err, int code, const char *fmt, va_list ap)
{
	(void)ami;
	pbx_verrorf(err, code, NULL, NULL, fmt, ap);
	if (err)
		snprintf(err->backend, sizeof(err->backend), "ami");
	return code;
}

int ami_unavailable(const pbx_ami *ami, pbx_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(ami, err, PBX_EUNAVAILABLE, fmt, ap);
	va_end(ap);
	return PBX_EUNAVAILABLE;
}

int ami_protocol_error(const pbx_ami *ami, pbx_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(ami, err, PBX_ERROR, fmt, ap);
	va_end(ap);
	return PBX_ERROR;
}

bool ami_parse_ll(const char *s, long long *ret)
{
	long long v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (LLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

/* ---- Validation and formatting of actions ---- */

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ':')
			return false;
	return true;
}

static int check_action(const char *action, const char *const *kv, pbx_error *err)
{
	if (!is_token(action))
		return pbx_errorf(err, PBX_EINVALID, "ami action", "action",
				  "an AMI action name must be a single word");
	for (size_t i = 0; kv && kv[i]; i += 2) {
		if (!is_token(kv[i]) || strcasecmp(kv[i], "Action") == 0 ||
		    strcasecmp(kv[i], "ActionID") == 0)
			return pbx_errorf(err, PBX_EINVALID, action, kv[i],
					  "an AMI header name must be a single word other than "
					  "Action and ActionID");
		if (!kv[i + 1])
			return pbx_errorf(err, PBX_EINVALID, action, kv[i],
					  "header %s has no value", kv[i]);
		if (strpbrk(kv[i + 1], "\r\n"))
			return pbx_errorf(err, PBX_EINVALID, action, kv[i],
					  "the value of %s contains a line break; "
					  "AMI values must be one line", kv[i]);
	}
	return 0;
}

static char *format_action(const char *action, const char *id, const char *const *kv,
			   size_t *ret_len)
{
	size_t len = strlen("Action: \r\nActionID: \r\n\r\n") + strlen(action) + strlen(id);
	char *buf, *p;

	for (size_t i = 0; kv && kv[i]; i += 2)
		len += strlen(kv[i]) + strlen(kv[i + 1]) + 4;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	p = buf + sprintf(buf, "Action: %s\r\nActionID: %s\r\n", action, id);
	for (size_t i = 0; kv && kv[i]; i += 2)
		p += sprintf(p, "%s: %s\r\n", kv[i], kv[i + 1]);
	p += sprintf(p, "\r\n");
	*ret_len = (size_t)(p - buf);
	return buf;
}

/* ---- Responses ---- */

static void deliver_unsolicited(pbx_ami *ami, const struct pbx_ami_msg *m)
{
	if (ami->event_cb && pbx_ami_msg_get(m, "Event"))
		ami->event_cb(m, ami->event_data);
}

static int add_event(struct pbx_ami_response *resp, struct pbx_ami_msg *m)
{
	size_t n = resp->n_events;

	if (n == 0 || (n >= 16 && (n & (n - 1)) == 0)) {
		struct pbx_ami_msg *p = realloc(resp->events, (n ? n * 2 : 16) * sizeof(*p));

		if (!p)
			return PBX_ERROR;
		resp->events = p;
	}
	resp->events[resp->n_events++] = *m;
	*m = (struct pbx_ami_msg){ 0 };
	return 0;
}

static int collect_output(struct pbx_ami_response *resp)
{
	size_t n = 0;

	for (size_t i = 0; i < resp->head.n_headers; i++)
		n += strcasecmp(resp->head.headers[i].key, "Output") == 0;
	if (n == 0)
		return 0;
	resp->output = calloc(n, sizeof(char *));
	if (!resp->output)
		return PBX_ERROR;
	for (size_t i = 0; i < resp->head.n_headers; i++) {
		if (strcasecmp(resp->head.headers[i].key, "Output") != 0)
			continue;
		resp->output[resp->n_output] = strdup(resp->head.headers[i].value);
		if (!resp->output[resp->n_output])
			return PBX_ERROR;
		resp->n_output++;
	}
	return 0;
}

static bool value_is(const struct pbx_ami_msg *m, const char *key, const char *want)
{
	const char *v = pbx_ami_msg_get(m, key);

	return v && strcasecmp(v, want) == 0;
}

/* Read until the whole answer to action @id has arrived. */
static int await(pbx_ami *ami, const char *id, int timeout_ms,
		 struct pbx_ami_response **ret, bool *broken, pbx_error *err)
{
	struct pbx_ami_response *resp = calloc(1, sizeof(*resp));
	int64_t deadline = ami_now_ms() + timeout_ms;
	bool have_head = false;
	int r;

	if (!resp)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (;;) {
		struct pbx_ami_msg m;
		const char *aid;

		r = ami_read_msg(ami, deadline, &m, broken, err);
		if (r < 0)
			goto fail;
		aid = pbx_ami_msg_get(&m, "ActionID");
		if (!aid || strcmp(aid, id) != 0) {
			/* Not ours: an unsolicited event, or the answer to an abandoned action. */
			deliver_unsolicited(ami, &m);
			ami_msg_clear(&m);
			continue;
		}
		deadline = ami_now_ms() + timeout_ms;
		if (!have_head) {
			if (!pbx_ami_msg_get(&m, "Response")) {
				ami_msg_clear(&m);
				r = ami_protocol_error(ami, err, "%s sent an event before the "
						       "response to action %s", ami->name, id);
				goto fail;
			}
			resp->head = m;
			have_head = true;
			if (value_is(&resp->head, "EventList", "start"))
				continue;
			break;
		}
		if (value_is(&m, "EventList", "Complete") || value_is(&m, "EventList", "Cancelled")) {
			resp->complete = malloc(sizeof(*resp->complete));
			if (!resp->complete) {
				ami_msg_clear(&m);
				goto oom;
			}
			*resp->complete = m;
			break;
		}
		if (resp->n_events >= PBX_AMI_MAX_EVENTS) {
			ami_msg_clear(&m);
			r = ami_protocol_error(ami, err, "%s sent more than %d events in one list",
					       ami->name, PBX_AMI_MAX_EVENTS);
			goto fail;
		}
		if (add_event(resp, &m) < 0) {
			ami_msg_clear(&m);
			goto oom;
		}
	}
	if (collect_output(resp) < 0)
		goto oom;
	*ret = resp;
	return 0;
oom:
	r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
fail:
	pbx_ami_response_free(resp);
	return r;
}

/* Send one action and wait for its answer, once, on the current connection. */
static int transact(pbx_ami *ami, const char *action, const char *const *kv, int timeout_ms,
		    struct pbx_ami_response **ret, bool *broken, pbx_error *err)
{
	char id[32], *text;
	size_t len;
	int r;

	snprintf(id, sizeof(id), "%lu", ami->next_id++);
	text = format_action(action, id, kv, &len);
	if (!text)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	r = ami_send_all(ami, text, len, ami_now_ms() + timeout_ms, broken, err);
	explicit_bzero(text, len);  /* it may hold the secret */
	free(text);
	if (r < 0)
		return r;
	return await(ami, id, timeout_ms, ret, broken, err);
}

static const char *response_text(const struct pbx_ami_response *resp)
{
	const char *msg = pbx_ami_msg_get(&resp->head, "Message");

	if ((!msg || strcasecmp(msg, "Command output follows") == 0) && resp->n_output > 0)
		return NULL;  /* the output says what went wrong */
	return msg ? msg : "no message";
}

static int classify(const char *text)
{
	static const char *const notfound[] = {
		"Did not find context", "Did not find extension", "Database entry not found",
		"There is no existence of", "Unable to retrieve endpoint", "No endpoints found",
	};

	for (size_t i = 0; i < sizeof(notfound) / sizeof(notfound[0]); i++)
		if (strstr(text, notfound[i]))
			return PBX_ENOTFOUND;
	if (strstr(text, "Permission denied") || strstr(text, "Authentication failed"))
		return PBX_EPERM;
	return PBX_ERROR;
}

int pbx_ami_response_check(const pbx_ami *ami, const char *action,
			   const struct pbx_ami_response *resp, pbx_error *err)
{
	const char *status = pbx_ami_msg_get(&resp->head, "Response");
	const char *text = response_text(resp);
	char joined[PBX_ERR_MESSAGE];
	int code;

	if (status && (strcasecmp(status, "Success") == 0 || strcasecmp(status, "Follows") == 0 ||
		       strcasecmp(status, "Goodbye") == 0))
		return 0;
	if (!text) {
		size_t used = 0;

		joined[0] = '\0';
		for (size_t i = 0; i < resp->n_output && used < sizeof(joined) - 1; i++) {
			int w = snprintf(joined + used, sizeof(joined) - used, "%s%s",
					 used ? "; " : "", resp->output[i]);
			if (w < 0)
				break;
			used += (size_t)w;
		}
		text = joined;
	}
	code = classify(text);
	pbx_errorf(err, code, NULL, NULL, "%s: %s failed: %s", ami->name, action, text);
	if (err) {
		snprintf(err->backend, sizeof(err->backend), "ami");
		pbx_error_set_detail(err, "%s", text);
	}
	return code;
}

/* ---- Greeting, login, reconnect ---- */

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

	r = transact(ami, "Challenge", kv, ami->timeout_ms, &resp, NULL, err);
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
	r = transact(ami, "Login", ami->md5 ? md5 : plain, ami->timeout_ms, &resp, NULL, err);
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

static int reconnect(pbx_ami *ami, pbx_error *err)
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
static void drop_if_closed(pbx_ami *ami)
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
	free(ami->host);
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
	ami->fd = -1;
	ami->next_id = 1;
	ami->port = cfg->port > 0 ? cfg->port : PBX_AMI_DEFAULT_PORT;
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
	drop_if_closed(ami);
	if (ami->fd >= 0 && ami->logged_in) {
		if (ami->timeout_ms < wait)
			wait = ami->timeout_ms;
		if (transact(ami, "Logoff", NULL, wait, &resp, NULL, NULL) == 0)
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

/* ---- Actions ---- */

static bool has_prefix_word(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	while (*s == ' ' || *s == '\t')
		s++;
	return strncasecmp(s, prefix, n) == 0 && (s[n] == '\0' || s[n] == ' ');
}

/*
 * Actions that change nothing, so sending them twice is harmless. Everything else (Reload,
 * DBPut, DBDel, Originate, ...) is never resent: the first attempt may have taken effect.
 */
static bool is_read_only(const char *action, const char *const *kv)
{
	static const char *const plain[] = {
		"Ping", "CoreStatus", "CoreSettings", "ShowDialPlan", "DBGet",
	};
	static const char *const commands[] = { "dialplan show", "pjsip show", "core show" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcasecmp(action, plain[i]) == 0)
			return true;
	if (strncasecmp(action, "PJSIPShow", 9) == 0)
		return true;
	if (strcasecmp(action, "Command") != 0)
		return false;
	for (size_t i = 0; kv && kv[i]; i += 2) {
		if (strcasecmp(kv[i], "Command") != 0)
			continue;
		for (size_t j = 0; j < sizeof(commands) / sizeof(commands[0]); j++)
			if (has_prefix_word(kv[i + 1], commands[j]))
				return true;
		return false;
	}
	return false;
}

int pbx_ami_action_raw(pbx_ami *ami, const char *action, const char *const *kv,
		       struct pbx_ami_response **ret, pbx_error *err)
{
	bool read_only;
	int r;

	r = check_action(action, kv, err);
	if (r < 0)
		return r;
	read_only = is_read_only(action, kv);
	for (int attempt = 0;; attempt++) {
		bool broken = false;

		drop_if_closed(ami);
		if (ami->fd < 0) {
			r = reconnect(ami, err);
			if (r < 0)
				return r;
		}
		r = transact(ami, action, kv, ami->timeout_ms, ret, &broken, err);
		if (r == 0)
			return 0;
		/* After a failure the stream position is unknown: start afresh next time. */
		ami_disconnect(ami);
		if (!broken || !read_only || attempt > 0 || !ami->can_reconnect)
			return r;
	}
}

static void describe(const char *action, const char *const *kv, char *buf, size_t n)
{
	snprintf(buf, n, "%s", action);
	if (strcasecmp(action, "Command") != 0)
		return;
	for (size_t i = 0; kv && kv[i]; i += 2)
		if (strcasecmp(kv[i], "Command") == 0) {
			snprintf(buf, n, "command '%s'", kv[i + 1]);
			return;
		}
}

int pbx_ami_action(pbx_ami *ami, const char *action, const char *const *kv,
		   struct pbx_ami_response **ret, pbx_error *err)
{
	struct pbx_ami_response *resp = NULL;
	char what[256];
	int r;

	r = pbx_ami_action_raw(ami, action, kv, &resp, err);
	if (r < 0)
		return r;
	describe(action, kv, what, sizeof(what));
	r = pbx_ami_response_check(ami, what, resp, err);
	if (r < 0 || !ret)
		pbx_ami_response_free(resp);
	else
		*ret = resp;
	return r;
}
