/* SPDX-License-Identifier: MIT */
/*
 * AMI actions: checking and formatting them (no CR/LF may reach the wire), unique ActionIDs,
 * correlation of responses and event lists, unsolicited events, the one reconnect-and-retry
 * allowed for read-only actions, and the mapping of "Response: Error" to pbx codes.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"

static int verr(pbx_error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int verr(pbx_error *err, int code, const char *fmt, va_list ap)
{
	pbx_verrorf(err, code, NULL, NULL, fmt, ap);
	if (err)
		snprintf(err->backend, sizeof(err->backend), "ami");
	return code;
}

int ami_unavailable(const pbx_ami *ami, pbx_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, PBX_EUNAVAILABLE, fmt, ap);
	va_end(ap);
	return PBX_EUNAVAILABLE;
}

int ami_errorf(pbx_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int ami_protocol_error(const pbx_ami *ami, pbx_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, PBX_ERROR, fmt, ap);
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

static size_t msg_size(const struct pbx_ami_msg *m)
{
	size_t n = 2;

	for (size_t i = 0; i < m->n_headers; i++)
		n += strlen(m->headers[i].key) + strlen(m->headers[i].value) + 4;
	return n;
}

/* Read until the whole answer to action @id has arrived. */
static int await(pbx_ami *ami, const char *id, int timeout_ms,
		 struct pbx_ami_response **ret, bool *broken, pbx_error *err)
{
	struct pbx_ami_response *resp = calloc(1, sizeof(*resp));
	int64_t deadline = ami_now_ms() + timeout_ms;
	bool have_head = false;
	size_t bytes = 0, counted = 0;
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
		if (value_is(&m, "EventList", "Complete") ||
		    value_is(&m, "EventList", "Cancelled")) {
			resp->complete = malloc(sizeof(*resp->complete));
			if (!resp->complete) {
				ami_msg_clear(&m);
				goto oom;
			}
			*resp->complete = m;
			break;
		}
		bytes += msg_size(&m);
		if (resp->n_events + counted >= PBX_AMI_MAX_EVENTS || bytes > PBX_AMI_MAX_RESPONSE) {
			ami_msg_clear(&m);
			r = ami_protocol_error(ami, err, "%s sent a list of more than %s",
					       ami->name, bytes > PBX_AMI_MAX_RESPONSE ?
					       "256 MiB" : "1000000 events");
			goto fail;
		}
		if (ami->list_counts_only) {
			counted++;
			ami_msg_clear(&m);
			continue;
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
int ami_transact(pbx_ami *ami, const char *action, const char *const *kv, int timeout_ms,
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

		ami_drop_if_closed(ami);
		if (ami->fd < 0) {
			r = ami_reconnect(ami, err);
			if (r < 0)
				return r;
		}
		r = ami_transact(ami, action, kv, ami->timeout_ms, ret, &broken, err);
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

/* Send actions [@from, @to) of a batch whose first ActionID is @first_id, in one write. */
static int batch_send(pbx_ami *ami, const struct pbx_ami_batch_action *a, size_t from,
		      size_t to, unsigned long first_id, bool *broken, pbx_error *err)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int r;

	if (!f)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = from; i < to; i++) {
		char id[32], *text;
		size_t len;

		snprintf(id, sizeof(id), "%lu", first_id + i);
		if (!(text = format_action(a[i].action, id, a[i].kv, &len))) {
			fclose(f);
			explicit_bzero(buf, size);
			free(buf);
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
		fwrite(text, 1, len, f);
		explicit_bzero(text, len);  /* it may hold a secret */
		free(text);
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	r = ami_send_all(ami, buf, size, ami_now_ms() + ami->timeout_ms, broken, err);
	explicit_bzero(buf, size);
	free(buf);
	return r;
}

int pbx_ami_batch(pbx_ami *ami, const struct pbx_ami_batch_action *actions, size_t n,
		  pbx_ami_batch_fn *done, void *userdata, pbx_error *err)
{
	size_t sent = 0;
	unsigned long first_id;
	bool broken = false;
	int r;

	for (size_t i = 0; i < n; i++)
		if ((r = check_action(actions[i].action, actions[i].kv, err)) < 0)
			return r;
	ami_drop_if_closed(ami);
	if (ami->fd < 0 && (r = ami_reconnect(ami, err)) < 0)
		return r;
	first_id = ami->next_id;
	ami->next_id += n;
	for (size_t i = 0; i < n; i++) {
		struct pbx_ami_response *resp = NULL;
		pbx_error why = PBX_ERROR_INIT;
		char id[32], what[256];

		/* Keep the window full: refill when half of it has been answered. */
		if (sent < n && sent - i <= PBX_AMI_BATCH_WINDOW / 2) {
			size_t to = i + PBX_AMI_BATCH_WINDOW < n ? i + PBX_AMI_BATCH_WINDOW : n;

			if ((r = batch_send(ami, actions, sent, to, first_id, &broken, err)) < 0)
				goto lost;
			sent = to;
		}
		snprintf(id, sizeof(id), "%lu", first_id + i);
		if ((r = await(ami, id, ami->timeout_ms, &resp, &broken, err)) < 0)
			goto lost;
		describe(actions[i].action, actions[i].kv, what, sizeof(what));
		r = pbx_ami_response_check(ami, what, resp, &why);
		pbx_ami_response_free(resp);
		done(i, r, &why, userdata);
	}
	return 0;
lost:
	/* The stream position is unknown now: start afresh next time. */
	ami_disconnect(ami);
	return r;
}
