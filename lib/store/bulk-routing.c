/* SPDX-License-Identifier: MIT */
/*
 * Bulk import and export of the routing objects in PostgreSQL: phone numbers
 * (DIDs), trunks and outbound policies with their rules, and the tenants' default policies.
 * There are few of them next to users and devices, so they are written one statement per
 * object, each change staging its audit image: creates and updates as pending rows whose
 * "after" image is taken at the end (pbx_store_bulk_pending_images), once policies, their
 * rules and the tenants' default policies are all in place. See bulk-store.h. This file
 * holds what the three share (their state, the audit images, deletes); each one's writes
 * and export are in bulk-trunks.c, bulk-dids.c and bulk-policies.c.
 */
#include <string.h>

#include "pbx/trunk.h"
#include "bulk-store.h"
#include "ctx.h"
#include "pg.h"
#include "selects.h"
#include "policy-internal.h"

/* A policy's rules as one comparable string: fields split by \x1f, rules by \x1e. */
#define RULES_KEY(P) \
	"(SELECT coalesce(string_agg(r.pattern || chr(31) || r.action || chr(31) || r.strip || " \
	"chr(31) || r.prepend || chr(31) || coalesce((SELECT string_agg(k.name, ',' ORDER BY " \
	"rt.position) FROM policy_rule_trunks rt JOIN trunks k ON k.id = rt.trunk_id " \
	"WHERE rt.rule_id = r.id), ''), chr(30) ORDER BY r.position), '') " \
	"FROM policy_rules r WHERE r.policy_id = " P ")"

int pbx_store_bulk_load_routing(PGconn *pg, const char *tenant_ids, const char *numbers,
				struct pbx_store_bulk_routing *ret, pbx_error *err)
{
	const char *p[2] = { tenant_ids, numbers };
	struct pbx_store_bulk_routing x = { .trunks = NULL };

	/* Every trunk: names are unique across tenants, and rules may name global ones. */
	x.trunks = pbx_pg_query(pg, "SELECT x.*, k2.secret_sealed AS _sealed, "
				"k2.tenant_id::text AS _tenant_id FROM (" TRUNK_SELECT ") x "
				"JOIN trunks k2 ON k2.id = x.id::bigint ORDER BY x.name", 0, NULL,
				"trunk", err);
	if (x.trunks)
		x.policies = pbx_pg_query(pg, "SELECT x.*, p2.tenant_id::text AS _tenant_id, "
					  RULES_KEY("p2.id") " AS _rules FROM (" POLICY_SELECT
					  "WHERE p.tenant_id = ANY($1::bigint[])) x JOIN policies p2 "
					  "ON p2.id = x.id::bigint ORDER BY p2.tenant_id, p2.name", 1, p,
					  "policy", err);
	if (x.policies)
		x.dids = pbx_pg_query(pg, "SELECT x.*, d2.tenant_id::text AS _tenant_id FROM ("
				      DID_SELECT "WHERE d.tenant_id = ANY($1::bigint[]) "
				      "OR d.number = ANY($2::text[])) x JOIN dids d2 ON d2.id = x.id::bigint "
				      "ORDER BY x.number", 2, p, "did", err);
	if (!x.dids) {
		pbx_store_bulk_routing_free(&x);
		return err->code;
	}
	*ret = x;
	return 0;
}

void pbx_store_bulk_routing_free(struct pbx_store_bulk_routing *x)
{
	PQclear(x->trunks);
	PQclear(x->policies);
	PQclear(x->dids);
	*x = (struct pbx_store_bulk_routing){ .trunks = NULL };
}

/* Stage the image of @entity @id: "before" of a pending update, or a pending create. */
int pbx_store_bulk_stage(PGconn *pg, const char *entity, const char *id, bool create,
			 pbx_error *err)
{
	const char *p[2] = { id, create ? "create" : "update" };
	const char *sql;

	if (!strcmp(entity, "trunk"))
		sql = AUDIT_INTO "before, pending) " AUDIT_FROM "x.tenant, $2, 'trunk', x.id, "
		      "CASE WHEN $2 = 'create' THEN NULL ELSE to_jsonb(x) END, true FROM ("
		      TRUNK_SELECT "WHERE k.id = $1::bigint) x) q";
	else if (!strcmp(entity, "did"))
		sql = AUDIT_INTO "before, pending) " AUDIT_FROM "x.tenant, $2, 'did', x.id, "
		      "CASE WHEN $2 = 'create' THEN NULL ELSE to_jsonb(x) END, true FROM ("
		      DID_SELECT "WHERE d.id = $1::bigint) x) q";
	else
		sql = AUDIT_INTO "before, pending) " AUDIT_FROM "x.tenant, $2, 'policy', x.id, "
		      "CASE WHEN $2 = 'create' THEN NULL ELSE to_jsonb(x) END, true FROM ("
		      POLICY_SELECT "WHERE p.id = $1::bigint) x) q";
	return pbx_pg_exec(pg, sql, 2, p, entity, err);
}

/* Stage the last image of @entity @id before it is deleted. */
static int stage_delete(PGconn *pg, const char *entity, const char *id, pbx_error *err)
{
	const char *p[1] = { id };
	const char *sql;

	if (!strcmp(entity, "trunk"))
		sql = AUDIT_INTO "before) " AUDIT_FROM "x.tenant, 'delete', 'trunk', x.id, to_jsonb(x) "
		      "FROM (" TRUNK_SELECT "WHERE k.id = $1::bigint) x) q";
	else if (!strcmp(entity, "did"))
		sql = AUDIT_INTO "before) " AUDIT_FROM "x.tenant, 'delete', 'did', x.id, to_jsonb(x) "
		      "FROM (" DID_SELECT "WHERE d.id = $1::bigint) x) q";
	else
		sql = AUDIT_INTO "before) " AUDIT_FROM "x.tenant, 'delete', 'policy', x.id, to_jsonb(x) "
		      "FROM (" POLICY_SELECT "WHERE p.id = $1::bigint) x) q";
	return pbx_pg_exec(pg, sql, 1, p, entity, err);
}

int pbx_store_bulk_routing_delete(PGconn *pg, const char *entity, const char *id, pbx_error *err)
{
	const char *p[1] = { id };
	int r = stage_delete(pg, entity, id, err);

	if (r < 0)
		return r;
	if (!strcmp(entity, "trunk"))
		return pbx_pg_exec(pg, "DELETE FROM trunks WHERE id = $1::bigint", 1, p, entity, err);
	if (!strcmp(entity, "did"))
		return pbx_pg_exec(pg, "DELETE FROM dids WHERE id = $1::bigint", 1, p, entity, err);
	/* Soft-deleted users may still name the policy; live ones no longer do (the plan). */
	r = pbx_pg_exec(pg, "UPDATE users SET policy_id = NULL WHERE policy_id = $1::bigint "
			"AND status = 'deleted'", 1, p, entity, err);
	if (r == 0)
		r = pbx_pg_exec(pg, "DELETE FROM policies WHERE id = $1::bigint", 1, p, entity, err);
	return r;
}

int pbx_store_bulk_tenant_policy(PGconn *pg, const char *tenant_id, const char *policy,
				 pbx_error *err)
{
	const char *p[2] = { tenant_id, policy };

	return pbx_pg_exec(pg, "UPDATE tenants SET default_policy_id = (SELECT id FROM policies "
			   "WHERE tenant_id = $1::bigint AND name = $2), updated_at = now() "
			   "WHERE id = $1::bigint", 2, p, "tenant", err);
}

int pbx_store_bulk_tenant_emergency(PGconn *pg, const char *tenant_id, const char *trunk,
				    const char *callerid, pbx_error *err)
{
	const char *p[3] = { tenant_id, trunk, callerid };

	return pbx_pg_exec(pg, "UPDATE tenants SET emergency_trunk_id = (SELECT id FROM trunks "
			   "WHERE name = $2 AND (tenant_id IS NULL OR tenant_id = $1::bigint)), "
			   "emergency_callerid = $3, updated_at = now() WHERE id = $1::bigint", 3, p,
			   "tenant", err);
}

int pbx_store_bulk_pending_images(PGconn *pg, pbx_error *err)
{
	static const char *const sql[] = {
		"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM ("
		TENANT_SELECT "WHERE t.id IN (SELECT entity_id::bigint FROM pbx_bulk_audit "
		"WHERE pending AND entity = 'tenant')) x "
		"WHERE a.pending AND a.entity = 'tenant' AND a.entity_id = x.id",
		"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM ("
		TRUNK_SELECT "WHERE k.id IN (SELECT entity_id::bigint FROM pbx_bulk_audit "
		"WHERE pending AND entity = 'trunk')) x "
		"WHERE a.pending AND a.entity = 'trunk' AND a.entity_id = x.id",
		"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM ("
		POLICY_SELECT "WHERE p.id IN (SELECT entity_id::bigint FROM pbx_bulk_audit "
		"WHERE pending AND entity = 'policy')) x "
		"WHERE a.pending AND a.entity = 'policy' AND a.entity_id = x.id",
		"UPDATE pbx_bulk_audit a SET after = to_jsonb(x), pending = false FROM ("
		DID_SELECT "WHERE d.id IN (SELECT entity_id::bigint FROM pbx_bulk_audit "
		"WHERE pending AND entity = 'did')) x "
		"WHERE a.pending AND a.entity = 'did' AND a.entity_id = x.id",
	};
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(sql) / sizeof(sql[0]); i++)
		r = pbx_pg_exec(pg, sql[i], 0, NULL, "audit log", err);
	return r;
}
