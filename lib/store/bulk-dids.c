/* SPDX-License-Identifier: MIT */
/*
 * Bulk import and export of phone numbers (DIDs) in PostgreSQL: one statement a number,
 * staging its audit image (bulk-routing.c). See bulk-store.h.
 */
#include <stdio.h>

#include "pbx/did.h"
#include "bulk-store.h"
#include "pg.h"
#include "selects.h"

int pbx_store_bulk_did_write(PGconn *pg, const char *id, const char *const v[6], pbx_error *err)
{
	const char *p[7] = { id, v[0], v[1], v[2], v[3], v[4], v[5] };
	PGresult *res;
	char nid[24];
	int r;

	if (id) {
		if ((r = pbx_store_bulk_stage(pg, "did", id, false, err)) < 0)
			return r;
		return pbx_pg_exec(pg,
			"UPDATE dids SET tenant_id = $2::bigint, label = $4, provider = $5, "
			"destination = $6, enabled = $7::boolean, updated_at = now() WHERE id = $1::bigint "
			"AND number = $3", 7, p, "did", err);
	}
	res = pbx_pg_query(pg,
		"INSERT INTO dids (tenant_id, number, label, provider, destination, enabled) "
		"VALUES ($1::bigint, $2, $3, $4, $5, $6::boolean) RETURNING id::text", 6, p + 1,
		"did", err);
	if (!res)
		return err->code;
	snprintf(nid, sizeof(nid), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return pbx_store_bulk_stage(pg, "did", nid, true, err);
}

PGresult *pbx_store_bulk_export_dids(PGconn *pg, const char *tenant_id, pbx_error *err)
{
	const char *p[1] = { tenant_id };

	return pbx_pg_query(pg, DID_SELECT "WHERE d.tenant_id = $1::bigint ORDER BY d.number",
			    1, p, "did", err);
}
