/* SPDX-License-Identifier: MIT */
/*
 * Device registration status: the devices pbxctl knows (PostgreSQL) joined with the
 * contacts Asterisk holds (one PJSIPShowContacts for all of them, through the cache). A
 * device is registered while one of its contacts has an expiration time in the future:
 * Asterisk does not qualify realtime AORs and removes an expired contact only when its
 * periodic check runs, so the expiry, not the listing, decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/device.h"
#include "pbx/diag.h"
#include "pbx/realtime.h"
#include "diag-internal.h"

static const struct pbx_field status_fields[] = {
	{ "tenant", PBX_FT_STRING, 0, "tenant slug" },
	{ "user", PBX_FT_STRING, PBX_FIELD_DEFAULT, "owner's username" },
	{ "label", PBX_FT_STRING, PBX_FIELD_DEFAULT, "device label" },
	{ "sip_username", PBX_FT_STRING, 0, "SIP username = endpoint and AOR id" },
	{ "enabled", PBX_FT_BOOL, 0, "may register" },
	{ "state", PBX_FT_STRING, PBX_FIELD_DEFAULT, "registered or unregistered" },
	{ "contact", PBX_FT_STRING, 0, "contact URI; null when unregistered" },
	{ "source_address", PBX_FT_STRING, PBX_FIELD_DEFAULT, "address the registration came from" },
	{ "source_port", PBX_FT_INT, PBX_FIELD_DEFAULT, "port the registration came from" },
	{ "user_agent", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the phone's User-Agent" },
	{ "reachability", PBX_FT_STRING, 0, "Asterisk's contact status: NonQualified (realtime), Reachable, Unreachable" },
	{ "rtt_ms", PBX_FT_INT, 0, "qualify round trip in milliseconds; null when not qualified" },
	{ "expires", PBX_FT_TIME, PBX_FIELD_DEFAULT, "when the registration runs out" },
	{ "last_registration", PBX_FT_TIME, 0, "expires minus the " PBX_RT_AOR_EXPIRATION " s interval pbxctl sets (AMI reports no registration time)" },
	{ "checked_at", PBX_FT_TIME, 0, "when Asterisk was asked (cached up to 30 s)" },
};

const struct pbx_schema pbx_schema_device_status = {
	.name = "device_status",
	.fields = status_fields,
	.n_fields = sizeof(status_fields) / sizeof(status_fields[0]),
};

void diag_time(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf[0] = '\0';
}

bool diag_contact_live(const struct pbx_ami_contact *c, long long now)
{
	return c->expiration_time > now;
}

const struct pbx_ami_contact *diag_contact_of(const struct pbx_diag_pjsip *p, const char *id)
{
	const struct pbx_ami_contact *best = NULL;

	for (size_t i = 0; i < p->n_contacts; i++) {
		const struct pbx_ami_contact *c = &p->contacts[i];

		if (strcmp(c->aor, id) != 0 && strcmp(c->endpoint, id) != 0)
			continue;
		if (!best || c->expiration_time > best->expiration_time)
			best = c;
	}
	return best;
}

/* Fill row @row of @out from device row @i of @devs and the snapshot. */
static int add_row(struct pbx_rows *out, const struct pbx_rows *devs, size_t i,
		   const struct pbx_diag_pjsip *p, long long now, const char *state_filter)
{
	const char *id = pbx_rows_get(devs, i, "sip_username");
	const struct pbx_ami_contact *c = id ? diag_contact_of(p, id) : NULL;
	bool live = c && diag_contact_live(c, now);
	const char *state = live ? "registered" : "unregistered";
	char port[16], rtt[32], exp[32], last[32], checked[32];
	long row;
	int r = 0;

	if (state_filter && strcmp(state_filter, state) != 0)
		return 0;
	if ((row = pbx_rows_add(out)) < 0)
		return PBX_ERROR;
	diag_time(p->fetched, checked, sizeof(checked));
	r |= pbx_rows_set(out, (size_t)row, "tenant", pbx_rows_get(devs, i, "tenant"));
	r |= pbx_rows_set(out, (size_t)row, "user", pbx_rows_get(devs, i, "user"));
	r |= pbx_rows_set(out, (size_t)row, "label", pbx_rows_get(devs, i, "label"));
	r |= pbx_rows_set(out, (size_t)row, "sip_username", id);
	r |= pbx_rows_set(out, (size_t)row, "enabled", pbx_rows_get(devs, i, "enabled"));
	r |= pbx_rows_set(out, (size_t)row, "state", state);
	r |= pbx_rows_set(out, (size_t)row, "checked_at", checked);
	if (!live)
		return r ? PBX_ERROR : 0;
	snprintf(port, sizeof(port), "%d", c->via_port);
	snprintf(rtt, sizeof(rtt), "%lld", c->roundtrip_usec / 1000);
	diag_time(c->expiration_time, exp, sizeof(exp));
	diag_time(c->expiration_time - atoll(PBX_RT_AOR_EXPIRATION), last, sizeof(last));
	r |= pbx_rows_set(out, (size_t)row, "contact", c->uri);
	r |= pbx_rows_set(out, (size_t)row, "source_address", c->via_addr[0] ? c->via_addr : NULL);
	r |= pbx_rows_set(out, (size_t)row, "source_port", c->via_port ? port : NULL);
	r |= pbx_rows_set(out, (size_t)row, "user_agent", c->user_agent);
	r |= pbx_rows_set(out, (size_t)row, "reachability", c->status);
	r |= pbx_rows_set(out, (size_t)row, "rtt_ms", c->roundtrip_usec >= 0 ? rtt : NULL);
	r |= pbx_rows_set(out, (size_t)row, "expires", exp[0] ? exp : NULL);
	r |= pbx_rows_set(out, (size_t)row, "last_registration", last[0] ? last : NULL);
	return r ? PBX_ERROR : 0;
}

int pbx_diag_devices(pbx_ctx *ctx, const struct pbx_diag_device_query *q, struct pbx_rows *ret,
		     pbx_error *err)
{
	struct pbx_diag_pjsip p = { 0 };
	struct pbx_rows devs = { 0 }, out;
	long long now = (long long)time(NULL);
	int r;

	if (q->state && strcmp(q->state, "registered") && strcmp(q->state, "unregistered"))
		return pbx_errorf(err, PBX_EINVALID, "diag devices", "state",
				  "state must be registered or unregistered, not \"%s\"", q->state);
	if ((q->user || q->device) && !q->tenant)
		return pbx_errorf(err, PBX_EINVALID, "diag devices", "tenant",
				  "a user or device needs its tenant");
	pbx_rows_init(&out, &pbx_schema_device_status);
	/* One query for the devices the query names, of one tenant or of every tenant. */
	r = q->device ? pbx_device_show(ctx, q->tenant, q->user, q->device, false, &devs, err) :
			pbx_device_list(ctx, q->tenant, q->user, &devs, err);
	if (r < 0 || (r = pbx_diag_pjsip_load(ctx, q->refresh, &p, err)) < 0)
		goto cleanup;
	for (size_t i = 0; i < devs.n_rows && r == 0; i++)
		if (add_row(&out, &devs, i, &p, now, q->state) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
cleanup:
	pbx_device_rows_free(&devs);
	pbx_diag_pjsip_free(&p);
	if (r < 0) {
		pbx_rows_free(&out);
		return r;
	}
	*ret = out;
	return 0;
}
