/* SPDX-License-Identifier: MIT */
/*
 * Reading the routing part of apply's desired state (state-dids-trunks-policies.h) inside
 * the snapshot pbx_state_load opened, so that DIDs, policies and the users they name agree.
 * With a tenant scope, the trunks read are the tenant's own, the global ones and any trunk
 * the tenant's rules name (even another tenant's, so apply can say whose it is); only
 * those whose rows this apply syncs have their secret opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/secret.h"
#include "ctx.h"
#include "pg.h"
#include "state-dids-trunks-policies.h"

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

static const char *val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Split a copy of @list at ',' into a new array kept in @x; NULL on no memory. */
static const char **split(struct pbx_state_routing *x, const char *list, size_t *n)
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

static struct pbx_state_routing_tenant *find(struct pbx_state_routing *x, const char *slug)
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

		t->slug = val(res, i, 0);
		t->default_inbound = val(res, i, 1);
		t->default_policy = val(res, i, 2);
		t->emergency_trunk = val(res, i, 3);
		t->emergency_callerid = val(res, i, 4);
	}
	res = x->res[Q_DIDS];
	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_routing_tenant *t = find(x, val(res, i, 0));
		struct pbx_state_did *d;

		if (!t)
			continue;
		if (!t->dids && !(t->dids = calloc((size_t)PQntuples(res), sizeof(*t->dids))))
			return -1;
		d = &t->dids[t->n_dids++];
		*d = (struct pbx_state_did){ .number = val(res, i, 1), .label = val(res, i, 2),
					     .destination = val(res, i, 3),
					     .enabled = val(res, i, 4)[0] == 't' };
	}
	res = x->res[Q_ASSIGN];
	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_routing_tenant *t = find(x, val(res, i, 0));

		if (!t)
			continue;
		if (!t->assign && !(t->assign = calloc((size_t)PQntuples(res), sizeof(*t->assign))))
			return -1;
		t->assign[t->n_assign++] = (struct pbx_state_assign){ .username = val(res, i, 1),
								      .policy = val(res, i, 2) };
	}
	return 0;
}

static int fill_policies(struct pbx_state_routing *x)
{
	PGresult *res = x->res[Q_POLICIES], *rules = x->res[Q_RULES];
	int next = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_routing_tenant *t = find(x, val(res, i, 0));
		struct pbx_state_policy *p;
		size_t n = (size_t)atoi(val(res, i, 3));

		if (!t)
			continue;
		if (!t->policies && !(t->policies = calloc((size_t)PQntuples(res), sizeof(*t->policies))))
			return -1;
		p = &t->policies[t->n_policies++];
		p->id = atol(val(res, i, 1));
		p->name = val(res, i, 2);
		if (!(p->rules = calloc(n + 1, sizeof(*p->rules))))
			return -1;
		/* Rules come in the same order as policies (tenant, then policy name). */
		while (next < PQntuples(rules) && !strcmp(val(rules, next, 0), val(res, i, 1))) {
			struct pbx_policy_rule *r = &p->rules[p->n_rules];

			if (p->n_rules == n)
				break;
			r->pattern = val(rules, next, 1);
			r->allow = !strcmp(val(rules, next, 2), "allow");
			r->strip = atoi(val(rules, next, 3));
			r->prepend = val(rules, next, 4);
			if (!(r->trunks = split(x, val(rules, next, 5), &r->n_trunks)))
				return -1;
			p->n_rules++;
			next++;
		}
	}
	return 0;
}

static int fill_trunks(pbx_ctx *ctx, struct pbx_state_routing *x, const char *scope,
		       bool open_secrets, pbx_error *err)
{
	PGresult *res = x->res[Q_TRUNKS];
	int n = PQntuples(res), r = 0;

	if (!(x->trunks = calloc((size_t)n + 1, sizeof(*x->trunks))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (int i = 0; i < n && r == 0; i++) {
		struct pbx_state_trunk *k = &x->trunks[x->n_trunks++];

		k->name = val(res, i, 0);
		k->owner = val(res, i, 1);
		k->host = val(res, i, 2);
		k->port = atoi(val(res, i, 3));
		k->transport = val(res, i, 4);
		k->registration = !strcmp(val(res, i, 5), "registration");
		k->username = val(res, i, 6);
		k->force_callerid = !strcmp(val(res, i, 10), "force");
		k->callerid = val(res, i, 11);
		k->enabled = val(res, i, 12)[0] == 't';
		k->sync = !scope || (k->owner && !strcmp(k->owner, scope));
		snprintf(k->endpoint, sizeof(k->endpoint), "%s%strunk-%s", k->owner ? k->owner : "",
			 k->owner ? "-" : "", k->name);
		if (!(k->match = split(x, val(res, i, 8), &k->n_match)) ||
		    !(k->codecs = split(x, val(res, i, 9), &k->n_codecs)))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		if (open_secrets && k->sync && k->enabled && val(res, i, 7)) {
			if ((r = pbx_ctx_open_secret(ctx, val(res, i, 7), &k->password, err)) < 0) {
				snprintf(err->object, sizeof(err->object), "trunk %s", k->name);
				pbx_sanitize(err->object);
			}
		}
	}
	return r;
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
		x->slugs[x->n_slugs++] = val(x->res[Q_SLUGS], i, 0);
	if (fill_tenants(x) < 0 || fill_policies(x) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return fill_trunks(ctx, x, tenant, open_secrets, err);
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
