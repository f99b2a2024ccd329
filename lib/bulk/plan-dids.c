/* SPDX-License-Identifier: MIT */
/*
 * The plan of an import's phone numbers (DIDs), matched by number (unique across
 * tenants): a DID listed under another tenant than its own moves there; and the check
 * that a destination names what its tenant will have (plan-routing.c runs both).
 */
#include <stdio.h>
#include <string.h>

#include "pbx/did.h"
#include "pbx/user.h"
#include "plan.h"

int bulk_plan_did(struct bulk_plan *p, size_t pt, size_t fi, const struct bulk_did *fd,
		  struct bulk_map *rows, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_did;
	const PGresult *res = p->xst.dids;
	const char *defaults[32] = { NULL }, *number = bulk_get(&fd->o, "number");
	size_t row = number ? bulk_map_get(rows, number) : SIZE_MAX;
	struct plan_routing *x;

	defaults[bulk_field(s, "enabled")] = "true";
	if (!(x = bulk_xadd(p, ROUTING_DID, pt, fi, row == SIZE_MAX ? -1 : (int)row)) ||
	    !(x->v = bulk_finals(p, &fd->o, res, x->row, p->xcol[ROUTING_DID], defaults)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	/* Listed under a tenant, it belongs to that tenant: a number can move. */
	x->v[bulk_field(s, "tenant")] = p->tenants[pt].slug;
	if (x->row < 0) {
		x->op = OP_CREATE;
		return 0;
	}
	bulk_xmentioned(p, ROUTING_DID, x->row);
	snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, x->row, PQfnumber(res, "id")));
	x->changed = bulk_diff(p, s, x->v, res, x->row, p->xcol[ROUTING_DID], "number");
	x->op = x->changed ? OP_UPDATE : OP_NONE;
	return 0;
}

/* A DID's destination must name what its tenant will have (as `did create` checks). */
int bulk_plan_destinations(struct bulk_plan *p, struct bulk_report *rep, pbx_error *err)
{
	int uname = bulk_field(&pbx_schema_user, "username"), ust = bulk_field(&pbx_schema_user, "status");
	int uext = bulk_field(&pbx_schema_user, "extension");
	int uvm = bulk_field(&pbx_schema_user, "voicemail");
	struct bulk_map live = { .n = 0 };
	char pt[24];
	int r = 0;

	/* What each tenant will have: "<pt>\x1fuser:NAME", "voicemail:NAME", "ext:N". */
	for (size_t k = 0; r == 0 && p->n_routing[ROUTING_DID] && k < p->n_users; k++) {
		const struct plan_user *u = &p->users[k];
		const char *keys[3];

		if (!strcmp(u->v[ust], "deleted"))
			continue;
		snprintf(pt, sizeof(pt), "%zu", u->pt);
		keys[0] = bulk_printf(&p->arena, "%s\x1fuser:%s", pt, u->v[uname]);
		keys[1] = !strcmp(u->v[uvm], "true") ?
			  bulk_printf(&p->arena, "%s\x1fvoicemail:%s", pt, u->v[uname]) : NULL;
		keys[2] = u->v[uext] ? bulk_printf(&p->arena, "%s\x1f" "ext:%s", pt, u->v[uext]) : NULL;
		for (int i = 0; i < 3 && r == 0; i++)
			if (keys[i] && bulk_map_put(&live, keys[i], k) < 0)
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	for (size_t i = 0; r == 0 && i < p->n_routing[ROUTING_DID]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_DID][i];
		const char *d = bulk_xval(x, ROUTING_DID, "destination"), *arg;
		char key[160], msg[256];

		if (x->fi == SIZE_MAX || !d || !strncmp(d, "external:", 9) || !(arg = strchr(d, ':')))
			continue;
		/* A destination the number already has is apply's to check (its user may have
		 * gone since): only a new or changed one is checked here. */
		if (x->op == OP_NONE || (x->op == OP_UPDATE && x->changed &&
					 !strstr(x->changed, "destination") && !strstr(x->changed, "tenant")))
			continue;
		snprintf(key, sizeof(key), "%zu\x1f%s", x->pt, d);
		if (bulk_map_get(&live, key) != SIZE_MAX)
			continue;
		snprintf(msg, sizeof(msg), "destination %s: %s has no %s %s", d, p->tenants[x->pt].slug,
			 !strncmp(d, "ext:", 4) ? "user on extension" :
			 !strncmp(d, "voicemail:", 10) ? "user with voicemail" : "user", arg + 1);
		bulk_xproblem(rep, p, ROUTING_DID, x, "destination", msg);
	}
	bulk_map_free(&live);
	return r;
}
