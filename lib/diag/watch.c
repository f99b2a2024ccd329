/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl diag watch`: Asterisk's live events (ContactStatus, Registry, DeviceStateChange,
 * FullyBooted, Reload, UserEvent) as rows, one callback per event. A session logged in with
 * events; a Ping every 200 ms lets the client read what arrived. When Asterisk goes away
 * (restart), it reconnects with a doubling backoff (250 ms to 8 s) until *stop is set.
 * With a tenant, only that tenant's events pass: endpoint events are matched exactly
 * against the endpoints pbxctl gave the tenant (never by prefix: "acme-" is also the start
 * of tenant "acme-eu"'s names), UserEvents by their Tenant header; Registry events carry
 * only the provider's URIs, so they are shown unfiltered only. FullyBooted and Reload
 * concern everyone and are always shown. A platform admin's watch (with the private key)
 * also hands self-service UserEvents to pbx_selfservice_consume, as the apply worker does,
 * whatever the tenant filter shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/ami.h"
#include "pbx/device.h"
#include "pbx/diag.h"
#include "pbx/operator.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "pbx/trunk.h"
#include "ctx.h"
#include "diag-internal.h"

static const struct pbx_field event_fields[] = {
	{ "time", PBX_FT_TIME, PBX_FIELD_DEFAULT, "when pbxctl received it" },
	{ "event", PBX_FT_STRING, PBX_FIELD_DEFAULT, "ContactStatus, Registry, DeviceStateChange, FullyBooted, Reload, UserEvent" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the tenant it concerns; null when unknown or global" },
	{ "object", PBX_FT_STRING, PBX_FIELD_DEFAULT, "endpoint/AOR, device, module, or user event name" },
	{ "state", PBX_FT_STRING, PBX_FIELD_DEFAULT, "ContactStatus, State, Status" },
	{ "detail", PBX_FT_STRING, PBX_FIELD_DEFAULT, "URI, cause, or the user event's own headers" },
};

const struct pbx_schema pbx_schema_event = {
	.name = "event",
	.fields = event_fields,
	.n_fields = sizeof(event_fields) / sizeof(event_fields[0]),
};

struct watch {
	pbx_ctx *ctx;
	const char *tenant;
	char **endpoints;       /* the tenant's endpoint ids */
	size_t n_endpoints;
	pbx_diag_event_fn *fn;
	void *ud;
	bool selfservice;       /* a platform admin's watch: phones' changes into PostgreSQL */
	int r;                  /* the callback's last non-zero answer stops the watch */
};

static bool own_endpoint(const struct watch *w, const char *id)
{
	for (size_t i = 0; id && i < w->n_endpoints; i++)
		if (!strcmp(w->endpoints[i], id))
			return true;
	return false;
}

static void endpoints_free(struct watch *w)
{
	for (size_t i = 0; i < w->n_endpoints; i++)
		free(w->endpoints[i]);
	free(w->endpoints);
	w->endpoints = NULL;
	w->n_endpoints = 0;
}

static int add_column(struct watch *w, const struct pbx_rows *rows, const char *key)
{
	char **p = realloc(w->endpoints, (w->n_endpoints + rows->n_rows + 1) * sizeof(*p));

	if (!p)
		return PBX_ERROR;
	w->endpoints = p;
	for (size_t i = 0; i < rows->n_rows; i++) {
		const char *v = pbx_rows_get(rows, i, key);

		if (v && !(w->endpoints[w->n_endpoints] = strdup(v)))
			return PBX_ERROR;
		w->n_endpoints += v != NULL;
	}
	return 0;
}

/* The tenant's device and trunk endpoints, read again at every (re)connection. */
static int load_endpoints(pbx_ctx *ctx, struct watch *w, pbx_error *err)
{
	struct pbx_rows rows;
	int r;

	endpoints_free(w);
	if (!w->tenant)
		return 0;
	if ((r = pbx_device_list(ctx, w->tenant, NULL, &rows, err)) < 0)
		return r;
	r = add_column(w, &rows, "sip_username");
	pbx_device_rows_free(&rows);
	if (r == 0 && (r = pbx_trunk_list(ctx, w->tenant, false, &rows, err)) == 0) {
		r = add_column(w, &rows, "endpoint");
		pbx_rows_free(&rows);
	}
	return r == PBX_ERROR ? pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory") : r;
}

/* "Key=Value" for the headers of a UserEvent after its name, space-separated. */
static void user_headers(const struct pbx_ami_msg *m, char *buf, size_t n)
{
	static const char *const skip[] = { "Event", "Privilege", "UserEvent", "ActionID",
					    "Channel", "ChannelState", "ChannelStateDesc",
					    "CallerIDNum", "CallerIDName", "ConnectedLineNum",
					    "ConnectedLineName", "Language", "AccountCode", "Context",
					    "Exten", "Priority", "Uniqueid", "Linkedid", "Tenant" };
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->n_headers && len < n; i++) {
		bool drop = false;

		for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]) && !drop; k++)
			drop = !strcasecmp(m->headers[i].key, skip[k]);
		if (!drop)
			len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", len ? " " : "",
						m->headers[i].key, m->headers[i].value);
	}
}

/* Webhooks: a device's contact removed or unreachable, a trunk registration's change. */
static void notify(struct watch *w, const char *ev, const char *tenant, const char *object,
		   const char *state, const char *detail)
{
	const char *kv[] = { "tenant", tenant, "object", object, "state", state, "detail", detail,
			     NULL };

	if (!strcmp(ev, "ContactStatus") && state &&
	    (!strcmp(state, "Removed") || !strcmp(state, "Unreachable")))
		pbx_notify_fields(w->ctx, "device.unregistered", kv);
	else if (!strcmp(ev, "Registry"))
		pbx_notify_fields(w->ctx, "trunk.registration", kv);
}

static void on_event(const struct pbx_ami_msg *m, void *ud)
{
	struct watch *w = ud;
	const char *ev = pbx_ami_msg_get(m, "Event"), *tenant = NULL, *object = NULL,
		   *state = NULL, *detail = NULL;
	char buf[1024], when[32], dev[256];
	struct pbx_rows row;
	bool mine;

	if (!ev || w->r)
		return;
	if (!strcmp(ev, "ContactStatus")) {
		object = pbx_ami_msg_get(m, "AOR");
		state = pbx_ami_msg_get(m, "ContactStatus");
		detail = pbx_ami_msg_get(m, "URI");
		mine = own_endpoint(w, object) || own_endpoint(w, pbx_ami_msg_get(m, "EndpointName"));
	} else if (!strcmp(ev, "DeviceStateChange")) {
		const char *d = pbx_ami_msg_get(m, "Device");

		snprintf(dev, sizeof(dev), "%s", d && !strncmp(d, "PJSIP/", 6) ? d + 6 : d ? d : "");
		object = dev;
		state = pbx_ami_msg_get(m, "State");
		mine = own_endpoint(w, dev);
	} else if (!strcmp(ev, "Registry")) {
		object = pbx_ami_msg_get(m, "Username");
		state = pbx_ami_msg_get(m, "Status");
		detail = pbx_ami_msg_get(m, "Cause");
		mine = false;
	} else if (!strcmp(ev, "UserEvent")) {
		if (w->selfservice)
			pbx_selfservice_consume(w->ctx, m);
		tenant = pbx_ami_msg_get(m, "Tenant");
		object = pbx_ami_msg_get(m, "UserEvent");
		user_headers(m, buf, sizeof(buf));
		detail = buf;
		mine = tenant && w->tenant && !strcmp(tenant, w->tenant);
	} else if (!strcmp(ev, "FullyBooted") || !strcmp(ev, "Reload")) {
		object = pbx_ami_msg_get(m, "Module");
		state = pbx_ami_msg_get(m, "Status");
		mine = true;
	} else {
		return;
	}
	if (w->tenant && !mine)
		return;
	if (w->tenant && mine && strcmp(ev, "FullyBooted") && strcmp(ev, "Reload"))
		tenant = w->tenant;
	notify(w, ev, tenant, object, state, detail);
	diag_time((long long)time(NULL), when, sizeof(when));
	pbx_rows_init(&row, &pbx_schema_event);
	if (pbx_rows_add(&row) < 0 || pbx_rows_set(&row, 0, "time", when) < 0 ||
	    pbx_rows_set(&row, 0, "event", ev) < 0 || pbx_rows_set(&row, 0, "tenant", tenant) < 0 ||
	    pbx_rows_set(&row, 0, "object", object) < 0 || pbx_rows_set(&row, 0, "state", state) < 0 ||
	    pbx_rows_set(&row, 0, "detail", detail) < 0)
		w->r = PBX_ERROR;
	else
		w->r = w->fn(&row, w->ud);
	pbx_rows_free(&row);
}

/* The privileged side (a platform admin holding the private key) takes phones' changes. */
static bool privileged(pbx_ctx *ctx)
{
	pbx_error e = PBX_ERROR_INIT;
	pbx_secret_key *key = pbx_ctx_key(ctx, &e);
	struct pbx_operator op;

	return key && pbx_secret_key_can_open(key) && pbx_operator_whoami(ctx, &op, &e) == 0 &&
	       !strcmp(op.role, "platform_admin");
}

/* Sleep @ms in slices, returning early once *stop is set. */
static void nap(int ms, volatile sig_atomic_t *stop)
{
	for (int left = ms; left > 0 && !*stop; left -= 50) {
		struct timespec ts = { 0, (left < 50 ? left : 50) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

int pbx_diag_watch(pbx_ctx *ctx, const char *tenant, volatile sig_atomic_t *stop,
		   pbx_diag_event_fn *fn, void *ud, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_ami_config ac = {
		.host = cfg->ami_host, .port = cfg->ami_port, .username = cfg->ami_username,
		.secret = cfg->ami_secret, .timeout_ms = cfg->ami_timeout_ms, .md5 = cfg->ami_md5,
		.events = "system,call,reporting,user",
	};
	struct watch w = { .ctx = ctx, .tenant = tenant, .fn = fn, .ud = ud };
	int backoff = 250, r = 0;

	w.selfservice = privileged(ctx);

	while (!*stop && !w.r) {
		pbx_error e = PBX_ERROR_INIT;
		pbx_ami *ami;

		if ((r = load_endpoints(ctx, &w, err)) < 0)
			break;
		if ((r = pbx_ami_connect(&ac, &ami, &e)) < 0) {
			if (r == PBX_EPERM) {
				*err = e;
				break;
			}
			pbx_log(ctx, PBX_LOG_WARN, "%s; retrying in %d ms", e.message, backoff);
			nap(backoff, stop);
			backoff = backoff < 4000 ? backoff * 2 : 8000;
			r = 0;
			continue;
		}
		backoff = 250;
		pbx_log(ctx, PBX_LOG_INFO, "watching Asterisk's events");
		pbx_ami_set_event_cb(ami, on_event, &w);
		while (!*stop && !w.r) {
			if (pbx_ami_ping(ami, &e) < 0) {
				pbx_log(ctx, PBX_LOG_WARN, "lost Asterisk (%s); reconnecting", e.message);
				break;
			}
			nap(200, stop);
		}
		pbx_ami_set_event_cb(ami, NULL, NULL);
		pbx_ami_close(ami);
	}
	endpoints_free(&w);
	if (r == 0 && w.r < 0)
		r = pbx_errorf(err, w.r, NULL, NULL, "writing the events failed");
	return r;
}
