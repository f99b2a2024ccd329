/* SPDX-License-Identifier: MIT */
/*
 * The plan of an import's outbound policies with their rules, matched by name within
 * their tenant; the rules are compared as a whole (plan-routing.c runs this).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "plan.h"

/* The rules of @fp as the store's _rules string (see pbx_store_bulk_load_routing). */
static const char *rules_key(struct bulk_plan *p, const struct bulk_policy *fp)
{
	struct pbx_store_bulk_buf b = { .p = NULL };
	const char *key;

	pbx_store_bulk_put(&b, "", 1);
	b.n = 0;
	for (size_t i = 0; i < fp->n_rules; i++) {
		const struct bulk_obj *o = &fp->rules[i].o;
		const char *f[5] = { bulk_get(o, "pattern"), bulk_get(o, "action"),
				     bulk_get(o, "strip") ? bulk_get(o, "strip") : "0",
				     bulk_get(o, "prepend") ? bulk_get(o, "prepend") : "",
				     bulk_get(o, "trunks") ? bulk_get(o, "trunks") : "" };

		if (i)
			pbx_store_bulk_put(&b, "\x1e", 1);
		for (int k = 0; k < 5; k++) {
			char num[16];

			if (k)
				pbx_store_bulk_put(&b, "\x1f", 1);
			if (k == 2) {
				/* "007" and "7" strip the same. */
				snprintf(num, sizeof(num), "%ld", strtol(f[k], NULL, 10));
				f[k] = num;
			}
			pbx_store_bulk_put(&b, f[k] ? f[k] : "", f[k] ? strlen(f[k]) : 0);
		}
	}
	pbx_store_bulk_put(&b, "", 1);
	key = b.oom ? NULL : bulk_strdup(&p->arena, b.p);
	free(b.p);
	return key;
}

int bulk_plan_policy(struct bulk_plan *p, size_t pt, size_t fi, const struct bulk_policy *fp,
		     struct bulk_map *rows, pbx_error *err)
{
	const PGresult *res = p->xst.policies;
	const char *name = bulk_get(&fp->o, "name");
	const char *k = name ? bulk_key2(p, p->tenants[pt].id, name) : NULL;
	size_t row = k && p->tenants[pt].id[0] ? bulk_map_get(rows, k) : SIZE_MAX;
	struct plan_routing *x;

	if (!(x = bulk_xadd(p, ROUTING_POLICY, pt, fi, row == SIZE_MAX ? -1 : (int)row)) ||
	    !(x->v = bulk_finals(p, &fp->o, res, x->row, p->xcol[ROUTING_POLICY], NULL)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	x->rules = fp->rules_given || x->row < 0;
	if (x->row < 0) {
		x->op = OP_CREATE;
		return 0;
	}
	bulk_xmentioned(p, ROUTING_POLICY, x->row);
	snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, x->row, PQfnumber(res, "id")));
	/* "rules" is compared as a whole, through the comparable string. */
	x->changed = bulk_diff(p, &pbx_schema_policy, x->v, res, x->row, p->xcol[ROUTING_POLICY],
			       "name,rules");
	if (fp->rules_given) {
		const char *mine = rules_key(p, fp), *theirs = bulk_cell(res, x->row, PQfnumber(res, "_rules"));

		if (!mine)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		if (strcmp(mine, theirs ? theirs : ""))
			x->changed = x->changed ? bulk_printf(&p->arena, "%s, rules", x->changed) : "rules";
		else
			x->rules = false;
	}
	x->op = x->changed ? OP_UPDATE : OP_NONE;
	return 0;
}

/* Whether plan tenant @pt will have policy @name. */
bool bulk_plan_has_policy(const struct bulk_plan *p, size_t pt, const char *name)
{
	for (size_t i = 0; i < p->n_routing[ROUTING_POLICY]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_POLICY][i];

		if (x->pt == pt && x->op != OP_DELETE && !strcmp(bulk_xval(x, ROUTING_POLICY, "name"), name))
			return true;
	}
	return false;
}
