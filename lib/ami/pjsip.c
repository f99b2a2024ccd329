/* SPDX-License-Identifier: MIT */
/*
 * PJSIP status through AMI: the registered contacts (PJSIPShowContacts) and the outbound
 * registrations of trunks (PJSIPShowRegistrationsOutbound), as plain records for diag.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"

static char *dup_value(const struct pbx_ami_msg *m, const char *key, bool *oom)
{
	const char *v = pbx_ami_msg_get(m, key);
	char *s = strdup(v ? v : "");

	if (!s)
		*oom = true;
	return s;
}

/* A number, or @dflt for "N/A", empty or anything that is not a number. */
static long long number(const struct pbx_ami_msg *m, const char *key, long long dflt)
{
	long long v;

	return ami_parse_ll(pbx_ami_msg_get(m, key), &v) ? v : dflt;
}

void pbx_ami_contacts_free(struct pbx_ami_contact *contacts, size_t n)
{
	for (size_t i = 0; contacts && i < n; i++) {
		free(contacts[i].aor);
		free(contacts[i].endpoint);
		free(contacts[i].uri);
		free(contacts[i].via_addr);
		free(contacts[i].user_agent);
		free(contacts[i].status);
	}
	free(contacts);
}

static bool fill_contact(struct pbx_ami_contact *c, const struct pbx_ami_msg *m)
{
	const char *name = pbx_ami_msg_get(m, "ObjectName");
	const char *sep = name ? strstr(name, ";@") : NULL;
	bool oom = false;

	c->aor = name ? strndup(name, sep ? (size_t)(sep - name) : strlen(name)) : strdup("");
	oom = !c->aor;
	c->endpoint = dup_value(m, "Endpoint", &oom);
	c->uri = dup_value(m, "Uri", &oom);
	c->via_addr = dup_value(m, "ViaAddr", &oom);
	c->via_port = (int)number(m, "ViaPort", 0);
	c->user_agent = dup_value(m, "UserAgent", &oom);
	c->expiration_time = number(m, "ExpirationTime", 0);
	c->status = dup_value(m, "Status", &oom);
	c->roundtrip_usec = number(m, "RoundtripUsec", -1);
	return !oom;
}

static bool is_event(const struct pbx_ami_msg *m, const char *name)
{
	const char *ev = pbx_ami_msg_get(m, "Event");

	return ev && strcmp(ev, name) == 0;
}

static bool is_no_contacts(const struct pbx_ami_msg *head)
{
	const char *resp = pbx_ami_msg_get(head, "Response");
	const char *msg = pbx_ami_msg_get(head, "Message");

	return resp && msg && !strcasecmp(resp, "Error") && !strncmp(msg, "No Contacts found", 17);
}

int pbx_ami_contacts(pbx_ami *ami, struct pbx_ami_contact **ret, size_t *ret_n,
		     pbx_error *err)
{
	struct pbx_ami_response *resp = NULL;
	struct pbx_ami_contact *c = NULL;
	size_t n = 0;
	int r;

	r = pbx_ami_action_raw(ami, "PJSIPShowContacts", NULL, &resp, err);
	if (r < 0)
		return r;
	/* Asterisk answers an empty list with an error (reference/ami/events-contact-status). */
	if (is_no_contacts(&resp->head)) {
		pbx_ami_response_free(resp);
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if ((r = pbx_ami_response_check(ami, "PJSIPShowContacts", resp, err)) < 0) {
		pbx_ami_response_free(resp);
		return r;
	}
	if (resp->n_events) {
		c = calloc(resp->n_events, sizeof(*c));
		if (!c)
			goto oom;
	}
	for (size_t i = 0; i < resp->n_events; i++) {
		if (!is_event(&resp->events[i], "ContactList"))
			continue;
		if (!fill_contact(&c[n++], &resp->events[i]))
			goto oom;
	}
	*ret = c;
	*ret_n = n;
	pbx_ami_response_free(resp);
	return 0;
oom:
	pbx_ami_contacts_free(c, n);
	pbx_ami_response_free(resp);
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
}

void pbx_ami_registrations_free(struct pbx_ami_registration *regs, size_t n)
{
	for (size_t i = 0; regs && i < n; i++) {
		free(regs[i].name);
		free(regs[i].server_uri);
		free(regs[i].client_uri);
		free(regs[i].endpoint);
		free(regs[i].status);
	}
	free(regs);
}

int pbx_ami_registrations_outbound(pbx_ami *ami, struct pbx_ami_registration **ret,
				   size_t *ret_n, pbx_error *err)
{
	struct pbx_ami_response *resp = NULL;
	struct pbx_ami_registration *g = NULL;
	size_t n = 0;
	int r;

	r = pbx_ami_action(ami, "PJSIPShowRegistrationsOutbound", NULL, &resp, err);
	if (r < 0)
		return r;
	if (resp->n_events) {
		g = calloc(resp->n_events, sizeof(*g));
		if (!g)
			goto oom;
	}
	for (size_t i = 0; i < resp->n_events; i++) {
		const struct pbx_ami_msg *m = &resp->events[i];
		bool oom = false;

		if (!is_event(m, "OutboundRegistrationDetail"))
			continue;
		g[n].name = dup_value(m, "ObjectName", &oom);
		g[n].server_uri = dup_value(m, "ServerUri", &oom);
		g[n].client_uri = dup_value(m, "ClientUri", &oom);
		g[n].endpoint = dup_value(m, "Endpoint", &oom);
		g[n].status = dup_value(m, "Status", &oom);
		g[n].next_reg = number(m, "NextReg", -1);
		n++;
		if (oom)
			goto oom;
	}
	*ret = g;
	*ret_n = n;
	pbx_ami_response_free(resp);
	return 0;
oom:
	pbx_ami_registrations_free(g, n);
	pbx_ami_response_free(resp);
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
}
