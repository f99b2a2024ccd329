/* SPDX-License-Identifier: MIT */
/*
 * The plan of an import's trunks, a tenant's own or global ones, matched by name
 * (unique across tenants); a trunk cannot change owner (its name makes its Asterisk
 * endpoint). A trunk secret the file repeats is compared with the stored one
 * (plan-routing.c runs this).
 */
#include <stdio.h>
#include <string.h>

#include "pbx/secret.h"
#include "pbx/trunk.h"
#include "ctx.h"
#include "plan.h"

static const char *slug_of(const struct bulk_plan *p, size_t pt)
{
	return pt == SIZE_MAX ? NULL : p->tenants[pt].slug;
}

int bulk_plan_trunk(struct bulk_plan *p, pbx_ctx *ctx, size_t pt, size_t fi,
		    const struct bulk_trunk *k, struct bulk_map *rows, struct bulk_report *rep,
		    pbx_error *err)
{
	static const char *const defaults_v[][2] = {
		{ "port", "5060" }, { "transport", "udp" }, { "codecs", "ulaw,alaw" },
		{ "callerid_mode", "pass" }, { "enabled", "true" }, { "match", "" },
	};
	const struct pbx_schema *s = &pbx_schema_trunk;
	const PGresult *res = p->xst.trunks;
	const char *defaults[32] = { NULL }, *name = bulk_get(&k->o, "name");
	size_t row = name ? bulk_map_get(rows, name) : SIZE_MAX;
	struct plan_routing *x;
	char msg[256];

	for (size_t i = 0; i < sizeof(defaults_v) / sizeof(defaults_v[0]); i++)
		defaults[bulk_field(s, defaults_v[i][0])] = defaults_v[i][1];
	if (!(x = bulk_xadd(p, ROUTING_TRUNK, pt, fi, row == SIZE_MAX ? -1 : (int)row)) ||
	    !(x->v = bulk_finals(p, &k->o, res, x->row, p->xcol[ROUTING_TRUNK], defaults)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	x->v[bulk_field(s, "tenant")] = slug_of(p, pt);
	if (x->row >= 0) {
		size_t owner = bulk_xtenant(p, bulk_cell(res, x->row, PQfnumber(res, "_tenant_id")));
		bool global = PQgetisnull(res, x->row, PQfnumber(res, "_tenant_id"));

		snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, x->row, PQfnumber(res, "id")));
		if (global != (pt == SIZE_MAX) || (!global && owner != pt)) {
			snprintf(msg, sizeof(msg), "trunk %s already exists %s%s; a trunk cannot change "
				 "owner (its name makes its Asterisk endpoint)", name,
				 global ? "as a global trunk" : "in tenant ",
				 global ? "" : PQgetvalue(res, x->row, PQfnumber(res, "tenant")));
			bulk_xproblem(rep, p, ROUTING_TRUNK, x, "name", msg);
			return 0;
		}
		bulk_xmentioned(p, ROUTING_TRUNK, x->row);
	}
	/* What a trunk needs, in its final state. */
	if (!bulk_xval(x, ROUTING_TRUNK, "host"))
		bulk_xproblem(rep, p, ROUTING_TRUNK, x, NULL, "host is required to create a trunk");
	if (!bulk_xval(x, ROUTING_TRUNK, "auth")) {
		bulk_xproblem(rep, p, ROUTING_TRUNK, x, NULL, "auth (registration or ip_auth) is required to "
			"create a trunk");
	} else if (!strcmp(bulk_xval(x, ROUTING_TRUNK, "auth"), "registration")) {
		bool stored = x->row >= 0 && !PQgetisnull(res, x->row, PQfnumber(res, "_sealed"));

		if (!bulk_xval(x, ROUTING_TRUNK, "username"))
			bulk_xproblem(rep, p, ROUTING_TRUNK, x, NULL, "a registration trunk needs a username");
		if ((!k->secret || !*k->secret) && !stored)
			bulk_xproblem(rep, p, ROUTING_TRUNK, x, NULL, "a registration trunk needs a secret; give "
				"it once (it is never exported)");
	} else if (!bulk_xval(x, ROUTING_TRUNK, "match") || !*bulk_xval(x, ROUTING_TRUNK, "match")) {
		bulk_xproblem(rep, p, ROUTING_TRUNK, x, NULL, "an ip_auth trunk needs match: the provider's "
			"addresses or networks");
	}
	if (bulk_xval(x, ROUTING_TRUNK, "callerid_mode") && !strcmp(bulk_xval(x, ROUTING_TRUNK, "callerid_mode"), "force") &&
	    !bulk_xval(x, ROUTING_TRUNK, "callerid"))
		bulk_xproblem(rep, p, ROUTING_TRUNK, x, NULL, "callerid_mode force needs the trunk's callerid");
	if (x->row < 0) {
		x->op = OP_CREATE;
		x->secret = k->secret && *k->secret ? k->secret : NULL;
		return 0;
	}
	x->changed = bulk_diff(p, s, x->v, res, x->row, p->xcol[ROUTING_TRUNK], "name,tenant");
	if (k->secret && *k->secret && bulk_xval(x, ROUTING_TRUNK, "auth") &&
	    !strcmp(bulk_xval(x, ROUTING_TRUNK, "auth"), "registration")) {
		const char *sealed = bulk_cell(res, x->row, PQfnumber(res, "_sealed"));
		char *plain = NULL;
		pbx_error ignored = PBX_ERROR_INIT;

		/* A secret the file repeats is kept; only a different one (or one this operator
		 * cannot open: it holds no private key) is a change. */
		if (!sealed || pbx_ctx_open_secret(ctx, sealed, &plain, &ignored) < 0 ||
		    strcmp(plain, k->secret)) {
			x->secret = k->secret;
			x->changed = x->changed ? bulk_printf(&p->arena, "%s, secret", x->changed) : "secret";
		}
		pbx_secret_free_str(plain);
	}
	x->op = x->changed ? OP_UPDATE : OP_NONE;
	return 0;
}

/* Whether a trunk @name exists in the final state for plan tenant @pt (its own or global). */
bool bulk_plan_has_trunk(const struct bulk_plan *p, size_t pt, const char *name)
{
	for (size_t i = 0; i < p->n_routing[ROUTING_TRUNK]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_TRUNK][i];

		if ((x->pt == pt || x->pt == SIZE_MAX) && x->op != OP_DELETE &&
		    !strcmp(bulk_xval(x, ROUTING_TRUNK, "name"), name))
			return true;
	}
	return false;
}
