/* SPDX-License-Identifier: MIT */
/*
 * Writing the phone numbers (DIDs) of a plan, after users and devices (their destinations
 * name users): numbers that go first, then changes, then new ones (exec-routing.c runs
 * this).
 */
#include "pbx/did.h"
#include "plan.h"

int bulk_exec_dids(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_did;
	int r = 0;

	/* Numbers that go first, then changes, then new ones. */
	for (int pass = 0; r == 0 && pass < 3; pass++) {
		for (size_t i = 0; r == 0 && i < p->n_routing[ROUTING_DID]; i++) {
			struct plan_routing *x = &p->routing[ROUTING_DID][i];
			const char *v[6] = { bulk_xtenant_id(p, x->pt), bulk_xget(x, s, "number"),
					     bulk_xget(x, s, "label"), bulk_xget(x, s, "provider"),
					     bulk_xget(x, s, "destination"), bulk_xget(x, s, "enabled") };

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
