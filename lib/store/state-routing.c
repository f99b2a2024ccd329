/* SPDX-License-Identifier: MIT */
/*
 * Reading the routing part of apply's desired state (state-routing.h) inside
 * the snapshot pbx_state_load opened, so that DIDs, policies and the users they name agree.
 * With a tenant scope, the trunks read are the tenant's own, the global ones and any trunk
 * the tenant's rules name (even another tenant's, so apply can say whose it is); only
 * those whose rows this apply syncs have their secret opened. The statements, the
 * tenants and what the others share are here; state-dids.c, state-policies.c and
 * state-trunks.c fill in each object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/secret.h"
#include "pg.h"
#include "state-routing.h"

#define SCOPE "($1::text IS NULL OR t.slug = $1) "

enum { Q_SLUGS, Q_TENANTS, Q_DIDS, Q_POLICIES, Q_RULES, Q_ASSIGN, Q_TRUNKS };

static const char *const queries[] = {
	[Q_SLUGS] = "SELECT slug FROM tenants ORDER BY slug",
	[Q_TENANTS] = "SELECT t.slug, t.default_inbound, p.name, "
		"(SELECT k.name FROM trunks k WHERE k.id = t.emergency_trunk_id), t.emergency_callerid "
		"FROM tenants t "
		"LEFT JOIN policies p ON p.id = t.default_policy_id WHERE " SCOPE "ORDER BY t.slug",
	[Q_DIDS] = "SELECT t.slug, d.number, d.label, d.destination, d.enabled FROM dids d "
		"JOIN tenants t ON t.id = d.tenant_id WHERE " SCOPE "ORDER BY t.slug, d.number",
	[Q_POLICIES] = "SELECT t.slug, p.id::text, p.name, "
		"(SELECT count(*) FROM policy_rules r WHERE r.policy_id = p.id)::int FROM policies p "
		"JOIN tenants t ON t.id = p.tenant_id WHERE " SCOPE "ORDER BY t.slug, p.name",
	[Q_RULES] = "SELECT p.id::text, r.pattern, r.action, r.strip, r.prepend, "
		"array_to_string(ARRAY(SELECT k.name FROM policy_rule_trunks rt JOIN trunks k "
		"ON k.id = rt.trunk_id WHERE rt.rule_id = r.id ORDER BY rt.position), ',') "
		"FROM policy_rules r JOIN policies p ON p.id = r.policy_id "
		"JOIN tenants t ON t.id = p.tenant_id WHERE " SCOPE "ORDER BY t.slug, p.name, r.position",
	[Q_ASSIGN] = "SELECT t.slug, u.username, p.name FROM users u "
		"JOIN tenants t ON t.id = u.tenant_id JOIN policies p ON p.id = u.policy_id "
		"WHERE u.status <> 'deleted' AND " SCOPE "ORDER BY t.slug, u.username",
	[Q_TRUNKS] = "SELECT k.name, t.slug, k.host, k.port, k.transport, k.auth, k.username, "
		"k.secret_sealed, array_to_string(k.match, ','), array_to_string(k.codecs, ','), "
		"k.callerid_mode, k.callerid, k.enabled FROM trunks k "
		"LEFT JOIN tenants t ON t.id = k.tenant_id WHERE $1::text IS NULL "
		"OR k.tenant_id IS NULL OR t.slug = $1 OR k.id IN (SELECT rt.trunk_id "
		"FROM policy_rule_trunks rt JOIN policy_rules r ON r.id = rt.rule_id "
		"JOIN policies p ON p.id = r.policy_id JOIN tenants t2 ON t2.id = p.tenant_id "
		"WHERE t2.slug = $1) ORDER BY k.name",
};

const char *pbx_state_val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Split a copy of @list at ',' into a new array kept in @x; NULL on no memory. */
const char **pbx_state_split(struct pbx_state_routing *x, const char *list, size_t *n)
{
	char **bufs = realloc(x->bufs, (x->n_bufs + 2) * sizeof(*bufs));
	const char **v;
	char *copy, *save = NULL;
	size_t cap = 1;

	*n = 0;
	if (!bufs)
		return NULL;
	x->bufs = bufs;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	copy = strdup(list);
	v = calloc(cap + 1, sizeof(*v));
	x->bufs[x->n_bufs++] = copy;
	x->bufs[x->n_bufs++] = (char *)v;
	if (!copy || !v)
		return NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		v[(*n)++] = tok;
	return v;
}

struct pbx_state_routing_tenant *pbx_state_find(struct pbx_state_routing *x, const char *slug)
{
	for (size_t i = 0; i < x->n_tenants; i++)
		if (!strcmp(x->tenants[i].slug, slug))
			return &x->tenants[i];
	return NULL;
}

static int fill_tenants(struct pbx_state_routing *x)
{
	PGresult *res = x->res[Q_TENANTS];
	int n = PQntuples(res);

	if (!(x->tenants = calloc((size_t)n + 1, sizeof(*x->tenants))))
		return -1;
	for (int i = 0; i < n; i++) {
		struct pbx_state_routing_tenant *t = &x->tenants[x->n_tenants++];

		t->slug = pbx_state_val(res, i, 0);
		t->default_inbound = pbx_state_val(res, i, 1);
		t->default_policy = pbx_state_val(res, i, 2);
		t->emergency_trunk = pbx_state_val(res, i, 3);
		t->emergency_callerid = pbx_state_val(res, i, 4);
	}
	if (pbx_state_fill_dids(x, x->res[Q_DIDS]) < 0)
		return -1;
	return pbx_state_fill_assign(x, x->res[Q_ASSIGN]);
}

int pbx_state_routing_load(pbx_ctx *ctx, PGconn *pg, const char *tenant, bool open_secrets,
			   struct pbx_state *s, pbx_error *err)
{
	const char *p[1] = { tenant };
	struct pbx_state_routing *x = calloc(1, sizeof(*x));

	if (!x)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	s->routing = x;
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++)
		if (!(x->res[q] = pbx_pg_query(pg, queries[q], q == Q_SLUGS ? 0 : 1, p, "apply", err)))
			return err->code;
	if (!(x->slugs = calloc((size_t)PQntuples(x->res[Q_SLUGS]) + 1, sizeof(*x->slugs))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (int i = 0; i < PQntuples(x->res[Q_SLUGS]); i++)
		x->slugs[x->n_slugs++] = pbx_state_val(x->res[Q_SLUGS], i, 0);
	if (fill_tenants(x) < 0 ||
	    pbx_state_fill_policies(x, x->res[Q_POLICIES], x->res[Q_RULES]) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return pbx_state_fill_trunks(ctx, x, x->res[Q_TRUNKS], tenant, open_secrets, err);
}

void pbx_state_routing_free(struct pbx_state_routing *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_tenants; i++) {
		struct pbx_state_routing_tenant *t = &x->tenants[i];

		for (size_t k = 0; k < t->n_policies; k++)
			free(t->policies[k].rules);
		free(t->policies);
		free(t->dids);
		free(t->assign);
	}
	for (size_t i = 0; i < x->n_trunks; i++)
		pbx_secret_free_str(x->trunks[i].password);
	for (size_t i = 0; i < x->n_bufs; i++)
		free(x->bufs[i]);
	for (size_t i = 0; i < sizeof(x->res) / sizeof(x->res[0]); i++)
		PQclear(x->res[i]);
	free(x->bufs);
	free(x->trunks);
	free(x->tenants);
	free(x->slugs);
	free(x);
}
