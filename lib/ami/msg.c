/* SPDX-License-Identifier: MIT */
/*
 * AMI framing: "Key: Value" lines closed by an empty line, keys repeating in order, the old
 * "Response: Follows" Command form whose raw text ends in "--END COMMAND--", and the limits
 * (line, message size, header count) that keep a hostile server from exhausting memory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"

#define END_COMMAND "--END COMMAND--"

int ami_msg_add(struct pbx_ami_msg *msg, const char *key, size_t klen, const char *value,
		size_t vlen)
{
	size_t n = msg->n_headers;
	struct pbx_ami_header *h;
	char *k, *v;

	/*
	 * The capacity is implicit: 8, then doubled each time n_headers reaches a power of two
	 * (n_headers is bounded by PBX_AMI_MAX_HEADERS by the reader).
	 */
	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
		h = realloc(msg->headers, (n ? n * 2 : 8) * sizeof(*h));
		if (!h)
			return PBX_ERROR;
		msg->headers = h;
	}
	k = strndup(key, klen);
	v = strndup(value, vlen);
	if (!k || !v) {
		free(k);
		free(v);
		return PBX_ERROR;
	}
	msg->headers[msg->n_headers++] = (struct pbx_ami_header){ .key = k, .value = v };
	return 0;
}

void ami_msg_clear(struct pbx_ami_msg *msg)
{
	for (size_t i = 0; i < msg->n_headers; i++) {
		free(msg->headers[i].key);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	*msg = (struct pbx_ami_msg){ 0 };
}

const char *pbx_ami_msg_get(const struct pbx_ami_msg *msg, const char *key)
{
	if (!msg)
		return NULL;
	for (size_t i = 0; i < msg->n_headers; i++)
		if (strcasecmp(msg->headers[i].key, key) == 0)
			return msg->headers[i].value;
	return NULL;
}

void pbx_ami_response_free(struct pbx_ami_response *resp)
{
	if (!resp)
		return;
	ami_msg_clear(&resp->head);
	for (size_t i = 0; i < resp->n_events; i++)
		ami_msg_clear(&resp->events[i]);
	free(resp->events);
	if (resp->complete) {
		ami_msg_clear(resp->complete);
		free(resp->complete);
	}
	for (size_t i = 0; i < resp->n_output; i++)
		free(resp->output[i]);
	free(resp->output);
	free(resp);
}

static bool is_key_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ':';
}

/* Split "Key: Value" (the one space after the colon is optional); false when malformed. */
static bool split_header(const char *line, size_t len, size_t *klen, const char **value,
			 size_t *vlen)
{
	const char *colon = memchr(line, ':', len);

	if (!colon || colon == line)
		return false;
	for (const char *p = line; p < colon; p++)
		if (!is_key_char((unsigned char)*p))
			return false;
	*klen = (size_t)(colon - line);
	*value = colon + 1;
	if (*value < line + len && **value == ' ')
		(*value)++;
	*vlen = (size_t)(line + len - *value);
	return true;
}

static int malformed(pbx_ami *ami, const char *line, size_t len, const char *why,
		     pbx_error *err)
{
	int r = ami_protocol_error(ami, err, "%s sent a malformed message: %s", ami->name, why);

	pbx_error_set_detail(err, "line: %.*s", len > 80 ? 80 : (int)len, line);
	return r;
}

/* One raw line of the Follows form; sets *done on the line that ends the output. */
static int add_raw_line(struct pbx_ami_msg *m, const char *line, size_t len, bool *done)
{
	size_t el = sizeof(END_COMMAND) - 1;

	if (len >= el && memcmp(line + len - el, END_COMMAND, el) == 0) {
		*done = true;
		len -= el;
		if (len == 0)
			return 0;
	}
	return ami_msg_add(m, "Output", 6, line, len);
}

/*
 * While counting (ami->list_counts_only), a ListDialplan event's headers other than Event and
 * ActionID are dropped as they are read: the verify of 10 000 users reads 30 000 such
 * events, and copying their six other headers was most of its time.
 */
static bool lean_skip(const pbx_ami *ami, const struct pbx_ami_msg *m, const char *key,
		      size_t klen)
{
	if (!ami->list_counts_only || !m->n_headers ||
	    strcasecmp(m->headers[0].key, "Event") || strcasecmp(m->headers[0].value, "ListDialplan"))
		return false;
	return !(klen == 8 && strncasecmp(key, "ActionID", 8) == 0);
}

int ami_read_msg(pbx_ami *ami, int64_t deadline, struct pbx_ami_msg *ret, bool *broken,
		 pbx_error *err)
{
	struct pbx_ami_msg m = { 0 };
	size_t total = 0;
	bool follows = false, raw = false, done = false;
	int r;

	while (!done) {
		const char *value;
		size_t len, klen, vlen;
		char *line;

		r = ami_read_line(ami, deadline, true, &line, &len, broken, err);
		if (r < 0)
			goto fail;
		if (r == 0) {
			r = ami_unavailable(ami, err, "%s closed the connection%s", ami->name,
					    m.n_headers ? " in the middle of a message" : "");
			goto fail;
		}
		if (len == 0 && m.n_headers == 0 && !follows)
			continue;   /* stray empty lines between messages */
		total += len + 2;
		if (total > PBX_AMI_MAX_MESSAGE || m.n_headers >= PBX_AMI_MAX_HEADERS) {
			r = ami_protocol_error(ami, err, "%s sent a message larger than %s",
					       ami->name, total > PBX_AMI_MAX_MESSAGE ?
					       "1 MiB" : "100000 lines");
			goto fail;
		}
		if (follows && !raw) {
			/* Privilege and ActionID precede the raw text of the Follows form. */
			if (split_header(line, len, &klen, &value, &vlen) &&
			    ((klen == 9 && strncasecmp(line, "Privilege", 9) == 0) ||
			     (klen == 8 && strncasecmp(line, "ActionID", 8) == 0))) {
				r = ami_msg_add(&m, line, klen, value, vlen);
				if (r < 0)
					goto oom;
				continue;
			}
			raw = true;
		}
		if (raw) {
			r = add_raw_line(&m, line, len, &done);
			if (r < 0)
				goto oom;
			continue;
		}
		if (len == 0)
			break;
		if (!split_header(line, len, &klen, &value, &vlen)) {
			r = malformed(ami, line, len, "a line is not \"Key: Value\"", err);
			goto fail;
		}
		if (lean_skip(ami, &m, line, klen))
			continue;
		r = ami_msg_add(&m, line, klen, value, vlen);
		if (r < 0)
			goto oom;
		if (klen == 8 && strncasecmp(line, "Response", 8) == 0 &&
		    vlen == 7 && strncasecmp(value, "Follows", 7) == 0)
			follows = true;
	}
	*ret = m;
	return 0;
oom:
	r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
fail:
	ami_msg_clear(&m);
	return r;
}
