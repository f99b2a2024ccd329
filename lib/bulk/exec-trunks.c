/* SPDX-License-Identifier: MIT */
/*
 * Writing the trunks of a plan, created or updated, before users (a policy rule names
 * them; exec-routing.c runs this).
 */
#include <string.h>

#include "pbx/trunk.h"
#include "plan.h"

int bulk_exec_trunks(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_trunk;
	int sealed_col = PQfnumber(p->xst.trunks, "_sealed");

	for (size_t i = 0; i < p->n_routing[ROUTING_TRUNK]; i++) {
		struct plan_routing *x = &p->routing[ROUTING_TRUNK][i];
		const char *auth = bulk_xget(x, s, "auth"), *sealed;
		const char *v[13];
		int r;

		if (x->op != OP_CREATE && x->op != OP_UPDATE)
			continue;
		/* Only a registration trunk keeps a secret: the new one, or the stored one. */
		sealed = auth && strcmp(auth, "registration") ? NULL : x->sealed ? x->sealed :
			 x->row >= 0 ? bulk_cell(p->xst.trunks, x->row, sealed_col) : NULL;
		v[0] = bulk_xtenant_id(p, x->pt);
		v[1] = bulk_xget(x, s, "name");
		v[2] = bulk_xget(x, s, "host");
		v[3] = bulk_xget(x, s, "port");
		v[4] = bulk_xget(x, s, "transport");
		v[5] = auth;
		v[6] = bulk_xget(x, s, "username");
		v[7] = sealed;
		v[8] = bulk_xget(x, s, "match") ? bulk_xget(x, s, "match") : "";
		v[9] = bulk_xget(x, s, "codecs");
		v[10] = bulk_xget(x, s, "callerid_mode");
		v[11] = bulk_xget(x, s, "callerid");
		v[12] = bulk_xget(x, s, "enabled");
		r = pbx_store_bulk_trunk_write(pg, x->op == OP_UPDATE ? x->id : NULL, v, x->id, err);
		if (r < 0)
			return r;
	}
	return 0;
}
