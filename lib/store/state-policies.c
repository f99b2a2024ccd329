/* SPDX-License-Identifier: MIT */
/*
 * The outbound policies of apply's desired state with their rules, and the users that
 * have a policy of their own (state-routing.c reads them).
 */
#include <stdlib.h>
#include <string.h>

#include "state-routing.h"

int pbx_state_fill_policies(struct pbx_state_routing *x, PGresult *res, PGresult *rules)
{
	int next = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_routing_tenant *t = pbx_state_find(x, pbx_state_val(res, i, 0));
		struct pbx_state_policy *p;
		size_t n = (size_t)atoi(pbx_state_val(res, i, 3));

		if (!t)
			continue;
		if (!t->policies && !(t->policies = calloc((size_t)PQntuples(res), sizeof(*t->policies))))
			return -1;
		p = &t->policies[t->n_policies++];
		p->id = atol(pbx_state_val(res, i, 1));
		p->name = pbx_state_val(res, i, 2);
		if (!(p->rules = calloc(n + 1, sizeof(*p->rules))))
			return -1;
		/* Rules come in the same order as policies (tenant, then policy name). */
		while (next < PQntuples(rules) && !strcmp(pbx_state_val(rules, next, 0), pbx_state_val(res, i, 1))) {
			struct pbx_policy_rule *r = &p->rules[p->n_rules];

			if (p->n_rules == n)
				break;
			r->pattern = pbx_state_val(rules, next, 1);
			r->allow = !strcmp(pbx_state_val(rules, next, 2), "allow");
			r->strip = atoi(pbx_state_val(rules, next, 3));
			r->prepend = pbx_state_val(rules, next, 4);
			if (!(r->trunks = pbx_state_split(x, pbx_state_val(rules, next, 5), &r->n_trunks)))
				return -1;
			p->n_rules++;
			next++;
		}
	}
	return 0;
}

int pbx_state_fill_assign(struct pbx_state_routing *x, PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_routing_tenant *t = pbx_state_find(x, pbx_state_val(res, i, 0));

		if (!t)
			continue;
		if (!t->assign && !(t->assign = calloc((size_t)PQntuples(res), sizeof(*t->assign))))
			return -1;
		t->assign[t->n_assign++] = (struct pbx_state_assign){ .username = pbx_state_val(res, i, 1),
								      .policy = pbx_state_val(res, i, 2) };
	}
	return 0;
}
