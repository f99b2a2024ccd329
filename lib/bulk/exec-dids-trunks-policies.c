/* SPDX-License-Identifier: MIT */
/*
 * Writing the routing part of a plan (DIDs, trunks, policies). Before users: trunks (a
 * policy rule names them) and policies with their rules (users name them); then the ids of
 * every policy of the file's tenants, for the users' policy_id. After users and devices:
 * DIDs (their destinations name users), the tenants' default policies, then what --prune
 * deletes, in the order the foreign keys allow (policies, whose rules name trunks, before
 * trunks), and last the "after" images of everything created or updated here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "plan.h"

static const char *v_of(const struct plan_routing *x, const struct pbx_schema *s, const char *key)
{
	return x->v[bulk_field(s, key)];
}

static const char *tenant_id(const struct bulk_plan *p, size_t pt)
{
	return pt == SIZE_MAX ? NULL : p->tenants[pt].id;
}

static int trunks(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_trunk;
	int sealed_col = PQfnumber(p->xst.trunks, "_sealed");

	for (size_t i = 0; i < p->n_routing[ROUTING_TRUNK]; i++) {
		struct plan_routing *x = &p->routing[ROUTING_TRUNK][i];
		const char *auth = v_of(x, s, "auth"), *sealed;
		const char *v[13];
		int r;

		if (x->op != OP_CREATE && x->op != OP_UPDATE)
			continue;
		/* Only a registration trunk keeps a secret: the new one, or the stored one. */
		sealed = auth && strcmp(auth, "registration") ? NULL : x->sealed ? x->sealed :
			 x->row >= 0 ? bulk_cell(p->xst.trunks, x->row, sealed_col) : NULL;
		v[0] = tenant_id(p, x->pt);
		v[1] = v_of(x, s, "name");
		v[2] = v_of(x, s, "host");
		v[3] = v_of(x, s, "port");
		v[4] = v_of(x, s, "transport");
		v[5] = auth;
		v[6] = v_of(x, s, "username");
		v[7] = sealed;
		v[8] = v_of(x, s, "match") ? v_of(x, s, "match") : "";
		v[9] = v_of(x, s, "codecs");
		v[10] = v_of(x, s, "callerid_mode");
		v[11] = v_of(x, s, "callerid");
		v[12] = v_of(x, s, "enabled");
		r = pbx_store_bulk_trunk_write(pg, x->op == OP_UPDATE ? x->id : NULL, v, x->id, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int policies(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_policy;

	for (size_t i = 0; i < p->n_routing[ROUTING_POLICY]; i++) {
		struct plan_routing *x = &p->routing[ROUTING_POLICY][i];
		struct pbx_store_bulk_batch rules = { .n_cols = 5 };
		const struct bulk_policy *fp;
		int r;

		if (x->op != OP_CREATE && x->op != OP_UPDATE)
			continue;
		fp = &p->doc->tenants[p->tenants[x->pt].fi].policies[x->fi];
		if (x->rules) {
			rules.n_rows = fp->n_rules;
			if (!(rules.cells = calloc(fp->n_rules * 5 + 1, sizeof(*rules.cells))))
				return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			for (size_t k = 0; k < fp->n_rules; k++) {
				const struct bulk_obj *o = &fp->rules[k].o;
				const char **c = rules.cells + k * 5;

				c[0] = bulk_get(o, "pattern");
				c[1] = bulk_get(o, "action");
				c[2] = bulk_get(o, "strip") ? bulk_get(o, "strip") : "0";
				c[3] = bulk_get(o, "prepend") ? bulk_get(o, "prepend") : "";
				c[4] = bulk_get(o, "trunks") ? bulk_get(o, "trunks") : "";
			}
		}
		r = pbx_store_bulk_policy_write(pg, x->op == OP_UPDATE ? x->id : NULL,
						tenant_id(p, x->pt), v_of(x, s, "name"),
						v_of(x, s, "description"), x->rules ? &rules : NULL,
						x->id, err);
		free((void *)rules.cells);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The ids of every policy of the file's tenants, for the users' policy_id. */
static int policy_ids(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const char **ids = calloc(p->n_tenants + 1, sizeof(*ids));
	PGresult *res = NULL;
	char *arr = NULL;
	int r = 0;

	if (!ids)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < p->n_tenants; i++)
		ids[i] = p->tenants[i].id;
	if (!(arr = pbx_store_bulk_array(ids, p->n_tenants)))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	else if (!(res = pbx_store_bulk_policy_ids(pg, arr, err)))
		r = err->code;
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		char pt[24] = "";
		const char *k, *id;

		for (size_t t = 0; t < p->n_tenants; t++)
			if (!strcmp(p->tenants[t].id, PQgetvalue(res, i, 0)))
				snprintf(pt, sizeof(pt), "%zu", t);
		k = bulk_key2(p, pt, PQgetvalue(res, i, 1));
		id = bulk_strdup(&p->arena, PQgetvalue(res, i, 2));
		if (!k || !id || bulk_map_put(&p->policy_ids, k, (size_t)(uintptr_t)id) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	PQclear(res);
	free(arr);
	free(ids);
	return r;
}

const char *bulk_policy_id(struct bulk_plan *p, size_t pt, const char *name)
{
	char key[96];
	size_t v;

	if (!name)
		return NULL;
	snprintf(key, sizeof(key), "%zu\x1f%s", pt, name);
	v = bulk_map_get(&p->policy_ids, key);
	return v == SIZE_MAX ? NULL : (const char *)(uintptr_t)v;
}

int bulk_exec_routing_before(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	int r = trunks(p, pg, err);

	if (r == 0)
		r = policies(p, pg, err);
	if (r == 0)
		r = policy_ids(p, pg, err);
	return r;
}

static int dids(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_did;
	int r = 0;

	/* Numbers that go first, then changes, then new ones. */
	for (int pass = 0; r == 0 && pass < 3; pass++) {
		for (size_t i = 0; r == 0 && i < p->n_routing[ROUTING_DID]; i++) {
			struct plan_routing *x = &p->routing[ROUTING_DID][i];
			const char *v[6] = { tenant_id(p, x->pt), v_of(x, s, "number"),
					     v_of(x, s, "label"), v_of(x, s, "provider"),
					     v_of(x, s, "destination"), v_of(x, s, "enabled") };

			if (pass == 0 && x->op == OP_DELETE)
				r = pbx_store_bulk_routing_delete(pg, "did", x->id, err);
			else if (pass == 1 && x->op == OP_UPDATE)
				r = pbx_store_bulk_did_write(pg, x->id, v, err);
			else if (pass == 2 && x->op == OP_CREATE)
				r = pbx_store_bulk_did_write(pg, NULL, v, err);
		}
	}
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
	int r = dids(p, pg, err);

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
