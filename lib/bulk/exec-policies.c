/* SPDX-License-Identifier: MIT */
/*
 * Writing the policies of a plan with their rules, before users (users name them), then
 * the ids of every policy of the file's tenants, for the users' policy_id (exec-routing.c
 * runs these).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "plan.h"

int bulk_exec_policies(struct bulk_plan *p, PGconn *pg, pbx_error *err)
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
						bulk_xtenant_id(p, x->pt), bulk_xget(x, s, "name"),
						bulk_xget(x, s, "description"), x->rules ? &rules : NULL,
						x->id, err);
		free((void *)rules.cells);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The ids of every policy of the file's tenants, for the users' policy_id. */
int bulk_exec_policy_ids(struct bulk_plan *p, PGconn *pg, pbx_error *err)
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
