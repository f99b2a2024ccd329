/* SPDX-License-Identifier: MIT */
/*
 * The trunks of apply's desired state; those whose rows this apply syncs have their
 * secret opened (state-routing.c reads them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "state-routing.h"

int pbx_state_fill_trunks(pbx_ctx *ctx, struct pbx_state_routing *x, PGresult *res,
			  const char *scope, bool open_secrets, pbx_error *err)
{
	int n = PQntuples(res), r = 0;

	if (!(x->trunks = calloc((size_t)n + 1, sizeof(*x->trunks))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (int i = 0; i < n && r == 0; i++) {
		struct pbx_state_trunk *k = &x->trunks[x->n_trunks++];

		k->name = pbx_state_val(res, i, 0);
		k->owner = pbx_state_val(res, i, 1);
		k->host = pbx_state_val(res, i, 2);
		k->port = atoi(pbx_state_val(res, i, 3));
		k->transport = pbx_state_val(res, i, 4);
		k->registration = !strcmp(pbx_state_val(res, i, 5), "registration");
		k->username = pbx_state_val(res, i, 6);
		k->force_callerid = !strcmp(pbx_state_val(res, i, 10), "force");
		k->callerid = pbx_state_val(res, i, 11);
		k->enabled = pbx_state_val(res, i, 12)[0] == 't';
		k->sync = !scope || (k->owner && !strcmp(k->owner, scope));
		snprintf(k->endpoint, sizeof(k->endpoint), "%s%strunk-%s", k->owner ? k->owner : "",
			 k->owner ? "-" : "", k->name);
		if (!(k->match = pbx_state_split(x, pbx_state_val(res, i, 8), &k->n_match)) ||
		    !(k->codecs = pbx_state_split(x, pbx_state_val(res, i, 9), &k->n_codecs)))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		if (open_secrets && k->sync && k->enabled && pbx_state_val(res, i, 7)) {
			if ((r = pbx_ctx_open_secret(ctx, pbx_state_val(res, i, 7), &k->password, err)) < 0) {
				snprintf(err->object, sizeof(err->object), "trunk %s", k->name);
				pbx_sanitize(err->object);
			}
		}
	}
	return r;
}
