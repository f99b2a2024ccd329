/* SPDX-License-Identifier: MIT */
/*
 * Bulk import and export of outbound policies and their rules in PostgreSQL: one
 * statement a policy and one a rule, staging its audit image (bulk-routing.c). See
 * bulk-store.h.
 */
#include <stdio.h>

#include "pbx/policy.h"
#include "bulk-store.h"
#include "pg.h"
#include "policy-internal.h"

int pbx_store_bulk_policy_write(PGconn *pg, const char *id, const char *tenant_id,
				const char *name, const char *description,
				const struct pbx_store_bulk_batch *rules, char ret_id[24],
				pbx_error *err)
{
	const char *p[3] = { id, description, NULL };
	PGresult *res;
	int r;

	if (id) {
		if (ret_id != id)
			snprintf(ret_id, 24, "%s", id);
		r = pbx_store_bulk_stage(pg, "policy", id, false, err);
		if (r == 0)
			r = pbx_pg_exec(pg, "UPDATE policies SET description = $2, updated_at = now() "
					"WHERE id = $1::bigint", 2, p, "policy", err);
	} else {
		const char *q[3] = { tenant_id, name, description };

		if (!(res = pbx_pg_query(pg, "INSERT INTO policies (tenant_id, name, description) "
					 "VALUES ($1::bigint, $2, $3) RETURNING id::text", 3, q, "policy",
					 err)))
			return err->code;
		snprintf(ret_id, 24, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		r = pbx_store_bulk_stage(pg, "policy", ret_id, true, err);
	}
	if (r < 0 || !rules)
		return r;
	/* The rules are replaced as a whole: the audit image holds them all. */
	p[0] = ret_id;
	r = pbx_pg_exec(pg, "DELETE FROM policy_rules WHERE policy_id = $1::bigint", 1, p, "policy",
			err);
	for (size_t i = 0; r == 0 && i < rules->n_rows; i++) {
		const char *const *c = rules->cells + i * rules->n_cols;
		char pos[24];
		const char *q[6] = { ret_id, pos, c[0], c[1], c[2], c[3] };

		snprintf(pos, sizeof(pos), "%zu", i + 1);
		if (!(res = pbx_pg_query(pg, "INSERT INTO policy_rules (policy_id, position, pattern, "
					 "action, strip, prepend) VALUES ($1::bigint, $2::int, $3, $4, "
					 "$5::int, $6) RETURNING id::text", 6, q, "policy", err))) {
			r = err->code;
			break;
		}
		q[0] = PQgetvalue(res, 0, 0);
		q[1] = c[4];
		r = pbx_pg_exec(pg, "INSERT INTO policy_rule_trunks (rule_id, position, trunk_id) "
				"SELECT $1::bigint, n.ord, k.id FROM unnest(string_to_array($2, ',')) "
				"WITH ORDINALITY n(name, ord) JOIN trunks k ON k.name = n.name", 2, q,
				"policy", err);
		PQclear(res);
	}
	if (r == 0)
		r = pbx_pg_exec(pg, "UPDATE policies SET updated_at = now() WHERE id = $1::bigint", 1,
				p, "policy", err);
	return r;
}

PGresult *pbx_store_bulk_policy_ids(PGconn *pg, const char *tenant_ids, pbx_error *err)
{
	const char *p[1] = { tenant_ids };

	return pbx_pg_query(pg, "SELECT tenant_id::text, name, id::text FROM policies "
			    "WHERE tenant_id = ANY($1::bigint[])", 1, p, "policy", err);
}

PGresult *pbx_store_bulk_export_policies(PGconn *pg, const char *tenant_id, pbx_error *err)
{
	const char *p[1] = { tenant_id };

	return pbx_pg_query(pg, POLICY_SELECT "WHERE p.tenant_id = $1::bigint ORDER BY p.name", 1, p,
			    "policy", err);
}

PGresult *pbx_store_bulk_export_rules(PGconn *pg, const char *tenant_id, pbx_error *err)
{
	const char *p[1] = { tenant_id };

	return pbx_pg_query(pg, "SELECT p.name AS policy, r.pattern, r.action, r.strip::text AS strip, "
			    "r.prepend, coalesce((SELECT string_agg(k.name, ',' ORDER BY rt.position) "
			    "FROM policy_rule_trunks rt JOIN trunks k ON k.id = rt.trunk_id "
			    "WHERE rt.rule_id = r.id), '') AS trunks FROM policy_rules r "
			    "JOIN policies p ON p.id = r.policy_id WHERE p.tenant_id = $1::bigint "
			    "ORDER BY p.name, r.position", 1, p, "policy", err);
}
