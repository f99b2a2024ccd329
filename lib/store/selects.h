/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: the output columns of the entities that several store files read (the
 * entity's own file, bulk import and export), in schema order; their to_jsonb() is also the
 * entity's audit image. One definition each, so the CLI, the audit log and import agree.
 */
#ifndef PBX_STORE_SELECTS_H
#define PBX_STORE_SELECTS_H

#include "pbx/trunk.h"
#include "pg.h"

#define TENANT_SELECT \
	"SELECT t.id::text AS id, t.slug, t.display_name AS name, t.status, " \
	"t.ext_min || '-' || t.ext_max AS extensions, t.ext_next::text AS ext_next, " \
	"t.default_inbound, (SELECT p.name FROM policies p WHERE p.id = t.default_policy_id) AS default_policy, " \
	"(SELECT k.name FROM trunks k WHERE k.id = t.emergency_trunk_id) AS emergency_trunk, " \
	"t.emergency_callerid, " \
	PBX_SQL_TIME("t.created_at") " AS created_at, " \
	PBX_SQL_TIME("t.updated_at") " AS updated_at FROM tenants t "

#define DID_SELECT \
	"SELECT d.id::text AS id, d.number, t.slug AS tenant, d.label, d.provider, " \
	"d.destination, d.enabled::text AS enabled, " \
	PBX_SQL_TIME("d.created_at") " AS created_at, " \
	PBX_SQL_TIME("d.updated_at") " AS updated_at " \
	"FROM dids d JOIN tenants t ON t.id = d.tenant_id "

#define TRUNK_SELECT \
	"SELECT k.id::text AS id, k.name, t.slug AS tenant, " \
	"pbx_trunk_endpoint(t.slug, k.name) AS endpoint, " \
	"k.host, k.port::text AS port, k.transport, k.auth, k.username, " \
	"CASE WHEN k.secret_sealed IS NULL THEN NULL ELSE '" PBX_TRUNK_SECRET_MASK "' END AS secret, " \
	"array_to_string(k.match, ',') AS match, array_to_string(k.codecs, ',') AS codecs, " \
	"k.callerid_mode, k.callerid, k.enabled::text AS enabled, " \
	PBX_SQL_TIME("k.created_at") " AS created_at, " \
	PBX_SQL_TIME("k.updated_at") " AS updated_at " \
	"FROM trunks k LEFT JOIN tenants t ON t.id = k.tenant_id "

#endif
