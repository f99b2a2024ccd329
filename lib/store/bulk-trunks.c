/* SPDX-License-Identifier: MIT */
/*
 * Bulk import and export of trunks in PostgreSQL: one statement a trunk, staging its
 * audit image (bulk-routing.c). See bulk-store.h.
 */
#include <stdio.h>

#include "pbx/trunk.h"
#include "bulk-store.h"
#include "pg.h"
#include "selects.h"

int pbx_store_bulk_trunk_write(PGconn *pg, const char *id, const char *const v[13],
			       char ret_id[24], pbx_error *err)
{
	const char *p[14] = { id, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
			      v[10], v[11], v[12] };
	PGresult *res;
	int r;

	if (id) {
		if (ret_id != id)
			snprintf(ret_id, 24, "%s", id);
		if ((r = pbx_store_bulk_stage(pg, "trunk", id, false, err)) < 0)
			return r;
		/* Owner and name never change (the plan refuses it); the WHERE says so again. */
		return pbx_pg_exec(pg,
			"UPDATE trunks SET host = $4, port = $5::int, transport = $6, auth = $7, "
			"username = $8, secret_sealed = $9, match = string_to_array($10, ','), "
			"codecs = string_to_array($11, ','), callerid_mode = $12, callerid = $13, "
			"enabled = $14::boolean, updated_at = now() WHERE id = $1::bigint "
			"AND tenant_id IS NOT DISTINCT FROM $2::bigint AND name = $3", 14, p,
			"trunk", err);
	}
	res = pbx_pg_query(pg,
		"INSERT INTO trunks (tenant_id, name, host, port, transport, auth, username, "
		"secret_sealed, match, codecs, callerid_mode, callerid, enabled) VALUES ($1::bigint, "
		"$2, $3, $4::int, $5, $6, $7, $8, string_to_array($9, ','), string_to_array($10, ','), "
		"$11, $12, $13::boolean) RETURNING id::text", 13, p + 1, "trunk", err);
	if (!res)
		return err->code;
	snprintf(ret_id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return pbx_store_bulk_stage(pg, "trunk", ret_id, true, err);
}

PGresult *pbx_store_bulk_export_trunks(PGconn *pg, const char *tenant_id, pbx_error *err)
{
	const char *p[1] = { tenant_id };

	return pbx_pg_query(pg, TRUNK_SELECT "WHERE k.tenant_id IS NOT DISTINCT FROM $1::bigint "
			    "ORDER BY k.name", 1, p, "trunk", err);
}
