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

/* Users, output columns in pbx_schema_user order, of "u" joined to its tenant "t". */
#define USER_COLUMNS \
	"u.id::text AS id, t.slug AS tenant, u.username, u.display_name AS name, " \
	"u.email, u.extension::text AS extension, u.status, u.outbound_callerid, " \
	"u.voicemail::text AS voicemail, " \
	"CASE WHEN u.has_pin THEN '********' END AS pin, " \
	"u.dnd::text AS dnd, u.forward_to, " \
	"(SELECT p.name FROM policies p WHERE p.id = u.policy_id) AS policy, " \
	PBX_SQL_TIME("u.created_at") " AS created_at, " \
	PBX_SQL_TIME("u.updated_at") " AS updated_at "
#define USER_SELECT "SELECT " USER_COLUMNS "FROM users u JOIN tenants t ON t.id = u.tenant_id "

/* Devices, output columns in pbx_schema_device order; the secret is always masked here. */
#define DEVICE_COLUMNS \
	"d.id::text AS id, t.slug AS tenant, u.username AS \"user\", d.label, " \
	"d.sip_username, '********'::text AS secret, d.transport, " \
	"d.force_rport::text AS force_rport, d.rewrite_contact::text AS rewrite_contact, " \
	"d.rtp_symmetric::text AS rtp_symmetric, d.direct_media::text AS direct_media, " \
	"array_to_string(d.codecs, ',') AS codecs, d.enabled::text AS enabled, " \
	PBX_SQL_TIME("d.created_at") " AS created_at, " \
	PBX_SQL_TIME("d.updated_at") " AS updated_at "
#define DEVICE_SELECT \
	"SELECT " DEVICE_COLUMNS "FROM devices d JOIN users u ON u.id = d.user_id " \
	"JOIN tenants t ON t.id = d.tenant_id "

/*
 * SQL fragments naming things the way people do, each branch on an index. TENANT_MATCH:
 * the tenant "t" named by slug or id in parameter P. USER_MATCH: the id of the user of
 * tenant T named by P: a username wins, then a live user with that extension, then the
 * newest deleted one, then the id. substring() yields NULL for anything but digits, so no
 * cast can fail on a name.
 */
#define TENANT_MATCH(P) \
	"(t.slug = " P " OR t.id = substring(" P " from '^[1-9][0-9]{0,17}$')::bigint)"
#define USER_MATCH(T, P) \
	"(SELECT c.id FROM (" \
	"SELECT m.id, 1 AS pri FROM users m WHERE m.tenant_id = " T " AND m.username = " P " " \
	"UNION ALL SELECT m.id, CASE WHEN m.status <> 'deleted' THEN 2 ELSE 3 END FROM users m " \
	"WHERE m.tenant_id = " T " AND m.extension = substring(" P " from '^[1-9][0-9]{0,8}$')::int " \
	"UNION ALL SELECT m.id, 4 FROM users m WHERE m.tenant_id = " T " " \
	"AND m.id = substring(" P " from '^[1-9][0-9]{0,17}$')::bigint) c " \
	"ORDER BY c.pri, c.id DESC LIMIT 1)"

#endif
