/* SPDX-License-Identifier: MIT */
/*
 * The checks that need no database for the routing objects of an import file:
 * phone numbers (DIDs), trunks (a tenant's own and global ones) and outbound policies with
 * their rules, each field against the rule the CLI applies (the lib check functions, so the
 * messages are the same), and duplicates of natural keys: a DID number and a trunk name
 * once in the whole file (both are unique across tenants), a policy name once per tenant.
 * Whether the trunks a rule names and the policies users name exist is the plan's question.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/trunk.h"
#include "pbx/valid.h"
#include "bulk-internal.h"

struct ex {
	struct bulk_report *rep;
	struct bulk_obj *o;
	char at[96];             /* "tenants[0].dids[1]" */
};

static void where(const struct ex *x, const char *key, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", x->at, key ? "." : "", key ? key : "");
}

static void problem(const struct ex *x, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(const struct ex *x, const char *key, const char *fmt, ...)
{
	char path[160], msg[PBX_ERR_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(x, key, path, sizeof(path));
	bulk_problem(x->rep, PBX_EINVALID, key ? bulk_vpos(x->o, key) : x->o->pos, path, "%s", msg);
}

static void lib_problem(const struct ex *x, const char *key, const pbx_error *e)
{
	char path[160];

	where(x, key, path, sizeof(path));
	bulk_problem_err(x->rep, bulk_vpos(x->o, key), path, e);
}

static const char *value(const struct ex *x, const char *key)
{
	return bulk_get(x->o, key);
}

static void required(const struct ex *x, const char *key, const char *what)
{
	int i = pbx_schema_index(x->o->schema, key);

	if (!bulk_has(x->o, i) && !(x->o->bad & (1u << i)))
		problem(x, NULL, "%s is required (%s)", key, what);
}

static void empty_is_null(const struct ex *x, const char *key)
{
	int i = pbx_schema_index(x->o->schema, key);

	if (bulk_has(x->o, i) && x->o->val[i] && !x->o->val[i][0])
		x->o->val[i] = NULL;
}

static void one_of(const struct ex *x, const char *key, const char *const *words, const char *say)
{
	const char *v = value(x, key);

	if (!v)
		return;
	for (; *words; words++)
		if (!strcmp(v, *words))
			return;
	problem(x, key, "%s must be %s", key, say);
}

static void text(const struct ex *x, const char *key, size_t max)
{
	empty_is_null(x, key);
	if (value(x, key) && !pbx_valid_text(value(x, key), max))
		problem(x, key, "%s must be 1 to %zu characters without control characters", key, max);
}

/* The "tenant" key of an object listed under a tenant: when given, that tenant's slug. */
static void owner(const struct ex *x, const char *slug)
{
	const char *v = value(x, "tenant");

	if (v && (!slug || strcmp(v, slug)))
		problem(x, "tenant", "tenant \"%s\" is not the %s this is listed under; objects move "
			"by listing them under their new owner", v,
			slug ? "tenant" : "top level (global trunks have tenant null)");
}

static void check_did(struct ex *x, const char *slug)
{
	pbx_error e = PBX_ERROR_INIT;
	char path[160];
	const char *v;

	where(x, NULL, path, sizeof(path));
	required(x, "number", "E.164, e.g. +15551230000");
	if ((v = value(x, "number")) && pbx_did_check_number(path, v, &e) < 0)
		lib_problem(x, "number", &e);
	owner(x, slug);
	text(x, "label", 64);
	text(x, "provider", 64);
	empty_is_null(x, "destination");
	if ((v = value(x, "destination")) && pbx_did_check_destination(path, "destination", v, &e) < 0)
		lib_problem(x, "destination", &e);
}

static void check_trunk(struct ex *x, const struct bulk_trunk *k, const char *slug)
{
	static const char *const transports[] = { "udp", "tcp", "tls", NULL };
	static const char *const auths[] = { "registration", "ip_auth", NULL };
	static const char *const modes[] = { "pass", "force", NULL };
	pbx_error e = PBX_ERROR_INIT;
	char path[160], ep[64];
	const char *v;

	where(x, NULL, path, sizeof(path));
	required(x, "name", "unique across tenants and global trunks");
	if ((v = value(x, "name"))) {
		if (pbx_trunk_check_name(path, v, &e) < 0)
			lib_problem(x, "name", &e);
		else if (pbx_trunk_endpoint(slug, v, ep, sizeof(ep), &e) < 0)
			lib_problem(x, "name", &e);
	}
	owner(x, slug);
	if ((v = value(x, "host")) && pbx_trunk_check_host(path, v, &e) < 0)
		lib_problem(x, "host", &e);
	if ((v = value(x, "port")) && (strlen(v) > 5 || atol(v) < 1 || atol(v) > 65535))
		problem(x, "port", "port must be 1 to 65535");
	one_of(x, "transport", transports, "udp, tcp or tls");
	one_of(x, "auth", auths, "registration or ip_auth");
	text(x, "username", 40);
	if (k->secret && *k->secret && (strlen(k->secret) > PBX_TRUNK_SECRET_MAX ||
					!pbx_valid_text(k->secret, PBX_TRUNK_SECRET_MAX)))
		bulk_problem(x->rep, PBX_EINVALID, k->secret_pos, path,
			     "secret must be 1 to 80 printable characters");
	if ((v = value(x, "match"))) {
		size_t n = 0;

		for (const char *p = v; *p; n++) {
			size_t len = strcspn(p, ",");
			char one[64];

			snprintf(one, sizeof(one), "%.*s", (int)(len < 63 ? len : 63), p);
			if (pbx_trunk_check_match(path, one, &e) < 0) {
				lib_problem(x, "match", &e);
				break;
			}
			p += len + (p[len] == ',');
		}
		if (n > PBX_TRUNK_MATCH_MAX)
			problem(x, "match", "match lists at most %d addresses", PBX_TRUNK_MATCH_MAX);
	}
	if ((v = value(x, "codecs")) && pbx_device_check_codecs(path, v, &e) < 0)
		lib_problem(x, "codecs", &e);
	one_of(x, "callerid_mode", modes, "pass or force");
	empty_is_null(x, "callerid");
	if ((v = value(x, "callerid"))) {
		size_t n = strlen(v), d = strspn(v + (v[0] == '+'), "0123456789");

		if (d != n - (v[0] == '+') || d < 2 || d > 20)
			problem(x, "callerid", "callerid \"%s\" must be 2 to 20 digits, optionally after +", v);
	}
}

static void check_rule(struct ex *x)
{
	static const char *const actions[] = { "allow", "block", NULL };
	pbx_error e = PBX_ERROR_INIT;
	char path[160];
	const char *v;

	where(x, NULL, path, sizeof(path));
	required(x, "pattern", "a POSIX extended regular expression");
	required(x, "action", "allow or block");
	if ((v = value(x, "pattern")) && pbx_policy_check_pattern(path, v, &e) < 0)
		lib_problem(x, "pattern", &e);
	one_of(x, "action", actions, "allow or block");
	if ((v = value(x, "strip")) && (strlen(v) > 2 || atoi(v) > PBX_POLICY_STRIP_MAX))
		problem(x, "strip", "strip must be 0 to %d", PBX_POLICY_STRIP_MAX);
	if ((v = value(x, "prepend")) && pbx_policy_check_prepend(path, v, &e) < 0)
		lib_problem(x, "prepend", &e);
	v = value(x, "trunks");
	if (value(x, "action") && !strcmp(value(x, "action"), "block") && v && *v)
		problem(x, "trunks", "a block rule takes no trunks");
	else if (value(x, "action") && !strcmp(value(x, "action"), "allow") && (!v || !*v))
		problem(x, "trunks", "an allow rule needs its trunks, tried in order");
	if (v && *v) {
		struct bulk_map seen = { .n = 0 };
		char names[PBX_BULK_MAX_VALUE + 1];
		size_t n = 0;

		snprintf(names, sizeof(names), "%s", v);
		for (char *p = strtok(names, ","); p; p = strtok(NULL, ","), n++) {
			if (pbx_trunk_check_name(path, p, &e) < 0) {
				lib_problem(x, "trunks", &e);
				break;
			}
			if (bulk_map_get(&seen, p) != SIZE_MAX)
				problem(x, "trunks", "trunk %s is listed twice in one rule", p);
			else if (bulk_map_put(&seen, p, n) < 0)
				x->rep->oom = true;
		}
		if (n > PBX_POLICY_MAX_TRUNKS)
			problem(x, "trunks", "a rule tries at most %d trunks", PBX_POLICY_MAX_TRUNKS);
		bulk_map_free(&seen);
	}
}

static void check_policy(struct ex *x, struct bulk_policy *p)
{
	pbx_error e = PBX_ERROR_INIT;
	char path[160];
	const char *v;

	where(x, NULL, path, sizeof(path));
	required(x, "name", "unique in the tenant");
	if ((v = value(x, "name")) && pbx_policy_check_name(path, v, &e) < 0)
		lib_problem(x, "name", &e);
	text(x, "description", 128);
	if (p->n_rules > PBX_POLICY_MAX_RULES)
		bulk_problem(x->rep, PBX_EINVALID, p->rules_pos, path, "%zu rules; a policy has at most %d",
			     p->n_rules, PBX_POLICY_MAX_RULES);
	for (size_t i = 0; i < p->n_rules; i++) {
		struct ex y = { .rep = x->rep, .o = &p->rules[i].o };

		if (y.o->broken)
			continue;
		snprintf(y.at, sizeof(y.at), "%.60s.rules[%zu]", x->at, i);
		check_rule(&y);
	}
}

/* A natural key unique in @map: the first place it was seen is named on a repeat. */
static void unique(const struct ex *x, struct bulk_map *map, struct bulk_arena *arena,
		   const char *key, const char *what)
{
	const char *v = value(x, key);
	size_t first;

	if (!v)
		return;
	first = bulk_map_get(map, v);
	if (first != SIZE_MAX) {
		problem(x, key, "%s %s is listed twice; first as %s", what, v,
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
		struct ex x = { .rep = rep, .o = &doc->trunks[i].o };

		if (x.o->broken)
			continue;
		snprintf(x.at, sizeof(x.at), "trunks[%zu]", i);
		check_trunk(&x, &doc->trunks[i], NULL);
		unique(&x, &trunks, &doc->arena, "name", "trunk");
	}
	for (size_t ti = 0; ti < doc->n_tenants; ti++) {
		struct bulk_tenant *t = &doc->tenants[ti];
		const char *slug = bulk_get(&t->o, "slug");
		struct bulk_map policies = { .n = 0 };

		if (t->o.broken)
			continue;
		for (size_t i = 0; i < t->n_dids; i++) {
			struct ex x = { .rep = rep, .o = &t->dids[i].o };

			if (x.o->broken)
				continue;
			snprintf(x.at, sizeof(x.at), "tenants[%zu].dids[%zu]", ti, i);
			check_did(&x, slug);
			unique(&x, &numbers, &doc->arena, "number", "number");
		}
		for (size_t i = 0; i < t->n_trunks; i++) {
			struct ex x = { .rep = rep, .o = &t->trunks[i].o };

			if (x.o->broken)
				continue;
			snprintf(x.at, sizeof(x.at), "tenants[%zu].trunks[%zu]", ti, i);
			check_trunk(&x, &t->trunks[i], slug ? slug : "x");
			unique(&x, &trunks, &doc->arena, "name", "trunk");
		}
		for (size_t i = 0; i < t->n_policies; i++) {
			struct ex x = { .rep = rep, .o = &t->policies[i].o };

			if (x.o->broken)
				continue;
			snprintf(x.at, sizeof(x.at), "tenants[%zu].policies[%zu]", ti, i);
			check_policy(&x, &t->policies[i]);
			unique(&x, &policies, &doc->arena, "name", "policy");
		}
		bulk_map_free(&policies);
	}
	bulk_map_free(&numbers);
	bulk_map_free(&trunks);
}
