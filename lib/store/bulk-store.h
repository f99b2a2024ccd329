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
 * Begin the import transaction. @writes: create the staging tables, with @source as the
 * audit source; else a read-only REPEATABLE READ snapshot (dry run, export; @source unused).
 */
int pbx_store_bulk_begin(PGconn *pg, bool writes, const char *source, pbx_error *err);

/*
 * Take the audit log's lock (audit_append's), held to commit: the audit rows staged from
 * now on draw their ids at once. Taken after planning, so that slow steps (PIN hashing) do
 * not hold up every other change.
 */
int pbx_store_bulk_audit_lock(PGconn *pg, pbx_error *err);

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
 * extension, status, outbound_callerid, voicemail, pin_hash, dnd, forward_to, policy_id
 * (final values of every column). Extensions may be swapped among them.
 */
#define PBX_STORE_BULK_USER_UPD_COLS 12
int pbx_store_bulk_users_update(PGconn *pg, const struct pbx_store_bulk_batch *b, pbx_error *err);
/* Set vm_pin_verifier_sealed of the users @ids (an int8[] literal) to @sealed (text[]). */
int pbx_store_bulk_pin_verifiers(PGconn *pg, const char *ids, const char *sealed, pbx_error *err);

/* Audit rows built in memory for what an import creates (bulk-audit.c). */
struct pbx_store_bulk_audit;

int pbx_store_bulk_audit_new(struct pbx_store_bulk_audit **ret);
void pbx_store_bulk_audit_free(struct pbx_store_bulk_audit *a);

/* @n fresh ids of @table's id sequence, ascending; *@ret malloc'd. */
int pbx_store_bulk_ids(PGconn *pg, const char *table, size_t n, char (**ret)[24], pbx_error *err);

/*
 * Create users, with ids from pbx_store_bulk_ids("users"). Columns: id, tenant_id, tenant
 * (slug), username, display_name, email, extension, status, outbound_callerid, voicemail,
 * pin_hash, dnd, forward_to, policy (name), policy_id. Their audit rows go to @a.
 */
enum { PBX_SBU_ID, PBX_SBU_TENANT_ID, PBX_SBU_TENANT, PBX_SBU_USERNAME, PBX_SBU_NAME,
       PBX_SBU_EMAIL, PBX_SBU_EXTENSION, PBX_SBU_STATUS, PBX_SBU_CALLERID, PBX_SBU_VOICEMAIL,
       PBX_SBU_PIN_HASH, PBX_SBU_DND, PBX_SBU_FORWARD_TO, PBX_SBU_POLICY, PBX_SBU_POLICY_ID,
       PBX_STORE_BULK_USER_NEW_COLS };
int pbx_store_bulk_users_create(PGconn *pg, const struct pbx_store_bulk_batch *b,
				struct pbx_store_bulk_audit *a, pbx_error *err);

/*
 * Update devices. Columns: id, transport, force_rport, rewrite_contact, rtp_symmetric,
 * direct_media, codecs (comma-separated), enabled.
 */
#define PBX_STORE_BULK_DEVICE_UPD_COLS 8
int pbx_store_bulk_devices_update(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  pbx_error *err);

/*
 * Create devices, with ids from pbx_store_bulk_ids("devices"). Columns: id, tenant_id,
 * tenant (slug), user_id, user (username), label, sip_username, secret_sealed, transport,
 * force_rport, rewrite_contact, rtp_symmetric, direct_media, codecs (comma-separated),
 * enabled, codecs as an array literal. Their audit rows go to @a.
 */
enum { PBX_SBD_ID, PBX_SBD_TENANT_ID, PBX_SBD_TENANT, PBX_SBD_USER_ID, PBX_SBD_USER,
       PBX_SBD_LABEL, PBX_SBD_SIP_USERNAME, PBX_SBD_SEALED, PBX_SBD_TRANSPORT,
       PBX_SBD_FORCE_RPORT, PBX_SBD_REWRITE_CONTACT, PBX_SBD_RTP_SYMMETRIC,
       PBX_SBD_DIRECT_MEDIA, PBX_SBD_CODECS, PBX_SBD_ENABLED, PBX_SBD_CODECS_ARRAY,
       PBX_STORE_BULK_DEVICE_NEW_COLS };
int pbx_store_bulk_devices_create(PGconn *pg, const struct pbx_store_bulk_batch *b,
				  struct pbx_store_bulk_audit *a, pbx_error *err);

/* Which of the SIP usernames in @names (array literal) are taken: a result to PQclear. */
PGresult *pbx_store_bulk_sip_taken(PGconn *pg, const char *names, pbx_error *err);

/*
 * Build the audit rows ("create") of @n new objects of @schema from @values (n rows of
 * schema->n_fields cells, schema order; @tenant_key names the tenant slug's field).
 */
int pbx_store_bulk_audit_creates(PGconn *pg, struct pbx_store_bulk_audit *a,
				 const struct pbx_schema *schema, const char *const *values,
				 size_t n, const char *tenant_key, pbx_error *err);

/*
 * Append every staged audit row and every row of @a (may be NULL) to the audit log,
 * chained in id order as audit_append() chains them. *@ret_rows gets how many.
 */
int pbx_store_bulk_audit_finish(PGconn *pg, struct pbx_store_bulk_audit *a, size_t *ret_rows,
				pbx_error *err);

/* ---- COPY, shared by bulk.c and bulk-audit.c ---------------------------------------- */

struct pbx_store_bulk_buf {
	char *p;
	size_t n, cap;
	bool oom;
};

void pbx_store_bulk_put(struct pbx_store_bulk_buf *b, const char *s, size_t n);

/* COPY @batch (every column, or the @n_cols columns @cols in that order) with @sql. */
int pbx_store_bulk_copy(PGconn *pg, const char *sql, const struct pbx_store_bulk_batch *batch,
			const char *object, pbx_error *err);
int pbx_store_bulk_copy_cols(PGconn *pg, const char *sql, const struct pbx_store_bulk_batch *batch,
			     const int *cols, size_t n_cols, const char *object, pbx_error *err);

/*
 * A table that COPY fills: PostgreSQL refuses COPY FROM into a table whose row-level
 * security applies to the session (an operator that is not the owner, migration 0007), so
 * then the rows go through a temporary copy of the table and one INSERT, which the
 * policies check row by row, naming the columns (generated ones, such as users.has_pin,
 * take no value). BULK_TARGET("users", "id, ...") spells every statement.
 */
struct pbx_store_bulk_target {
	const char *table;
	const char *copy;        /* COPY table (cols) FROM STDIN */
	const char *stage[4];    /* create the copy, COPY into it, INSERT from it, drop it */
};

#define BULK_TARGET(table, cols) { table, "COPY " table " (" cols ") FROM STDIN", { \
	"CREATE TEMP TABLE pbx_bulk_rls_" table " ON COMMIT DROP AS SELECT " cols " FROM " \
		table " WITH NO DATA", \
	"COPY pbx_bulk_rls_" table " (" cols ") FROM STDIN", \
	"INSERT INTO " table " (" cols ") SELECT " cols " FROM pbx_bulk_rls_" table, \
	"DROP TABLE pbx_bulk_rls_" table } }

/* COPY @batch's @n_cols columns @cols (NULL: all, in order) into @t. */
int pbx_store_bulk_copy_into(PGconn *pg, const struct pbx_store_bulk_target *t,
			     const struct pbx_store_bulk_batch *batch, const int *cols, size_t n_cols,
			     const char *object, pbx_error *err);

/* ---- DIDs, trunks, policies (bulk-routing.c, bulk-trunks.c, bulk-dids.c, bulk-policies.c) */

/*
 * Their state: every trunk (names are unique across tenants; rules may name global
 * trunks), the policies of the tenants in @tenant_ids, and the DIDs of those tenants or
 * whose numbers are in @numbers (array literals). Columns: the schemas' keys, plus
 * trunks: _sealed, _tenant_id; policies: _tenant_id, _rules (the rules as one string:
 * pattern, action, strip, prepend, trunks joined by \x1f, rules by \x1e); dids: _tenant_id.
 */
struct pbx_store_bulk_routing {
	PGresult *trunks, *policies, *dids;
};

int pbx_store_bulk_load_routing(PGconn *pg, const char *tenant_ids, const char *numbers,
				struct pbx_store_bulk_routing *ret, pbx_error *err);
void pbx_store_bulk_routing_free(struct pbx_store_bulk_routing *x);

/*
 * Create (@id NULL) or update a trunk with the final value of every column: tenant_id,
 * name, host, port, transport, auth, username, secret_sealed, match, codecs (both
 * comma-separated), callerid_mode, callerid, enabled. *@ret_id gets its id.
 */
int pbx_store_bulk_trunk_write(PGconn *pg, const char *id, const char *const v[13],
			       char ret_id[24], pbx_error *err);

/* Create (@id NULL) or update a DID: tenant_id, number, label, provider, destination, enabled. */
int pbx_store_bulk_did_write(PGconn *pg, const char *id, const char *const v[6], pbx_error *err);

/*
 * Create (@id NULL) or update a policy; with @rules (columns pattern, action, strip,
 * prepend, trunks comma-separated) its rules are replaced by them, in order.
 */
int pbx_store_bulk_policy_write(PGconn *pg, const char *id, const char *tenant_id,
				const char *name, const char *description,
				const struct pbx_store_bulk_batch *rules, char ret_id[24],
				pbx_error *err);

/*
 * Stage the image of "trunk", "did" or "policy" @id: "before" of a pending update, or a
 * pending create (bulk-routing.c, for the writes of each).
 */
int pbx_store_bulk_stage(PGconn *pg, const char *entity, const char *id, bool create,
			 pbx_error *err);

/* Delete a "trunk", "did" or "policy" with its audit row. */
int pbx_store_bulk_routing_delete(PGconn *pg, const char *entity, const char *id, pbx_error *err);

/* tenant_id, name, id of every policy of @tenant_ids: a result to PQclear. */
PGresult *pbx_store_bulk_policy_ids(PGconn *pg, const char *tenant_ids, pbx_error *err);

/* Set tenant @tenant_id's default policy to the one named @policy (NULL: none). */
/* Set tenant @tenant_id's emergency trunk (by name: its own or a global trunk; NULL clears)
 * and emergency caller ID (NULL clears), after the import's trunks exist. */
int pbx_store_bulk_tenant_emergency(PGconn *pg, const char *tenant_id, const char *trunk,
				    const char *callerid, pbx_error *err);
int pbx_store_bulk_tenant_policy(PGconn *pg, const char *tenant_id, const char *policy,
				 pbx_error *err);

/* Take the "after" images of every pending tenant, trunk, policy and DID row. */
int pbx_store_bulk_pending_images(PGconn *pg, pbx_error *err);

/* ---- export ----------------------------------------------------------------------- */

/* Trunks of tenant @tenant_id, or the global ones when NULL, by name. */
PGresult *pbx_store_bulk_export_trunks(PGconn *pg, const char *tenant_id, pbx_error *err);
PGresult *pbx_store_bulk_export_dids(PGconn *pg, const char *tenant_id, pbx_error *err);
PGresult *pbx_store_bulk_export_policies(PGconn *pg, const char *tenant_id, pbx_error *err);
/* Rules of tenant @tenant_id's policies: policy, pattern, action, strip, prepend, trunks. */
PGresult *pbx_store_bulk_export_rules(PGconn *pg, const char *tenant_id, pbx_error *err);

/* Tenants (one when @tenant is not NULL: slug or id), by slug; pbx_schema_tenant columns. */
PGresult *pbx_store_bulk_export_tenants(PGconn *pg, const char *tenant, pbx_error *err);
/* Users not deleted of tenant @id by extension, pbx_schema_user columns. */
PGresult *pbx_store_bulk_export_users(PGconn *pg, const char *id, pbx_error *err);
/* Devices of tenant @id by username and label, pbx_schema_device columns (secret masked). */
PGresult *pbx_store_bulk_export_devices(PGconn *pg, const char *id, pbx_error *err);

/* ---- SQL shared by the bulk store files ----------------------------------------- */

/*
 * Staging an audit row draws its id and time now, in the order of the rows selected
 * (AUDIT_FROM wraps the ordered selection, so the ids follow its ORDER BY).
 */
#define AUDIT_INTO \
	"INSERT INTO pbx_bulk_audit (id, at, actor, source, tenant, action, entity, entity_id, "
#define AUDIT_FROM \
	"SELECT nextval('audit_log_id_seq'), clock_timestamp(), session_user, " \
	"current_setting('pbxctl.source'), q.* FROM (SELECT "

#endif
