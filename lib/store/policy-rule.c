/* SPDX-License-Identifier: MIT */
/*
 * The rules of outbound policies: add one at a position (its pattern compiled first, its
 * trunks checked to exist and to be the tenant's own or global), remove one, list them, and
 * `policy test`, which runs the same rule engine as apply's checks and the generator. A rule
 * change is an update of its policy in the audit log (the image holds every rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan-routes.h"
#include "pbx/policy.h"
#include "change.h"
#include "ctx.h"
#include "pg.h"
#include "policy-internal.h"

static const struct pbx_field rule_fields[] = {
	{ "policy", PBX_FT_STRING, PBX_FIELD_READONLY, "policy name" },
	{ "position", PBX_FT_INT, PBX_FIELD_DEFAULT, "1 is tried first" },
	{ "pattern", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "POSIX extended regular expression" },
	{ "action", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "allow or block" },
	{ "strip", PBX_FT_INT, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "leading characters removed" },
	{ "prepend", PBX_FT_STRING, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "put in front afterwards" },
	{ "trunks", PBX_FT_LIST, PBX_FIELD_DEFAULT | PBX_FIELD_EXPORT, "tried in this order" },
	{ "asterisk", PBX_FT_LIST, PBX_FIELD_READONLY, "the exact Asterisk patterns; empty: matched with REGEX()" },
};

const struct pbx_schema pbx_schema_policy_rule = STORE_SCHEMA("policy_rule", rule_fields);

static const struct pbx_field test_fields[] = {
	{ "policy", PBX_FT_STRING, PBX_FIELD_DEFAULT, "policy name" },
	{ "number", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the number tested" },
	{ "result", PBX_FT_STRING, PBX_FIELD_DEFAULT, "allowed or blocked" },
	{ "rule", PBX_FT_INT, PBX_FIELD_DEFAULT, "position of the deciding rule; null: no rule matched" },
	{ "pattern", PBX_FT_STRING, PBX_FIELD_DEFAULT, "its pattern" },
	{ "dial", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the number sent to the trunks (allowed only)" },
	{ "trunks", PBX_FT_LIST, PBX_FIELD_DEFAULT, "the trunks in the order they are tried" },
	{ "emergency", PBX_FT_BOOL, 0, "the number is an emergency number" },
};

const struct pbx_schema pbx_schema_policy_test = STORE_SCHEMA("policy_test", test_fields);

#define RULES_SQL \
	"SELECT r.position::text, r.pattern, r.action, r.strip::text, r.prepend, " \
	"array_to_string(ARRAY(SELECT k.name FROM policy_rule_trunks rt JOIN trunks k " \
	"ON k.id = rt.trunk_id WHERE rt.rule_id = r.id ORDER BY rt.position), ',') " \
	"FROM policy_rules r WHERE r.policy_id = $1::bigint ORDER BY r.position"

int policy_rules_load(PGconn *pg, const char *id, struct policy_rules *ret, pbx_error *err)
{
	const char *p[1] = { id };
	struct policy_rules pr = { .res = pbx_pg_query(pg, RULES_SQL, 1, p, "policy", err) };
	size_t ntrunks = 0;

	if (!pr.res)
		return err->code;
	pr.n = (size_t)PQntuples(pr.res);
	for (size_t i = 0; i < pr.n; i++)
		ntrunks += 1 + strlen(PQgetvalue(pr.res, (int)i, 5));
	pr.rules = calloc(pr.n + 1, sizeof(*pr.rules));
	pr.trunk_names = calloc(pr.n + 1, sizeof(*pr.trunk_names));
	pr.trunk_ptrs = calloc(ntrunks + 1, sizeof(*pr.trunk_ptrs));
	if (!pr.rules || !pr.trunk_names || !pr.trunk_ptrs)
		goto oom;
	for (size_t i = 0, k = 0; i < pr.n; i++) {
		struct pbx_policy_rule *r = &pr.rules[i];
		char *names;

		r->pattern = PQgetvalue(pr.res, (int)i, 1);
		r->allow = !strcmp(PQgetvalue(pr.res, (int)i, 2), "allow");
		r->strip = atoi(PQgetvalue(pr.res, (int)i, 3));
		r->prepend = PQgetvalue(pr.res, (int)i, 4);
		r->trunks = &pr.trunk_ptrs[k];
		if (!(names = pr.trunk_names[i] = strdup(PQgetvalue(pr.res, (int)i, 5))))
			goto oom;
		for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			pr.trunk_ptrs[k++] = tok;
			r->n_trunks++;
		}
	}
	*ret = pr;
	return 0;
oom:
	policy_rules_free(&pr);
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
}

void policy_rules_free(struct policy_rules *pr)
{
	for (size_t i = 0; pr->trunk_names && i < pr->n; i++)
		free(pr->trunk_names[i]);
	free(pr->trunk_names);
	free(pr->trunk_ptrs);
	free(pr->rules);
	PQclear(pr->res);
	*pr = (struct policy_rules){ .rules = NULL };
}

void policy_warn_emergency(pbx_ctx *ctx, PGconn *pg, const char *id, const char *name,
			   const char *slug)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct policy_rules pr;
	pbx_error e = PBX_ERROR_INIT;
	char **numbers = NULL;
	size_t n = 0;

	if (pbx_policy_emergency_numbers(cfg->emergency_numbers, &numbers, &n, &e) < 0) {
		pbx_log(ctx, PBX_LOG_WARN, "%s", e.message);
		return;
	}
	if (policy_rules_load(pg, id, &pr, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct pbx_policy_verdict v;

			if (pbx_policy_evaluate(pr.rules, pr.n, numbers[i], &v, &e) == 0 && !v.allowed)
				pbx_log(ctx, PBX_LOG_WARN,
					"policy %s of tenant %s blocks the emergency number %s; "
					"its callers reach it only through the tenant's emergency "
					"trunk, and apply refuses the tenant without one", name,
					slug, numbers[i]);
		}
		policy_rules_free(&pr);
	}
	pbx_policy_strv_free(numbers);
}

/* Check the trunks of a rule; fills @ids with their ids, in order. */
static int resolve_trunks(pbx_ctx *ctx, PGconn *pg, const struct store_tenant *t,
			  const char *object, const char *list, char ids[][24], size_t *n,
			  pbx_error *err)
{
	const char *p = list;

	*n = 0;
	while (p && *p) {
		size_t len = strcspn(p, ",");
		char name[40];
		const char *q[1] = { name };
		PGresult *res;

		if (len == 0 || len >= sizeof(name))
			return pbx_errorf(err, PBX_EINVALID, object, "trunks",
					  "trunks must be a comma-separated list of trunk names");
		if (*n == PBX_POLICY_MAX_TRUNKS)
			return pbx_errorf(err, PBX_EINVALID, object, "trunks",
					  "a rule names at most %d trunks", PBX_POLICY_MAX_TRUNKS);
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		res = pbx_pg_query(pg, "SELECT k.id::text, t.slug, k.enabled, k.tenant_id::text "
				   "FROM trunks k LEFT JOIN tenants t ON t.id = k.tenant_id "
				   "WHERE k.name = $1", 1, q, object, err);
		if (!res)
			return err->code;
		if (PQntuples(res) != 1) {
			PQclear(res);
			return pbx_errorf(err, PBX_ENOTFOUND, object, "trunks",
					  "trunk %s does not exist", name);
		}
		if (!PQgetisnull(res, 0, 3) && strcmp(PQgetvalue(res, 0, 3), t->id)) {
			int r = pbx_errorf(err, PBX_EINVALID, object, "trunks",
					   "trunk %s belongs to tenant %s; a policy may use only its "
					   "tenant's own trunks and global ones", name,
					   PQgetvalue(res, 0, 1));

			PQclear(res);
			return r;
		}
		if (strcmp(PQgetvalue(res, 0, 2), "t"))
			pbx_log(ctx, PBX_LOG_WARN, "trunk %s is disabled; apply refuses this policy "
				"until it is enabled", name);
		snprintf(ids[*n], 24, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(ids[i], ids[*n]))
				return pbx_errorf(err, PBX_EINVALID, object, "trunks",
						  "trunk %s is listed twice", name);
		(*n)++;
		p += len + (p[len] == ',');
	}
	return 0;
}

/* Begin, find the tenant and lock the policy with its image. */
static int begin_change(pbx_ctx *ctx, const char *tenant, const char *policy, PGconn **ret_pg,
			struct store_tenant *t, char id[24], char name[40], struct pbx_rows *cur,
			char **before, pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	int r;

	pbx_rows_init(cur, &pbx_schema_policy);
	*before = NULL;
	if (!pg)
		return err->code;
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	if ((r = store_find_tenant(pg, tenant, t, err)) < 0 ||
	    (r = policy_find(pg, t, policy, true, id, name, err)) < 0 ||
	    (r = store_load(pg, POLICY_JSON, id, "policy", NULL, cur, before, err)) < 0) {
		pbx_pg_rollback(pg);
		pbx_rows_free(cur);
		free(*before);
		*before = NULL;
		return r;
	}
	*ret_pg = pg;
	return 0;
}

static int rule_count(PGconn *pg, const char *id, long *n, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg, "SELECT count(*) FROM policy_rules WHERE policy_id = $1::bigint",
				     1, p, "policy", err);

	if (!res)
		return err->code;
	*n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int pbx_policy_rule_add(pbx_ctx *ctx, const char *tenant, const char *policy,
			const struct pbx_policy_rule_spec *spec, struct pbx_rows *ret,
			pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24], name[40], rule_id[24], pos[16], strip[16];
	char trunk_ids[PBX_POLICY_MAX_TRUNKS][24];
	bool allow = spec->action && !strcmp(spec->action, "allow");
	struct pbx_rows cur;
	struct store_tenant t;
	char *before = NULL;
	size_t n_trunks = 0;
	const char *p[6];
	PGresult *res;
	PGconn *pg;
	long n = 0;
	int r;

	snprintf(object, sizeof(object), "policy %.40s rule", policy);
	if ((r = pbx_policy_check_pattern(object, spec->pattern, err)) < 0 ||
	    (r = pbx_policy_check_prepend(object, spec->prepend, err)) < 0)
		return r;
	if (!spec->action || (!allow && strcmp(spec->action, "block")))
		return pbx_errorf(err, PBX_EINVALID, object, "action",
				  "a rule must --allow or --block");
	if (spec->strip < -1 || spec->strip > PBX_POLICY_STRIP_MAX)
		return pbx_errorf(err, PBX_EINVALID, object, "strip", "strip must be 0 to %d",
				  PBX_POLICY_STRIP_MAX);
	if (allow && (!spec->trunks || !*spec->trunks))
		return pbx_errorf(err, PBX_EINVALID, object, "trunks",
				  "an allowing rule needs --trunks, tried in order");
	if (!allow && ((spec->trunks && *spec->trunks) || spec->strip > 0 ||
		       (spec->prepend && *spec->prepend)))
		return pbx_errorf(err, PBX_EINVALID, object, spec->trunks && *spec->trunks ? "trunks" :
				  "strip", "a blocking rule has no trunks and rewrites nothing");
	if ((r = begin_change(ctx, tenant, policy, &pg, &t, id, name, &cur, &before, err)) < 0)
		return r;
	snprintf(object, sizeof(object), "policy %s rule", name);
	if ((r = rule_count(pg, id, &n, err)) < 0 ||
	    (allow && (r = resolve_trunks(ctx, pg, &t, object, spec->trunks, trunk_ids, &n_trunks,
					  err)) < 0))
		goto fail;
	if (n >= PBX_POLICY_MAX_RULES) {
		r = pbx_errorf(err, PBX_EINVALID, object, "position",
			       "policy %s already has %d rules, the most a policy may have", name,
			       PBX_POLICY_MAX_RULES);
		goto fail;
	}
	if (spec->position < 0 || spec->position > n + 1) {
		r = pbx_errorf(err, PBX_EINVALID, object, "position",
			       "position must be 1 to %ld", n + 1);
		goto fail;
	}
	snprintf(pos, sizeof(pos), "%ld", spec->position ? spec->position : n + 1);
	snprintf(strip, sizeof(strip), "%d", spec->strip > 0 ? spec->strip : 0);
	p[0] = id;
	p[1] = pos;
	r = pbx_pg_exec(pg, "UPDATE policy_rules SET position = position + 1 "
			"WHERE policy_id = $1::bigint AND position >= $2::int", 2, p, object, err);
	if (r < 0)
		goto fail;
	p[2] = spec->pattern;
	p[3] = allow ? "allow" : "block";
	p[4] = strip;
	p[5] = spec->prepend ? spec->prepend : "";
	if (!(res = pbx_pg_query(pg, "INSERT INTO policy_rules (policy_id, position, pattern, "
				 "action, strip, prepend) VALUES ($1::bigint, $2::int, $3, $4, "
				 "$5::int, $6) RETURNING id::text", 6, p, object, err))) {
		r = err->code;
		goto fail;
	}
	snprintf(rule_id, sizeof(rule_id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (size_t i = 0; i < n_trunks && r == 0; i++) {
		char k[24];
		const char *q[3] = { rule_id, k, trunk_ids[i] };

		snprintf(k, sizeof(k), "%zu", i + 1);
		r = pbx_pg_exec(pg, "INSERT INTO policy_rule_trunks (rule_id, position, trunk_id) "
				"VALUES ($1::bigint, $2::int, $3::bigint)", 3, q, object, err);
	}
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE policies SET updated_at = now() WHERE id = $1::bigint", 1,
				p, object, err);
	if (r < 0)
		goto fail;
	r = store_finish(ctx, pg, POLICY_JSON, &pbx_schema_policy, id, t.slug, "policy", "add-rule",
		       before, NULL, ret, NULL, err);
	if (r == 0)
		policy_warn_emergency(ctx, pg, id, name, t.slug);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	return r;
}

int pbx_policy_rule_remove(pbx_ctx *ctx, const char *tenant, const char *policy, long position,
			   struct pbx_rows *ret, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], id[24], name[40], pos[24];
	struct pbx_rows cur;
	struct store_tenant t;
	char *before = NULL;
	const char *p[2];
	PGconn *pg;
	long n = 0;
	int r;

	if ((r = begin_change(ctx, tenant, policy, &pg, &t, id, name, &cur, &before, err)) < 0)
		return r;
	snprintf(object, sizeof(object), "policy %s rule", name);
	if ((r = rule_count(pg, id, &n, err)) < 0)
		goto fail;
	if (position < 1 || position > n) {
		r = n ? pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "policy %s has no rule %ld (it "
				   "has rules 1 to %ld)", name, position, n) :
			pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "policy %s has no rules", name);
		goto fail;
	}
	snprintf(pos, sizeof(pos), "%ld", position);
	p[0] = id;
	p[1] = pos;
	r = pbx_pg_exec(pg, "DELETE FROM policy_rules WHERE policy_id = $1::bigint "
			"AND position = $2::int", 2, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE policy_rules SET position = position - 1 "
				"WHERE policy_id = $1::bigint AND position > $2::int", 2, p, object, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE policies SET updated_at = now() WHERE id = $1::bigint", 1,
				p, object, err);
	if (r < 0)
		goto fail;
	r = store_finish(ctx, pg, POLICY_JSON, &pbx_schema_policy, id, t.slug, "policy",
		       "remove-rule", before, NULL, ret, NULL, err);
	if (r == 0)
		policy_warn_emergency(ctx, pg, id, name, t.slug);
	goto cleanup;
fail:
	pbx_pg_rollback(pg);
cleanup:
	pbx_rows_free(&cur);
	free(before);
	return r;
}

static int set(struct pbx_rows *rows, size_t row, const char *key, const char *v, pbx_error *err)
{
	if (pbx_rows_set(rows, row, key, v) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return 0;
}

int pbx_policy_rules(pbx_ctx *ctx, const char *tenant, const char *policy,
		     struct pbx_rows *ret, pbx_error *err)
{
	char id[24], name[40];
	struct policy_rules pr;
	struct store_tenant t;
	struct pbx_rows rows;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0 ||
	    (r = policy_find(pg, &t, policy, false, id, name, err)) < 0 ||
	    (r = policy_rules_load(pg, id, &pr, err)) < 0)
		return r;
	pbx_rows_init(&rows, &pbx_schema_policy_rule);
	for (size_t i = 0; i < pr.n && r == 0; i++) {
		char pats[2048], list[2048] = "";
		long row = pbx_rows_add(&rows);
		size_t len = 0;
		int np;

		if (row < 0) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			break;
		}
		np = pbx_dialplan_patterns(pr.rules[i].pattern, pats, sizeof(pats));
		for (const char *q = pats; np > 0 && *q && len < sizeof(list); q += strlen(q) + 1)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "", q);
		r = set(&rows, (size_t)row, "policy", name, err);
		if (r == 0)
			r = set(&rows, (size_t)row, "position", PQgetvalue(pr.res, (int)i, 0), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "pattern", pr.rules[i].pattern, err);
		if (r == 0)
			r = set(&rows, (size_t)row, "action", PQgetvalue(pr.res, (int)i, 2), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "strip", PQgetvalue(pr.res, (int)i, 3), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "prepend", pr.rules[i].prepend, err);
		if (r == 0)
			r = set(&rows, (size_t)row, "trunks", PQgetvalue(pr.res, (int)i, 5), err);
		if (r == 0)
			r = set(&rows, (size_t)row, "asterisk", list, err);
	}
	policy_rules_free(&pr);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int pbx_policy_test(pbx_ctx *ctx, const char *tenant, const char *policy, const char *number,
		    struct pbx_rows *ret, pbx_error *err)
{
	char id[24], name[40], rule[24], trunks[PBX_POLICY_MAX_TRUNKS * 40] = "";
	struct pbx_policy_verdict v;
	struct policy_rules pr;
	struct store_tenant t;
	struct pbx_rows rows;
	char **emergency = NULL;
	size_t n_emergency = 0;
	bool is_emergency = false;
	PGconn *pg;
	int r;

	if ((r = pbx_policy_check_number("policy test", number, err)) < 0 ||
	    (r = pbx_policy_emergency_numbers(pbx_ctx_config(ctx)->emergency_numbers, &emergency,
					      &n_emergency, err)) < 0)
		return r;
	for (size_t i = 0; i < n_emergency; i++)
		is_emergency = is_emergency || !strcmp(emergency[i], number);
	pbx_policy_strv_free(emergency);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = store_find_tenant(pg, tenant, &t, err)) < 0 ||
	    (r = policy_find(pg, &t, policy, false, id, name, err)) < 0 ||
	    (r = policy_rules_load(pg, id, &pr, err)) < 0)
		return r;
	r = pbx_policy_evaluate(pr.rules, pr.n, number, &v, err);
	pbx_rows_init(&rows, &pbx_schema_policy_test);
	if (r == 0 && pbx_rows_add(&rows) < 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r == 0 && v.rule) {
		const struct pbx_policy_rule *m = &pr.rules[v.rule - 1];
		size_t len = 0;

		snprintf(rule, sizeof(rule), "%zu", v.rule);
		for (size_t k = 0; v.allowed && k < m->n_trunks; k++)
			len += (size_t)snprintf(trunks + len, sizeof(trunks) - len, "%s%s",
						k ? "," : "", m->trunks[k]);
		r = set(&rows, 0, "rule", rule, err);
		if (r == 0)
			r = set(&rows, 0, "pattern", m->pattern, err);
	}
	if (r == 0)
		r = set(&rows, 0, "policy", name, err);
	if (r == 0)
		r = set(&rows, 0, "number", number, err);
	if (r == 0)
		r = set(&rows, 0, "result", v.allowed ? "allowed" : "blocked", err);
	if (r == 0 && v.allowed)
		r = set(&rows, 0, "dial", v.dial, err);
	if (r == 0)
		r = set(&rows, 0, "trunks", trunks, err);
	if (r == 0)
		r = set(&rows, 0, "emergency", is_emergency ? "true" : "false", err);
	policy_rules_free(&pr);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
