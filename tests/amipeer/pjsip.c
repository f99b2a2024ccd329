/* SPDX-License-Identifier: MIT */
/*
 * amipeer's PJSIP actions, fed by text files a test writes and the peer re-reads on every
 * action: --contacts ("endpoint uri status rtt_usec [exp=UNIXTIME] user_agent" per line, or a lone endpoint
 * name for an endpoint without contacts) and --registrations ("name server_uri client_uri
 * status" per line). Events carry the fields, in the order, of the recordings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer.h"

struct contact {
	char *endpoint, *uri, *status, *rtt, *ua, *host;
	int port;
	long exp;   /* ExpirationTime from "exp=UNIXTIME", 0: now + 3600 */
};

struct contacts {
	struct contact *c;
	size_t n;
};

static void contacts_free(struct contacts *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->c[i].endpoint);
		free(cs->c[i].uri);
		free(cs->c[i].status);
		free(cs->c[i].rtt);
		free(cs->c[i].ua);
		free(cs->c[i].host);
	}
	free(cs->c);
}

/* Host and port of "sip:user@host:port;params". */
static void uri_hostport(const char *uri, char **host, int *port)
{
	const char *s = strchr(uri, '@'), *end, *colon;

	s = s ? s + 1 : (strncmp(uri, "sip:", 4) == 0 ? uri + 4 : uri);
	end = s + strcspn(s, ";>");
	colon = memchr(s, ':', (size_t)(end - s));
	*host = xstrndup(s, (size_t)((colon ? colon : end) - s));
	*port = colon ? atoi(colon + 1) : 5060;
}

static int by_endpoint(const void *a, const void *b)
{
	const struct contact *x = a, *y = b;
	int r = strcmp(x->endpoint, y->endpoint);

	/* qsort is not stable: keep file order between contacts of one endpoint. */
	return r ? r : (x < y ? -1 : x > y);
}

static void load_contacts(const struct peer *p, struct contacts *cs)
{
	FILE *f = p->contacts ? fopen(p->contacts, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;

	*cs = (struct contacts){ 0 };
	if (!f)
		return;
	while (getline(&line, &cap, f) >= 0) {
		char *save = NULL, *ep, *uri, *st, *rtt, *ua;
		struct contact *c;
		long exp;

		line[strcspn(line, "\r\n")] = '\0';
		ep = strtok_r(line, " \t", &save);
		if (!ep || *ep == '#')
			continue;
		uri = strtok_r(NULL, " \t", &save);
		st = uri ? strtok_r(NULL, " \t", &save) : NULL;
		rtt = st ? strtok_r(NULL, " \t", &save) : NULL;
		ua = save ? save + strspn(save, " \t") : NULL;
		exp = 0;
		if (rtt && ua && strncmp(ua, "exp=", 4) == 0) {
			exp = strtol(ua + 4, &ua, 10);
			ua += strspn(ua, " \t");
		}
		cs->c = xrealloc(cs->c, (cs->n + 1) * sizeof(*cs->c));
		c = &cs->c[cs->n++];
		*c = (struct contact){ .endpoint = xstrdup(ep) };
		if (!uri || strcmp(uri, "-") == 0)
			continue;   /* an endpoint without contacts */
		c->uri = xstrdup(uri);
		c->status = xstrdup(st ? st : "Unknown");
		c->rtt = xstrdup(rtt ? rtt : "N/A");
		c->ua = xstrdup(ua ? ua : "");
		c->exp = exp;
		uri_hostport(uri, &c->host, &c->port);
	}
	free(line);
	fclose(f);
	if (cs->n)
		qsort(cs->c, cs->n, sizeof(*cs->c), by_endpoint);
}

static void contact_id(const struct contact *c, char *buf, size_t n)
{
	char hash[33];

	pbx_ami_md5_hex(c->uri, strlen(c->uri), hash);
	snprintf(buf, n, "%s;@%s", c->endpoint, hash);
}

static void call_id(const struct contact *c, char *buf, size_t n)
{
	char hash[33];

	pbx_ami_md5_hex(c->uri, strlen(c->uri), hash);
	snprintf(buf, n, "amipeer-%.8s@%s", hash, c->host);
}

static long expires(const struct contact *c)
{
	return c->exp ? c->exp : (long)time(NULL) + 3600;
}

void peer_pjsip_contacts(struct peer *p, const struct req *r, struct sb *out)
{
	struct contacts cs;
	int items = 0;

	load_contacts(p, &cs);
	for (size_t i = 0; i < cs.n; i++)
		items += cs.c[i].uri != NULL;
	if (!items) {
		/* An empty list is an error, with Asterisk's stray newline (events-contact-status). */
		send_error(out, r, "No Contacts found\n");
		contacts_free(&cs);
		return;
	}
	items = 0;
	send_listack(out, r, "A listing of Contacts follows, presented as ContactList events");
	for (size_t i = 0; i < cs.n; i++) {
		const struct contact *c = &cs.c[i];
		char id[512], cid[128];

		if (!c->uri)
			continue;
		contact_id(c, id, sizeof(id));
		call_id(c, cid, sizeof(cid));
		sb_add(out, "Event: ContactList\r\n");
		action_id(out, r);
		sb_add(out, "ObjectType: contact\r\nObjectName: %s\r\nViaAddr: %s\r\n"
		       "QualifyTimeout: 3.000000\r\nQualify2xxOnly: false\r\nCallId: %s\r\n"
		       "RegServer: \r\nPruneOnBoot: no\r\nPath: \r\nEndpoint: %s\r\nViaPort: %d\r\n"
		       "AuthenticateQualify: no\r\nUri: %s\r\nQualifyFrequency: 0\r\n"
		       "UserAgent: %s\r\nExpirationTime: %ld\r\nOutboundProxy: \r\nStatus: %s\r\n"
		       "RoundtripUsec: %s\r\n\r\n",
		       id, c->host, cid, c->endpoint, c->port, c->uri, c->ua, expires(c), c->status,
		       c->rtt);
		items++;
	}
	send_list_complete(out, r, "ContactListComplete", items);
	sb_add(out, "\r\n");
	contacts_free(&cs);
}

static const char *device_state(const struct contacts *cs, const char *endpoint)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->c[i].uri && strcmp(cs->c[i].endpoint, endpoint) == 0 &&
		    (strcmp(cs->c[i].status, "Reachable") == 0 ||
		     strcmp(cs->c[i].status, "Avail") == 0))
			return "Not in use";
	return "Unavailable";
}

/* "aor/uri," for each contact of @endpoint (the form of EndpointList's Contacts). */
static void contact_list(const struct contacts *cs, const char *endpoint, bool comma,
			 struct sb *s)
{
	bool first = true;

	sb_addn(s, "", 0);
	for (size_t i = 0; i < cs->n; i++) {
		if (!cs->c[i].uri || strcmp(cs->c[i].endpoint, endpoint) != 0)
			continue;
		sb_add(s, "%s%s/%s%s", comma || first ? "" : ",", endpoint, cs->c[i].uri,
		       comma ? "," : "");
		first = false;
	}
}

void peer_pjsip_endpoints(struct peer *p, const struct req *r, struct sb *out)
{
	struct contacts cs;
	int items = 0;

	load_contacts(p, &cs);
	if (!cs.n) {
		send_error(out, r, "No endpoints found\n");
		contacts_free(&cs);
		return;
	}
	send_listack(out, r, "A listing of Endpoints follows, presented as EndpointList events");
	for (size_t i = 0; i < cs.n; i++) {
		const char *ep = cs.c[i].endpoint;
		struct sb list = { 0 };

		if (i > 0 && strcmp(cs.c[i - 1].endpoint, ep) == 0)
			continue;
		contact_list(&cs, ep, true, &list);
		sb_add(out, "Event: EndpointList\r\n");
		action_id(out, r);
		sb_add(out, "ObjectType: endpoint\r\nObjectName: %s\r\nTransport: transport-udp\r\n"
		       "Aor: %s\r\nAuths: %s\r\nOutboundAuths: \r\nContacts: %s\r\n"
		       "DeviceState: %s\r\nActiveChannels: 0\r\n\r\n",
		       ep, ep, ep, list.p, device_state(&cs, ep));
		sb_free(&list);
		items++;
	}
	send_list_complete(out, r, "EndpointListComplete", items);
	sb_add(out, "\r\n");
	contacts_free(&cs);
}

void peer_pjsip_endpoint(struct peer *p, const struct req *r, struct sb *out)
{
	const char *ep = req_get(r, "Endpoint");
	struct contacts cs;
	struct sb list = { 0 };
	bool known = false;
	int items = 2, registered = 0;

	if (!*ep) {
		send_error(out, r, "Endpoint parameter missing.");
		return;
	}
	load_contacts(p, &cs);
	for (size_t i = 0; i < cs.n; i++) {
		if (strcmp(cs.c[i].endpoint, ep) != 0)
			continue;
		known = true;
		registered += cs.c[i].uri != NULL;
	}
	if (!known) {
		char msg[512];

		/* Asterisk's text ends in a newline before the CRLF, as recorded. */
		snprintf(msg, sizeof(msg), "Unable to retrieve endpoint %s\n", ep);
		send_error(out, r, msg);
		contacts_free(&cs);
		return;
	}
	send_listack(out, r, "Following are Events for each object associated with the Endpoint");
	sb_add(out, "Event: EndpointDetail\r\n");
	action_id(out, r);
	sb_add(out, "ObjectType: endpoint\r\nObjectName: %s\r\nAors: %s\r\n"
	       "Transport: transport-udp\r\nAuth: %s\r\nDeviceState: %s\r\nActiveChannels: 0\r\n\r\n",
	       ep, ep, ep, device_state(&cs, ep));
	contact_list(&cs, ep, false, &list);
	sb_add(out, "Event: AorDetail\r\n");
	action_id(out, r);
	sb_add(out, "ObjectType: aor\r\nObjectName: %s\r\nMaxContacts: 1\r\nContacts: %s\r\n"
	       "TotalContacts: %d\r\nContactsRegistered: %d\r\nEndpointName: %s\r\n\r\n",
	       ep, list.p, registered, registered, ep);
	sb_free(&list);
	for (size_t i = 0; i < cs.n; i++) {
		const struct contact *c = &cs.c[i];
		char id[512], cid[128];

		if (!c->uri || strcmp(c->endpoint, ep) != 0)
			continue;
		contact_id(c, id, sizeof(id));
		call_id(c, cid, sizeof(cid));
		sb_add(out, "Event: ContactStatusDetail\r\n");
		action_id(out, r);
		sb_add(out, "AOR: %s\r\nURI: %s\r\nUserAgent: %s\r\nRegExpire: %ld\r\n"
		       "ViaAddress: %s:%d\r\nCallID: %s\r\nStatus: %s\r\nRoundtripUsec: %s\r\n"
		       "EndpointName: %s\r\nID: %s\r\nAuthenticateQualify: 0\r\nOutboundProxy: \r\n"
		       "Path: \r\nQualifyFrequency: 0\r\nQualifyTimeout: 3.000\r\n"
		       "Qualify2xxOnly: 0\r\n\r\n",
		       ep, c->uri, c->ua, expires(c), c->host, c->port, cid, c->status, c->rtt, ep,
		       id);
		items++;
	}
	send_list_complete(out, r, "EndpointDetailComplete", items);
	sb_add(out, "\r\n");
	contacts_free(&cs);
}

void peer_pjsip_registrations(struct peer *p, const struct req *r, struct sb *out)
{
	FILE *f = p->registrations ? fopen(p->registrations, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	int items = 0, registered = 0;

	send_listack(out, r, "Following are Events for each Outbound registration");
	while (f && getline(&line, &cap, f) >= 0) {
		char *save = NULL, *name, *server, *client, *status;

		line[strcspn(line, "\r\n")] = '\0';
		name = strtok_r(line, " \t", &save);
		if (!name || *name == '#')
			continue;
		server = strtok_r(NULL, " \t", &save);
		client = server ? strtok_r(NULL, " \t", &save) : NULL;
		status = client ? strtok_r(NULL, " \t", &save) : NULL;
		if (!status)
			continue;
		sb_add(out, "Event: OutboundRegistrationDetail\r\n");
		action_id(out, r);
		sb_add(out, "ObjectType: registration\r\nObjectName: %s\r\nClientUri: %s\r\n"
		       "ServerUri: %s\r\nEndpoint: %s\r\nTransport: transport-udp\r\n"
		       "OutboundAuth: %s\r\nExpiration: 3600\r\nStatus: %s\r\nNextReg: %d\r\n\r\n",
		       name, client, server, name, name, status,
		       strcmp(status, "Registered") == 0 ? 3300 : 60);
		items++;
		registered += strcmp(status, "Registered") == 0;
	}
	free(line);
	if (f)
		fclose(f);
	send_list_complete(out, r, "OutboundRegistrationDetailComplete", items);
	sb_add(out, "Registered: %d\r\nNotRegistered: %d\r\n\r\n", registered, items - registered);
}
