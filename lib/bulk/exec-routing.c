/* SPDX-License-Identifier: MIT */
/*
 * Writing the routing part of a plan (DIDs, trunks, policies). Before users: trunks (a
 * policy rule names them) and policies with their rules (users name them); then the ids of
 * every policy of the file's tenants, for the users' policy_id. After users and devices:
 * DIDs (their destinations name users), the tenants' default policies, then what --prune
 * deletes, in the order the foreign keys allow (policies, whose rules name trunks, before
 * trunks), and last the "after" images of everything created or updated here. Each
 * object's writes are in exec-trunks.c, exec-policies.c and exec-dids.c.
 */
#include <string.h>

#include "pbx/tenant.h"
#include "plan.h"

const char *bulk_xget(const struct plan_routing *x, const struct pbx_schema *s, const char *key)
{
	return x->v[bulk_field(s, key)];
}

const char *bulk_xtenant_id(const struct bulk_plan *p, size_t pt)
{
	return pt == SIZE_MAX ? NULL : p->tenants[pt].id;
}

int bulk_exec_routing_before(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	int r = bulk_exec_trunks(p, pg, err);

	if (r == 0)
		r = bulk_exec_policies(p, pg, err);
	if (r == 0)
		r = bulk_exec_policy_ids(p, pg, err);
	return r;
}

/* A tenant's value of field @k: now (in the database; NULL for a new tenant) and wanted. */
static bool tenant_moves(const struct bulk_plan *p, const struct plan_tenant *t, int k)
{
	const char *now = t->row >= 0 ? bulk_cell(p->st.tenants, t->row, p->tcol[k]) : NULL;
	const char *want = t->v ? t->v[k] : NULL;

	return (now == NULL) != (want == NULL) || (now && strcmp(now, want));
}

/* The tenants' references to what the import has just written: default policies, and the
 * emergency trunk and caller ID (before a pruned trunk goes). */
static int default_policies(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	int k = bulk_field(&pbx_schema_tenant, "default_policy"), r = 0;
	int et = bulk_field(&pbx_schema_tenant, "emergency_trunk");
	int ec = bulk_field(&pbx_schema_tenant, "emergency_callerid");

	for (size_t i = 0; r == 0 && i < p->n_tenants; i++) {
		const struct plan_tenant *t = &p->tenants[i];

		if (tenant_moves(p, t, k))
			r = pbx_store_bulk_tenant_policy(pg, t->id, t->v ? t->v[k] : NULL, err);
		if (r == 0 && t->v && (tenant_moves(p, t, et) || tenant_moves(p, t, ec)))
			r = pbx_store_bulk_tenant_emergency(pg, t->id, t->v[et], t->v[ec], err);
	}
	return r;
}

int bulk_exec_routing_after(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	int r = bulk_exec_dids(p, pg, err);

	if (r == 0)
		r = default_policies(p, pg, err);
	/* A pruned policy's rules may name a pruned trunk: policies go first. */
	for (int kind = ROUTING_POLICY; r == 0 && kind >= ROUTING_TRUNK; kind--)
		for (size_t i = 0; r == 0 && i < p->n_routing[kind]; i++)
			if (p->routing[kind][i].op == OP_DELETE)
				r = pbx_store_bulk_routing_delete(pg, kind == ROUTING_POLICY ? "policy" : "trunk",
								  p->routing[kind][i].id, err);
	if (r == 0)
		r = pbx_store_bulk_pending_images(pg, err);
	return r;
}
