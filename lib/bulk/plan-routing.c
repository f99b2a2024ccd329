/* SPDX-License-Identifier: MIT */
/*
 * The plan of an import's routing objects: trunks (a tenant's own, or global),
 * outbound policies with their rules, and phone numbers (DIDs), matched by trunk name (unique
 * across tenants), policy name within its tenant and DID number (unique across tenants),
 * with the same rules as users: a key left out keeps its value, null clears, --prune
 * deletes what the file's tenants hold and the file does not list (global trunks are never
 * pruned). Every reference is checked against the final state: the trunks a rule names
 * (the tenant's own or global ones), the policies tenants and users name, the users and
 * extensions a DID's destination names. A DID listed under another tenant than its own
 * moves there; a trunk cannot change owner (its name makes its Asterisk endpoint).
 * This file holds the whole and what the three share; each object's plan is in
 * plan-trunks.c, plan-policies.c and plan-dids.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "plan.h"

static const struct pbx_schema *const schemas[ROUTING_N] = {
	&pbx_schema_did, &pbx_schema_trunk, &pbx_schema_policy,
};

struct plan_routing *bulk_xadd(struct bulk_plan *p, int kind, size_t pt, size_t fi, int row)
{
	struct plan_routing *x = bulk_push((void **)&p->routing[kind], &p->n_routing[kind],
					   &p->cap_routing[kind], sizeof(*x));

	if (x)
		*x = (struct plan_routing){ .pt = pt, .fi = fi, .row = row };
	return x;
}

/* The plan tenant of tenant id @id, or SIZE_MAX. */
size_t bulk_xtenant(const struct bulk_plan *p, const char *id)
{
	for (size_t i = 0; id && i < p->n_tenants; i++)
		if (p->tenants[i].id[0] && !strcmp(p->tenants[i].id, id))
			return i;
	return SIZE_MAX;
}

static void at_routing(char *buf, size_t n, const struct bulk_plan *p, int kind,
		       const struct plan_routing *x, const char *key)
{
	static const char *const lists[ROUTING_N] = { "dids", "trunks", "policies" };
	int k = x->pt == SIZE_MAX ? snprintf(buf, n, "trunks[%zu]", x->fi) :
		snprintf(buf, n, "tenants[%zu].%s[%zu]", p->tenants[x->pt].fi, lists[kind], x->fi);

	if (key && k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, ".%s", key);
}

/* The file object of a listed plan_routing. */
static const struct bulk_obj *file_obj(const struct bulk_plan *p, int kind, const struct plan_routing *x)
{
	const struct bulk_tenant *t = x->pt == SIZE_MAX ? NULL : &p->doc->tenants[p->tenants[x->pt].fi];

	if (kind == ROUTING_TRUNK)
		return t ? &t->trunks[x->fi].o : &p->doc->trunks[x->fi].o;
	return kind == ROUTING_DID ? &t->dids[x->fi].o : &t->policies[x->fi].o;
}

void bulk_xproblem(struct bulk_report *rep, const struct bulk_plan *p, int kind,
		   const struct plan_routing *x, const char *key, const char *msg)
{
	char path[160];
	const struct bulk_obj *o = file_obj(p, kind, x);

	at_routing(path, sizeof(path), p, kind, x, key);
	bulk_problem(rep, PBX_EINVALID, key ? bulk_vpos(o, key) : o->pos, path, "%s", msg);
}

void bulk_xmentioned(struct bulk_plan *p, int kind, int row)
{
	if (p->xseen[kind] && row >= 0)
		p->xseen[kind][row] = true;
}

const char *bulk_xval(const struct plan_routing *x, int kind, const char *key)
{
	return x->v[bulk_field(schemas[kind], key)];
}

/* ---- references in the final state ------------------------------------------------- */

static void check_refs(struct bulk_plan *p, struct bulk_report *rep)
{
	int tpol = bulk_field(&pbx_schema_tenant, "default_policy");
	int tem = bulk_field(&pbx_schema_tenant, "emergency_trunk");
	int upol = bulk_field(&pbx_schema_user, "policy"), ust = bulk_field(&pbx_schema_user, "status");
	char path[160], msg[256];

	for (size_t pt = 0; pt < p->n_tenants; pt++) {
		const struct plan_tenant *t = &p->tenants[pt];
		const struct bulk_tenant *ft = &p->doc->tenants[t->fi];

		if (t->v && t->v[tpol] && !bulk_plan_has_policy(p, pt, t->v[tpol])) {
			bulk_path(path, sizeof(path), t->fi, SIZE_MAX, SIZE_MAX, "default_policy");
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->o, "default_policy"), path,
				     "policy %s does not exist in %s%s", t->v[tpol], t->slug,
				     bulk_given(&ft->o, "default_policy") ? "" :
				     " (its default policy, which --prune would delete)");
		}
		if (t->v && t->v[tem] && !bulk_plan_has_trunk(p, pt, t->v[tem])) {
			bulk_path(path, sizeof(path), t->fi, SIZE_MAX, SIZE_MAX, "emergency_trunk");
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->o, "emergency_trunk"), path,
				     "tenant %s has no trunk %s, and no global trunk has that name%s",
				     t->slug, t->v[tem], bulk_given(&ft->o, "emergency_trunk") ? "" :
				     " (its emergency trunk, which --prune would delete)");
		}
	}
	for (size_t i = 0; i < p->n_users; i++) {
		const struct plan_user *u = &p->users[i];

		if (!u->v[upol] || !strcmp(u->v[ust], "deleted") || bulk_plan_has_policy(p, u->pt, u->v[upol]))
			continue;
		if (u->ui == SIZE_MAX) {
			const struct plan_tenant *t = &p->tenants[u->pt];

			bulk_path(path, sizeof(path), t->fi, SIZE_MAX, SIZE_MAX, "policies");
			bulk_problem(rep, PBX_EINVALID, p->doc->tenants[t->fi].o.pos, path,
				     "user %s (not in the file) uses policy %s, which --prune would delete",
				     u->v[bulk_field(&pbx_schema_user, "username")], u->v[upol]);
		} else {
			const struct bulk_user *fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];

			bulk_plan_path(path, sizeof(path), p, u, SIZE_MAX, "policy");
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&fu->o, "policy"), path,
				     "policy %s does not exist in %s%s", u->v[upol], p->tenants[u->pt].slug,
				     bulk_given(&fu->o, "policy") ? "" :
				     " (the user's own policy, which --prune would delete)");
		}
	}
	for (size_t i = 0; i < p->n_routing[ROUTING_POLICY]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_POLICY][i];
		const struct bulk_policy *fp;

		if (x->fi == SIZE_MAX || x->op == OP_DELETE)
			continue;
		fp = &p->doc->tenants[p->tenants[x->pt].fi].policies[x->fi];
		for (size_t r = 0; r < fp->n_rules; r++) {
			char names[PBX_BULK_MAX_VALUE + 1];
			const char *v = bulk_get(&fp->rules[r].o, "trunks");

			snprintf(names, sizeof(names), "%s", v ? v : "");
			for (char *n = strtok(names, ","); n; n = strtok(NULL, ",")) {
				if (bulk_plan_has_trunk(p, x->pt, n))
					continue;
				at_routing(path, sizeof(path), p, ROUTING_POLICY, x, NULL);
				snprintf(path + strlen(path), sizeof(path) - strlen(path),
					 ".rules[%zu].trunks", r);
				snprintf(msg, sizeof(msg), "trunk %s is neither %s's own nor a global "
					 "trunk (or --prune would delete it)", n, p->tenants[x->pt].slug);
				bulk_problem(rep, PBX_EINVALID, bulk_vpos(&fp->rules[r].o, "trunks"),
					     path, "%s", msg);
			}
		}
	}
}

/* ---- the whole ---------------------------------------------------------------------- */

/* Prune: what the file's tenants hold of @kind and the file does not list. */
static int prune_kind(struct bulk_plan *p, int kind, pbx_error *err)
{
	const PGresult *res = kind == ROUTING_DID ? p->xst.dids :
			      kind == ROUTING_TRUNK ? p->xst.trunks : p->xst.policies;
	int tcol = PQfnumber(res, "_tenant_id");

	for (int i = 0; i < PQntuples(res); i++) {
		size_t pt = bulk_xtenant(p, bulk_cell(res, i, tcol));
		struct plan_routing *x;

		if (p->xseen[kind][i] || pt == SIZE_MAX)
			continue;
		if (!(x = bulk_xadd(p, kind, pt, SIZE_MAX, i)) ||
		    !(x->v = bulk_alloc(&p->arena, schemas[kind]->n_fields * sizeof(*x->v))))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (size_t k = 0; k < schemas[kind]->n_fields; k++)
			x->v[k] = bulk_cell(res, i, p->xcol[kind][k]);
		snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, i, PQfnumber(res, "id")));
		x->op = OP_DELETE;
		p->xseen[kind][i] = true;
	}
	return 0;
}

/* What the file does not list and prune keeps still counts for the references. */
static int keep_kind(struct bulk_plan *p, int kind, pbx_error *err)
{
	const PGresult *res = kind == ROUTING_TRUNK ? p->xst.trunks : p->xst.policies;
	int tcol = PQfnumber(res, "_tenant_id");

	for (int i = 0; i < PQntuples(res); i++) {
		bool global = PQgetisnull(res, i, tcol);
		size_t pt = bulk_xtenant(p, bulk_cell(res, i, tcol));
		struct plan_routing *x;

		if (p->xseen[kind][i] || (!global && pt == SIZE_MAX))
			continue;
		if (!(x = bulk_xadd(p, kind, global ? SIZE_MAX : pt, SIZE_MAX, i)) ||
		    !(x->v = bulk_alloc(&p->arena, schemas[kind]->n_fields * sizeof(*x->v))))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (size_t k = 0; k < schemas[kind]->n_fields; k++)
			x->v[k] = bulk_cell(res, i, p->xcol[kind][k]);
		x->op = OP_NONE;
		p->xseen[kind][i] = true;
	}
	return 0;
}

int bulk_plan_routing(struct bulk_plan *p, pbx_ctx *ctx, bool prune, struct bulk_report *rep,
		      pbx_error *err)
{
	const PGresult *res[ROUTING_N] = { p->xst.dids, p->xst.trunks, p->xst.policies };
	struct bulk_map rows[ROUTING_N] = { { .n = 0 } };
	int r = 0;

	for (int kind = 0; kind < ROUTING_N; kind++) {
		bulk_columns(res[kind], schemas[kind], p->xcol[kind]);
		if (!(p->xseen[kind] = calloc((size_t)PQntuples(res[kind]) + 1, sizeof(bool))))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (int i = 0; i < PQntuples(res[kind]); i++) {
			const char *k = kind == ROUTING_DID ? PQgetvalue(res[kind], i, PQfnumber(res[kind], "number")) :
					kind == ROUTING_TRUNK ? PQgetvalue(res[kind], i, PQfnumber(res[kind], "name")) :
					bulk_key2(p, PQgetvalue(res[kind], i, PQfnumber(res[kind], "_tenant_id")),
						  PQgetvalue(res[kind], i, PQfnumber(res[kind], "name")));

			if (!k || bulk_map_put(&rows[kind], k, (size_t)i) < 0)
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
	}
	for (size_t i = 0; r == 0 && i < p->doc->n_trunks; i++)
		r = bulk_plan_trunk(p, ctx, SIZE_MAX, i, &p->doc->trunks[i], &rows[ROUTING_TRUNK], rep, err);
	for (size_t pt = 0; r == 0 && pt < p->n_tenants; pt++) {
		const struct bulk_tenant *ft = &p->doc->tenants[p->tenants[pt].fi];

		for (size_t i = 0; r == 0 && i < ft->n_trunks; i++)
			r = bulk_plan_trunk(p, ctx, pt, i, &ft->trunks[i], &rows[ROUTING_TRUNK], rep, err);
		for (size_t i = 0; r == 0 && i < ft->n_policies; i++)
			r = bulk_plan_policy(p, pt, i, &ft->policies[i], &rows[ROUTING_POLICY], err);
		for (size_t i = 0; r == 0 && i < ft->n_dids; i++)
			r = bulk_plan_did(p, pt, i, &ft->dids[i], &rows[ROUTING_DID], err);
	}
	for (int kind = 0; r == 0 && kind < ROUTING_N; kind++)
		if (prune && kind != ROUTING_TRUNK)
			r = prune_kind(p, kind, err);
	/* Global trunks are never pruned; a tenant's own are. */
	if (r == 0 && prune) {
		const PGresult *k = p->xst.trunks;

		for (int i = 0; i < PQntuples(k); i++)
			if (PQgetisnull(k, i, PQfnumber(k, "_tenant_id")))
				p->xseen[ROUTING_TRUNK][i] = true;
		r = prune_kind(p, ROUTING_TRUNK, err);
	}
	if (r == 0)
		r = keep_kind(p, ROUTING_TRUNK, err);
	if (r == 0)
		r = keep_kind(p, ROUTING_POLICY, err);
	if (r == 0) {
		check_refs(p, rep);
		r = bulk_plan_destinations(p, rep, err);
	}
	for (int kind = 0; kind < ROUTING_N; kind++)
		bulk_map_free(&rows[kind]);
	return r;
}
