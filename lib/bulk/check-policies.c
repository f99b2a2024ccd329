/* SPDX-License-Identifier: MIT */
/*
 * The checks that need no database of one outbound policy of an import file and its
 * rules (check-routing.c runs them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/policy.h"
#include "pbx/trunk.h"
#include "bulk-internal.h"

static void check_rule(struct bulk_ex *x)
{
	static const char *const actions[] = { "allow", "block", NULL };
	pbx_error e = PBX_ERROR_INIT;
	char path[160];
	const char *v;

	bulk_ex_where(x, NULL, path, sizeof(path));
	bulk_ex_required(x, "pattern", "a POSIX extended regular expression");
	bulk_ex_required(x, "action", "allow or block");
	if ((v = bulk_ex_value(x, "pattern")) && pbx_policy_check_pattern(path, v, &e) < 0)
		bulk_ex_lib_problem(x, "pattern", &e);
	bulk_ex_one_of(x, "action", actions, "allow or block");
	if ((v = bulk_ex_value(x, "strip")) && (strlen(v) > 2 || atoi(v) > PBX_POLICY_STRIP_MAX))
		bulk_ex_problem(x, "strip", "strip must be 0 to %d", PBX_POLICY_STRIP_MAX);
	if ((v = bulk_ex_value(x, "prepend")) && pbx_policy_check_prepend(path, v, &e) < 0)
		bulk_ex_lib_problem(x, "prepend", &e);
	v = bulk_ex_value(x, "trunks");
	if (bulk_ex_value(x, "action") && !strcmp(bulk_ex_value(x, "action"), "block") && v && *v)
		bulk_ex_problem(x, "trunks", "a block rule takes no trunks");
	else if (bulk_ex_value(x, "action") && !strcmp(bulk_ex_value(x, "action"), "allow") && (!v || !*v))
		bulk_ex_problem(x, "trunks", "an allow rule needs its trunks, tried in order");
	if (v && *v) {
		struct bulk_map seen = { .n = 0 };
		char names[PBX_BULK_MAX_VALUE + 1];
		size_t n = 0;

		snprintf(names, sizeof(names), "%s", v);
		for (char *p = strtok(names, ","); p; p = strtok(NULL, ","), n++) {
			if (pbx_trunk_check_name(path, p, &e) < 0) {
				bulk_ex_lib_problem(x, "trunks", &e);
				break;
			}
			if (bulk_map_get(&seen, p) != SIZE_MAX)
				bulk_ex_problem(x, "trunks", "trunk %s is listed twice in one rule", p);
			else if (bulk_map_put(&seen, p, n) < 0)
				x->rep->oom = true;
		}
		if (n > PBX_POLICY_MAX_TRUNKS)
			bulk_ex_problem(x, "trunks", "a rule tries at most %d trunks", PBX_POLICY_MAX_TRUNKS);
		bulk_map_free(&seen);
	}
}

void bulk_check_policy(struct bulk_ex *x, struct bulk_policy *p)
{
	pbx_error e = PBX_ERROR_INIT;
	char path[160];
	const char *v;

	bulk_ex_where(x, NULL, path, sizeof(path));
	bulk_ex_required(x, "name", "unique in the tenant");
	if ((v = bulk_ex_value(x, "name")) && pbx_policy_check_name(path, v, &e) < 0)
		bulk_ex_lib_problem(x, "name", &e);
	bulk_ex_text(x, "description", 128);
	if (p->n_rules > PBX_POLICY_MAX_RULES)
		bulk_problem(x->rep, PBX_EINVALID, p->rules_pos, path, "%zu rules; a policy has at most %d",
			     p->n_rules, PBX_POLICY_MAX_RULES);
	for (size_t i = 0; i < p->n_rules; i++) {
		struct bulk_ex y = { .rep = x->rep, .o = &p->rules[i].o };

		if (y.o->broken)
			continue;
		snprintf(y.at, sizeof(y.at), "%.60s.rules[%zu]", x->at, i);
		check_rule(&y);
	}
}
