/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: what policy.c (policies and assignments) and policy-rule.c (rules,
 * policy test) share: the output SELECT and audit image of a policy, finding a policy, and
 * its rules in the rule engine's form.
 */
#ifndef PBX_STORE_POLICY_INTERNAL_H
#define PBX_STORE_POLICY_INTERNAL_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "pbx/policy.h"
#include "change.h"

/* Output columns in pbx_schema_policy order; also the audit image (it holds the rules). */
#define POLICY_SELECT \
	"SELECT p.id::text AS id, t.slug AS tenant, p.name, p.description, " \
	"(t.default_policy_id IS NOT DISTINCT FROM p.id)::text AS \"default\", " \
	"(SELECT count(*) FROM users u WHERE u.policy_id = p.id AND u.status <> 'deleted')::text AS users, " \
	"(SELECT coalesce(json_agg(row_to_json(y) ORDER BY r.position), '[]'::json) " \
	"FROM policy_rules r, LATERAL (SELECT r.pattern, r.action, r.strip, r.prepend, " \
	"ARRAY(SELECT k.name FROM policy_rule_trunks rt JOIN trunks k ON k.id = rt.trunk_id " \
	"WHERE rt.rule_id = r.id ORDER BY rt.position) AS trunks) y " \
	"WHERE r.policy_id = p.id) AS rules, " \
	PBX_SQL_TIME("p.created_at") " AS created_at, " \
	PBX_SQL_TIME("p.updated_at") " AS updated_at " \
	"FROM policies p JOIN tenants t ON t.id = p.tenant_id "

#define POLICY_JSON \
	"SELECT x.*, to_jsonb(x)::text AS _json FROM (" POLICY_SELECT "WHERE p.id = $1::bigint) x"

/*
 * Find policy @policy (name or id) of tenant @t; with @lock, lock its row (the transaction
 * must be open). *@ret_id gets its id, @ret_name (may be NULL, 40 bytes) its name.
 * PBX_ENOTFOUND "policy X does not exist in tenant Y".
 */
int policy_find(PGconn *pg, const struct store_tenant *t, const char *policy, bool lock,
		char ret_id[24], char *ret_name, pbx_error *err);

/* The rules of policy @id in the engine's form; strings live as long as the struct. */
struct policy_rules {
	struct pbx_policy_rule *rules;
	size_t n;
	PGresult *res;
	char **trunk_names;     /* one malloc'd, NUL-split copy per rule */
	const char **trunk_ptrs;
};

int policy_rules_load(PGconn *pg, const char *id, struct policy_rules *ret, pbx_error *err);
void policy_rules_free(struct policy_rules *pr);

/*
 * Log a warning (PBX_LOG_WARN) for each emergency number policy @id blocks; a policy is
 * saved anyway, apply refuses it. Problems reading the configured list are logged too.
 */
void policy_warn_emergency(pbx_ctx *ctx, PGconn *pg, const char *id, const char *name,
			   const char *slug);

#endif
