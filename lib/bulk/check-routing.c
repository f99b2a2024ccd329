/* SPDX-License-Identifier: MIT */
/*
 * The checks that need no database for the routing objects of an import file: the loop
 * over phone numbers (DIDs), trunks (a tenant's own and global ones) and outbound policies,
 * the helpers their checks share (bulk-internal.h), and duplicates of natural keys: a DID
 * number and a trunk name once in the whole file (both are unique across tenants), a policy
 * name once per tenant. Each object's fields are checked in check-dids.c, check-trunks.c and
 * check-policies.c against the rule the CLI applies (the lib check functions, so the
 * messages are the same). Whether the trunks a rule names and the policies users name exist
 * is the plan's question.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pbx/valid.h"
#include "bulk-internal.h"

void bulk_ex_where(const struct bulk_ex *x, const char *key, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", x->at, key ? "." : "", key ? key : "");
}

void bulk_ex_problem(const struct bulk_ex *x, const char *key, const char *fmt, ...)
{
	char path[160], msg[PBX_ERR_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bulk_ex_where(x, key, path, sizeof(path));
	bulk_problem(x->rep, PBX_EINVALID, key ? bulk_vpos(x->o, key) : x->o->pos, path, "%s", msg);
}

void bulk_ex_lib_problem(const struct bulk_ex *x, const char *key, const pbx_error *e)
{
	char path[160];

	bulk_ex_where(x, key, path, sizeof(path));
	bulk_problem_err(x->rep, bulk_vpos(x->o, key), path, e);
}

const char *bulk_ex_value(const struct bulk_ex *x, const char *key)
{
	return bulk_get(x->o, key);
}

void bulk_ex_required(const struct bulk_ex *x, const char *key, const char *what)
{
	int i = pbx_schema_index(x->o->schema, key);

	if (!bulk_has(x->o, i) && !(x->o->bad & (1u << i)))
		bulk_ex_problem(x, NULL, "%s is required (%s)", key, what);
}

void bulk_ex_empty_is_null(const struct bulk_ex *x, const char *key)
{
	int i = pbx_schema_index(x->o->schema, key);

	if (bulk_has(x->o, i) && x->o->val[i] && !x->o->val[i][0])
		x->o->val[i] = NULL;
}

void bulk_ex_one_of(const struct bulk_ex *x, const char *key, const char *const *words,
		    const char *say)
{
	const char *v = bulk_ex_value(x, key);

	if (!v)
		return;
	for (; *words; words++)
		if (!strcmp(v, *words))
			return;
	bulk_ex_problem(x, key, "%s must be %s", key, say);
}

void bulk_ex_text(const struct bulk_ex *x, const char *key, size_t max)
{
	bulk_ex_empty_is_null(x, key);
	if (bulk_ex_value(x, key) && !pbx_valid_text(bulk_ex_value(x, key), max))
		bulk_ex_problem(x, key, "%s must be 1 to %zu characters without control characters", key, max);
}

void bulk_ex_owner(const struct bulk_ex *x, const char *slug)
{
	const char *v = bulk_ex_value(x, "tenant");

	if (v && (!slug || strcmp(v, slug)))
		bulk_ex_problem(x, "tenant", "tenant \"%s\" is not the %s this is listed under; objects move "
			"by listing them under their new owner", v,
			slug ? "tenant" : "top level (global trunks have tenant null)");
}

/* A natural key unique in @map: the first place it was seen is named on a repeat. */
static void unique(const struct bulk_ex *x, struct bulk_map *map, struct bulk_arena *arena,
		   const char *key, const char *what)
{
	const char *v = bulk_ex_value(x, key);
	size_t first;

	if (!v)
		return;
	first = bulk_map_get(map, v);
	if (first != SIZE_MAX) {
		bulk_ex_problem(x, key, "%s %s is listed twice; first as %s", what, v,
			(const char *)(uintptr_t)first);
		return;
	}
	/* The map's value is the first path, kept in the arena. */
	if (bulk_map_put(map, v, (size_t)(uintptr_t)bulk_strdup(arena, x->at)) < 0)
		x->rep->oom = true;
}

void bulk_check_routing(struct pbx_bulk_doc *doc, struct bulk_report *rep)
{
	struct bulk_map numbers = { .n = 0 }, trunks = { .n = 0 };

	for (size_t i = 0; i < doc->n_trunks; i++) {
		struct bulk_ex x = { .rep = rep, .o = &doc->trunks[i].o };

		if (x.o->broken)
			continue;
		snprintf(x.at, sizeof(x.at), "trunks[%zu]", i);
		bulk_check_trunk(&x, &doc->trunks[i], NULL);
		unique(&x, &trunks, &doc->arena, "name", "trunk");
	}
	for (size_t ti = 0; ti < doc->n_tenants; ti++) {
		struct bulk_tenant *t = &doc->tenants[ti];
		const char *slug = bulk_get(&t->o, "slug");
		struct bulk_map policies = { .n = 0 };

		if (t->o.broken)
			continue;
		for (size_t i = 0; i < t->n_dids; i++) {
			struct bulk_ex x = { .rep = rep, .o = &t->dids[i].o };

			if (x.o->broken)
				continue;
			snprintf(x.at, sizeof(x.at), "tenants[%zu].dids[%zu]", ti, i);
			bulk_check_did(&x, slug);
			unique(&x, &numbers, &doc->arena, "number", "number");
		}
		for (size_t i = 0; i < t->n_trunks; i++) {
			struct bulk_ex x = { .rep = rep, .o = &t->trunks[i].o };

			if (x.o->broken)
				continue;
			snprintf(x.at, sizeof(x.at), "tenants[%zu].trunks[%zu]", ti, i);
			bulk_check_trunk(&x, &t->trunks[i], slug ? slug : "x");
			unique(&x, &trunks, &doc->arena, "name", "trunk");
		}
		for (size_t i = 0; i < t->n_policies; i++) {
			struct bulk_ex x = { .rep = rep, .o = &t->policies[i].o };

			if (x.o->broken)
				continue;
			snprintf(x.at, sizeof(x.at), "tenants[%zu].policies[%zu]", ti, i);
			bulk_check_policy(&x, &t->policies[i]);
			unique(&x, &policies, &doc->arena, "name", "policy");
		}
		bulk_map_free(&policies);
	}
	bulk_map_free(&numbers);
	bulk_map_free(&trunks);
}
