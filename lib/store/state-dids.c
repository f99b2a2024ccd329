/* SPDX-License-Identifier: MIT */
/*
 * The phone numbers (DIDs) of apply's desired state, each under its tenant
 * (state-routing.c reads them).
 */
#include <stdlib.h>

#include "state-routing.h"

int pbx_state_fill_dids(struct pbx_state_routing *x, PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_routing_tenant *t = pbx_state_find(x, pbx_state_val(res, i, 0));
		struct pbx_state_did *d;

		if (!t)
			continue;
		if (!t->dids && !(t->dids = calloc((size_t)PQntuples(res), sizeof(*t->dids))))
			return -1;
		d = &t->dids[t->n_dids++];
		*d = (struct pbx_state_did){ .number = pbx_state_val(res, i, 1),
					     .label = pbx_state_val(res, i, 2),
					     .destination = pbx_state_val(res, i, 3),
					     .enabled = pbx_state_val(res, i, 4)[0] == 't' };
	}
	return 0;
}
