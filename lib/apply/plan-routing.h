/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/apply: routing (DIDs, trunks, policies) in the plan (plan-routing.c). plan.c
 * calls these while it builds each tenant's artifacts and the desired realtime rows.
 */
#ifndef PBX_APPLY_PLAN_ROUTING_H
#define PBX_APPLY_PLAN_ROUTING_H

#include "pbx/dialplan.h"
#include "pbx/pbx.h"
#include "pbx/realtime.h"
#include "state.h"

/*
 * Generate tenant @t's "<slug>-inbound", "<slug>-outbound" and policy contexts from the
 * snapshot and append them to @dp, its dialplan file (@m is the model @dp was generated
 * from). Problems go to @diag (the DID, trunk or policy named), warnings to the log.
 */
void pbx_apply_routing_tenant(pbx_ctx *ctx, const struct pbx_state *st,
			      const struct pbx_state_tenant *t, const struct pbx_dp_tenant *m,
			      struct pbx_dp_file *dp, pbx_diag *diag);

/* Add the realtime rows of every trunk this apply syncs (its scope's) to @set. */
void pbx_apply_routing_rows(const struct pbx_state *st, pbx_rt_rowset *set, pbx_diag *diag);

/* Generate the global inbound router file; on failure the problem goes to @diag. */
int pbx_apply_routing_router(const struct pbx_state *st, const char *marker,
			     struct pbx_dp_file *ret, pbx_diag *diag);

#endif
