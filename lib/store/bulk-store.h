/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: the PostgreSQL side of bulk import and export (lib/store/bulk.c). Import
 * loads the current state of the file's tenants under row locks, then writes set-based:
 * rows go through COPY into temporary staging tables and from there into the real tables
 * with one INSERT or UPDATE per kind of change. Every change stages its audit image in a
 * temporary table; pbx_store_bulk_audit_finish appends them all to the audit log at the
 * end, chained exactly as audit_append() chains (hashes computed here over the rows'
 * canonical form, which PostgreSQL's audit_canonical() produces), under the audit lock.
 */
#ifndef PBX_STORE_BULK_STORE_H
#define PBX_STORE_BULK_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"

/*
 * A table of values to write, row after row: cells[row * n_cols + col], NULL = SQL null.
 * The columns of each function are listed beside it. The caller owns the strings.
 */
struct pbx_store_bulk_batch {
	size_t n_rows, n_cols;
	const char **cells;
};

/*
 * The state of some tenants, read in one snapshot. Column names: those of the entity
 * schemas (tenant: slug, name, ...; user: username, ...; device: label, ...), where the
 * values are text exactly as `-o json` shows them, plus:
 *   tenants: id, _ext_min, _ext_max, _ext_next
 *   users:   id, _tenant_id, _pin_hash (the argon2id hash, never shown), status "deleted" too
 *   devices: id, _tenant_id, _user_id
 */
struct pbx_store_bulk_state {
	PGresult *tenants, *users, *devices;
};

/*
 * Begin the import transaction. @writes: lock and create the staging tables; else a
 * read-only REPEATABLE READ snapshot (dry run, export).
 */
int pbx_store_bulk_begin(PGconn *pg, bool writes, pbx_error *err);

/*
 * Read the tenants whose slugs are in @slugs (a PostgreSQL text array literal, see
 * pbx_store_bulk_array), locked FOR UPDATE when @lock, with all their users and devices.
 */
int pbx_store_bulk_load(PGconn *pg, const char *slugs, bool lock,
			struct pbx_store_bulk_state *ret, pbx_error *err);
void pbx_store_bulk_state_free(struct pbx_store_bulk_state *st);

/*
 * A PostgreSQL array literal of @n strings (each quoted), malloc'd; NULL when out of
 * memory. Data for a $n parameter, never SQL.
 */
char *pbx_store_bulk_array(const char *const *items, size_t n);

/*
 * Create a tenant: slug, name, status, ext_min, ext_max, ext_next, default_inbound.
 * *@ret_id gets its id.
 */
int pbx_store_bulk_tenant_create(PGconn *pg, const char *const v[7], char ret_id[24],
				 pbx_error *err);

/* Update tenant @id: name, status, ext_min, ext_max, ext_next, default_inbound. */
int pbx_store_bulk_tenant_update(PGconn *pg, const char *id, const char *const v[6],
				 pbx_error *err);

/* Move the ext_next pointers (no audit row, as `user create` writes none for it). */
int pbx_store_bulk_ext_next(PGconn *pg, const char *ids, const char *values, pbx_error *err);

/* Delete devices (array literal of ids), each with its audit row. */
int pbx_store_bulk_devices_delete(PGconn *pg, const char *ids, pbx_error *err);

/* Soft-delete users (array literal of ids), as `user delete` does; devices go first. */
int pbx_store_bulk_users_delete(PGconn *pg, const char *ids, pbx_error *err);

/*
 * Update users. Columns: id, action ("update" or "restore"), display_name, email,
 * extension, status, outbound_callerid, voicemail, pin_hash, dnd, forward_to (final values
 * of every column). Extensions may be swapped among them.
 */
#define PBX_STORE_BULK_USER_UPD_COLS 11
int pbx_store_bulk_users_update(PGconn *pg, const struct pbx_store_bulk_batch *b, pbx_error *err);

/*
 * Create users. Columns: tenant_id, username, display_name, email, extension, status,
 * outbound_callerid, voicemail, pin_hash, dnd, forward_to.
 */
#define PBX_STORE_BULK_USER_NEW_COLS 11
int pbx_store_bulk_users_create(PGconn *pg, const struct pbx_store_bulk_batch *b, pbx_error *err);

/*
 * Update devices. Columns: id, transport, force_rport, rewrite_contact, rtp_symmetric,
 * direct_media, codecs (comma-separated), enabled.
 */
#define PBX_STORE_BULK_DEVICE_UPD_COLS 8
int pbx_store_bulk_devices_update(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  pbx_error *err);

/*
 * Create devices. Columns: tenant_id, username (of the owner), label, sip_username,
 * secret_sealed, transport, force_rport, rewrite_contact, rtp_symmetric, direct_media,
 * codecs (comma-separated), enabled.
 */
#define PBX_STORE_BULK_DEVICE_NEW_COLS 12
int pbx_store_bulk_devices_create(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  pbx_error *err);

/* Which of the SIP usernames in @names (array literal) are taken: a result to PQclear. */
PGresult *pbx_store_bulk_sip_taken(PGconn *pg, const char *names, pbx_error *err);

/*
 * Append every staged audit row to the audit log, chained, with @source as their source.
 * *@ret_rows gets how many were written.
 */
int pbx_store_bulk_audit_finish(PGconn *pg, const char *source, size_t *ret_rows,
				pbx_error *err);

/* ---- export ----------------------------------------------------------------------- */

/* Tenants (one when @tenant is not NULL: slug or id), by slug; pbx_schema_tenant columns. */
PGresult *pbx_store_bulk_export_tenants(PGconn *pg, const char *tenant, pbx_error *err);
/* Users not deleted of tenant @id by extension, pbx_schema_user columns. */
PGresult *pbx_store_bulk_export_users(PGconn *pg, const char *id, pbx_error *err);
/* Devices of tenant @id by username and label, pbx_schema_device columns (secret masked). */
PGresult *pbx_store_bulk_export_devices(PGconn *pg, const char *id, pbx_error *err);

#endif
