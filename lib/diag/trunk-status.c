/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl trunk status` and `diag trunks`: what Asterisk says about each trunk, read over AMI
 * (through the status cache, lib/diag/cache.c). The outbound
 * registration comes from PJSIPShowRegistrationsOutbound (matched by the registration's
 * name, which is the trunk's endpoint id), reachability from PJSIPShowContacts (the
 * qualify status of the trunk's AOR contact).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/diag.h"
#include "pbx/trunk.h"
#include "ctx.h"

static const struct pbx_field status_fields[] = {
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT, "trunk name" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "owning tenant; null: global" },
	{ "endpoint", PBX_FT_STRING, 0, "Asterisk endpoint id" },
	{ "enabled", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "in service in pbxctl" },
	{ "auth", PBX_FT_STRING, 0, "registration or ip_auth" },
	{ "registration", PBX_FT_STRING, PBX_FIELD_DEFAULT, "Registered, Unregistered, Rejected, ...; null for ip_auth; missing when Asterisk has none" },
	{ "contact", PBX_FT_STRING, 0, "the contact Asterisk qualifies" },
	{ "reachability", PBX_FT_STRING, PBX_FIELD_DEFAULT, "Reachable, Unreachable, NonQualified, Unknown; missing when Asterisk has no contact" },
	{ "rtt_ms", PBX_FT_INT, PBX_FIELD_DEFAULT, "qualify round trip in milliseconds" },
};

const struct pbx_schema pbx_schema_trunk_status = {
	.name = "trunk_status",
	.fields = status_fields,
	.n_fields = sizeof(status_fields) / sizeof(status_fields[0]),
};

static int set(struct pbx_rows *rows, size_t row, const char *key, const char *v, pbx_error *err)
{
	if (pbx_rows_set(rows, row, key, v) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return 0;
}

static int trunk_status(pbx_ctx *ctx, const char *tenant, const char *trunk, bool refresh,
			struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_diag_pjsip p = { 0 };
	struct pbx_ami_registration *regs;
	struct pbx_ami_contact *contacts;
	size_t n_regs, n_contacts;
	struct pbx_rows trunks, rows;
	int r;

	pbx_rows_init(&rows, &pbx_schema_trunk_status);
	if (trunk)
		r = pbx_trunk_show(ctx, trunk, false, &trunks, err);
	else
		r = pbx_trunk_list(ctx, tenant, false, &trunks, err);
	if (r < 0)
		return r;
	/* One round trip for all trunks, shared with device status through the cache. */
	if ((r = pbx_diag_pjsip_load(ctx, refresh, &p, err)) < 0)
		goto cleanup;
	regs = p.regs;
	n_regs = p.n_regs;
	contacts = p.contacts;
	n_contacts = p.n_contacts;
	for (size_t i = 0; i < trunks.n_rows && r == 0; i++) {
		const char *ep = pbx_rows_get(&trunks, i, "endpoint");
		const char *auth = pbx_rows_get(&trunks, i, "auth");
		long row = pbx_rows_add(&rows);

		if (row < 0) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			break;
		}
		r = set(&rows, (size_t)row, "name", pbx_rows_get(&trunks, i, "name"), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "tenant", pbx_rows_get(&trunks, i, "tenant"), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "endpoint", ep, err);
		if (r == 0)
			r = set(&rows, (size_t)row, "enabled", pbx_rows_get(&trunks, i, "enabled"), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "auth", auth, err);
		for (size_t k = 0; r == 0 && auth && !strcmp(auth, "registration") && k < n_regs; k++)
			if (regs[k].name && ep && !strcmp(regs[k].name, ep))
				r = set(&rows, (size_t)row, "registration", regs[k].status, err);
		for (size_t k = 0; r == 0 && k < n_contacts; k++) {
			char rtt[32];

			if (!contacts[k].endpoint || !ep || strcmp(contacts[k].endpoint, ep)) {
				if (!contacts[k].aor || !ep || strcmp(contacts[k].aor, ep))
					continue;
			}
			r = set(&rows, (size_t)row, "contact", contacts[k].uri, err);
			if (r == 0)
				r = set(&rows, (size_t)row, "reachability", contacts[k].status, err);
			if (r == 0 && contacts[k].roundtrip_usec >= 0) {
				snprintf(rtt, sizeof(rtt), "%lld", contacts[k].roundtrip_usec / 1000);
				r = set(&rows, (size_t)row, "rtt_ms", rtt, err);
			}
			break;
		}
	}
cleanup:
	pbx_diag_pjsip_free(&p);
	pbx_rows_free(&trunks);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* `trunk status` always asks Asterisk (and refreshes the cache for everyone else). */
int pbx_trunk_status(pbx_ctx *ctx, const char *tenant, const char *trunk, struct pbx_rows *ret,
		     pbx_error *err)
{
	return trunk_status(ctx, tenant, trunk, true, ret, err);
}

int pbx_diag_trunks(pbx_ctx *ctx, const char *tenant, bool refresh, struct pbx_rows *ret,
		    pbx_error *err)
{
	return trunk_status(ctx, tenant, NULL, refresh, ret, err);
}
