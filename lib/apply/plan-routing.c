/* SPDX-License-Identifier: MIT */
/*
 * Routing in apply: the inbound and outbound dialplan of each tenant (appended to
 * the tenant's own file), the global inbound router file, and the trunks' realtime rows,
 * all from the snapshot pbx_state_load read. Validation happens in the generators: a DID
 * whose user was deleted, a policy naming a disabled or foreign trunk, a tenant whose users
 * could not reach an emergency number are apply errors of that tenant, reported with the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan-routes.h"
#include "pbx/policy.h"
#include "pbx/realtime.h"
#include "ctx.h"
#include "plan-routing.h"
#include "state-routing.h"

static const struct pbx_state_routing_tenant *routing_of(const struct pbx_state *st,
							 const char *slug)
{
	for (size_t i = 0; st->routing && i < st->routing->n_tenants; i++)
		if (!strcmp(st->routing->tenants[i].slug, slug))
			return &st->routing->tenants[i];
	return NULL;
}

static int inbound(const struct pbx_state_routing_tenant *x, const struct pbx_dp_tenant *m,
		   struct pbx_dp_file *ret, pbx_error *err)
{
	struct pbx_dp_did *dids = calloc(x->n_dids + 1, sizeof(*dids));
	struct pbx_dp_inbound in = { .tenant = m, .default_inbound = x->default_inbound,
				     .dids = dids, .n_dids = x->n_dids };
	int r;

	if (!dids)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < x->n_dids; i++)
		dids[i] = (struct pbx_dp_did){ .number = x->dids[i].number,
					       .label = x->dids[i].label,
					       .destination = x->dids[i].destination,
					       .enabled = x->dids[i].enabled };
	r = pbx_dialplan_inbound(&in, ret, err);
	free(dids);
	return r;
}

static int outbound(pbx_ctx *ctx, const struct pbx_state *st,
		    const struct pbx_state_routing_tenant *x, const struct pbx_state_tenant *t,
		    const struct pbx_dp_tenant *m, struct pbx_dp_file *ret, pbx_error *err)
{
	const struct pbx_state_routing *e = st->routing;
	struct pbx_dp_policy *pols = calloc(x->n_policies + 1, sizeof(*pols));
	struct pbx_dp_trunk *trunks = calloc(e->n_trunks + 1, sizeof(*trunks));
	const char **user_pol = calloc(t->n_users + 1, sizeof(*user_pol));
	struct pbx_dp_outbound out = { .tenant = m, .default_policy = x->default_policy,
				       .emergency_trunk = x->emergency_trunk,
				       .emergency_callerid = x->emergency_callerid };
	char **emergency = NULL;
	size_t n_emergency = 0;
	int r;

	if (!pols || !trunks || !user_pol) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	if ((r = pbx_policy_emergency_numbers(pbx_ctx_config(ctx)->emergency_numbers, &emergency,
					      &n_emergency, err)) < 0)
		goto cleanup;
	for (size_t i = 0; i < x->n_policies; i++)
		pols[i] = (struct pbx_dp_policy){ .id = x->policies[i].id, .name = x->policies[i].name,
						  .rules = x->policies[i].rules,
						  .n_rules = x->policies[i].n_rules };
	for (size_t i = 0; i < e->n_trunks; i++)
		trunks[i] = (struct pbx_dp_trunk){ .name = e->trunks[i].name,
						   .owner = e->trunks[i].owner,
						   .endpoint = e->trunks[i].endpoint,
						   .enabled = e->trunks[i].enabled,
						   .force_callerid = e->trunks[i].force_callerid,
						   .callerid = e->trunks[i].callerid };
	/* The model's users are the snapshot's, in the same order. */
	for (size_t i = 0; i < t->n_users; i++)
		for (size_t k = 0; k < x->n_assign; k++)
			if (!strcmp(x->assign[k].username, t->users[i].username))
				user_pol[i] = x->assign[k].policy;
	out.user_policies = user_pol;
	out.policies = pols;
	out.n_policies = x->n_policies;
	out.trunks = trunks;
	out.n_trunks = e->n_trunks;
	out.emergency = (const char *const *)emergency;
	out.n_emergency = n_emergency;
	r = pbx_dialplan_outbound(&out, ret, err);
cleanup:
	pbx_policy_strv_free(emergency);
	free(pols);
	free(trunks);
	free(user_pol);
	return r;
}

void pbx_apply_routing_tenant(pbx_ctx *ctx, const struct pbx_state *st,
			      const struct pbx_state_tenant *t, const struct pbx_dp_tenant *m,
			      struct pbx_dp_file *dp, pbx_diag *diag)
{
	const struct pbx_state_routing_tenant *x = routing_of(st, t->slug);
	struct pbx_dp_file in = PBX_DP_FILE_INIT, out = PBX_DP_FILE_INIT;
	pbx_error e = PBX_ERROR_INIT;

	if (!x)
		return;
	if (inbound(x, m, &in, &e) < 0 || pbx_dp_file_append(dp, &in, &e) < 0)
		pbx_diag_add(diag, &e);
	if (outbound(ctx, st, x, t, m, &out, &e) < 0 || pbx_dp_file_append(dp, &out, &e) < 0)
		pbx_diag_add(diag, &e);
	pbx_dp_file_free(&in);
	pbx_dp_file_free(&out);
}

void pbx_apply_routing_rows(const struct pbx_state *st, pbx_rt_rowset *set, pbx_diag *diag)
{
	for (size_t i = 0; st->routing && i < st->routing->n_trunks; i++) {
		const struct pbx_state_trunk *k = &st->routing->trunks[i];
		struct pbx_rt_trunk rt = {
			.id = k->endpoint, .owner = k->owner, .context = PBX_DP_INBOUND_CONTEXT,
			.host = k->host, .port = k->port, .transport = k->transport,
			.codecs = k->codecs, .n_codecs = k->n_codecs,
			.registration = k->registration, .username = k->username,
			.password = k->password, .match = k->match, .n_match = k->n_match,
		};
		pbx_error e = PBX_ERROR_INIT;

		/* A disabled trunk has no rows: Asterisk neither registers nor accepts it. */
		if (!k->sync || !k->enabled)
			continue;
		if (pbx_rt_rowset_add_trunk(set, &rt, &e) < 0)
			pbx_diag_add(diag, &e);
	}
}

int pbx_apply_routing_router(const struct pbx_state *st, const char *marker,
			     struct pbx_dp_file *ret, pbx_diag *diag)
{
	pbx_error e = PBX_ERROR_INIT;
	int r;

	if (!st->routing)
		return 0;
	r = pbx_dialplan_inbound_router(st->routing->slugs, st->routing->n_slugs, marker, ret, &e);
	if (r < 0)
		pbx_diag_add(diag, &e);
	return r;
}
