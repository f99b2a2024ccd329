/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: what the user and device stores share. The output SELECTs (also the
 * audit images: the secret and the PIN are masked in them, so neither the sealed secret nor
 * the PIN hash can reach the audit log), the lookup of a tenant and of a user by username,
 * extension or id, the end of every change: image, audit row and commit, and the fast path
 * of plain creates.
 */
#ifndef PBX_STORE_USER_INTERNAL_H
#define PBX_STORE_USER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/device.h"
#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "pbx/user.h"
#include "pg.h"

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
 * The statements on the path of every create, prepared once per connection (the plans of
 * these joins cost more than running them). Each slot has exactly one SQL text.
 */
enum pbx_user_stmt {
	STMT_USER_FINISH,
	STMT_DEVICE_FINISH,
	STMT_USER_CREATE_LOCK,
	STMT_USER_ALLOC_NEXT,
	STMT_USER_INSERT,
	STMT_DEVICE_CREATE_LOCK,
	STMT_DEVICE_INSERT,
	STMT_USER_PLAIN,
	STMT_DEVICE_PLAIN,
	STMT_TX_SETTINGS,
	STMT_MAX_,
};

/*
 * Like pbx_pg_query, but through the prepared statement @slot, which is prepared from
 * @sql the first time this connection runs it.
 */
PGresult *pbx_user_stmt(PGconn *pg, enum pbx_user_stmt slot, const char *sql, int n,
			const char *const *params, const char *object, pbx_error *err);

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

/* BEGIN a change (with the plan settings of its prepared statements). */
int pbx_user_tx_begin(PGconn *pg, pbx_error *err);

/*
 * The fast path of the creates. A plain create (the usual one: nothing taken, nothing
 * missing) is one prepared statement per object calling a function of migration 0006,
 * which raises SQLSTATE PBX01 before writing anything when the create is not plain. The
 * statements of a change go to the server in one round trip with BEGIN and COMMIT.
 */
#define PBX_USER_STEP_PARAMS 14
struct pbx_user_step {
	enum pbx_user_stmt slot;
	const char *sql;
	int n;
	const char *params[PBX_USER_STEP_PARAMS];
};

/*
 * Run @steps (at most 1 + PBX_DEVICE_MAX_PER_USER) in one transaction, sent at once with
 * BEGIN and COMMIT (libpq pipeline mode), and append the one row of steps[i] to rows[i].
 * 0: committed. 1: not committed, nothing written (a step declined or failed, or the
 * connection cannot pipeline): the caller takes its general path, which reports any
 * problem as it always has. PBX_ERROR: committed, but out of memory reading the rows.
 */
int pbx_user_fast(PGconn *pg, const struct pbx_user_step *steps, size_t n,
		  struct pbx_rows *const *rows, pbx_error *err);

/*
 * Whether the create of @spec can be plain: no PIN and no forward to an extension (both are
 * checked against the new extension in C, which the general path does before inserting).
 */
bool pbx_user_plain(const struct pbx_user_spec *spec);

/* The step creating @spec in @tenant (hash: the PIN's, or "" without one). user-query.c */
void pbx_user_plain_step(pbx_ctx *ctx, const char *tenant, const struct pbx_user_spec *spec,
			 const char *hash, struct pbx_user_step *step);

/*
 * Create @spec in @tenant the plain way, its row appended to @rows: the return values of
 * pbx_user_fast, and 1 as well when @spec is not plain.
 */
int pbx_user_create_plain(pbx_ctx *ctx, PGconn *pg, const char *tenant,
			  const struct pbx_user_spec *spec, const char *hash,
			  struct pbx_rows *rows, pbx_error *err);

/* The step adding device @spec to @user of @tenant (device.c). */
void pbx_device_plain_step(pbx_ctx *ctx, const char *tenant, const char *user,
			   const struct pbx_device_spec *spec, const char *sip_username,
			   const char *sealed, struct pbx_user_step *step);

/* A tenant as the user and device stores need it. */
struct pbx_tenant_ref {
	char id[24];
	char slug[32];
	long ext_min, ext_max, ext_next;
};

/* A user found by pbx_user_find (not locked: lock and load it before relying on status). */
struct pbx_user_ref {
	char id[24];
	char username[40];
	char extension[16];
	char status[16];
};

/*
 * Find @tenant (slug or id) and, when @user is not NULL, its user named by username,
 * extension or id (a username wins; among extensions a live user wins over deleted ones).
 * PBX_ENOTFOUND naming whichever is missing.
 */
int pbx_user_find(PGconn *pg, const char *tenant, const char *user, struct pbx_tenant_ref *ret_t,
		  struct pbx_user_ref *ret_u, pbx_error *err);

/*
 * Run @sql ($1 = id, returning x.* and _json, the audit image) and fill @rows (may be
 * NULL) and *@json (owned, may be NULL). PBX_ENOTFOUND when no row.
 */
int pbx_user_load(PGconn *pg, const char *sql, const char *id, const char *object,
		  struct pbx_rows *rows, char **json, pbx_error *err);

/*
 * The end of a change: run @sql (prepared as @slot), which selects the entity's rows and appends its audit row
 * ($1 id, $2 source, $3 tenant slug, $4 action, $5 before image), fill a new table of
 * @schema, then either commit, or, when @before_rows is given and nothing but updated_at
 * differs and !@force_changed, roll back (no write, no audit row). On success *@ret gets the
 * rows (or they are freed when @ret is NULL) and *@ret_changed whether it committed.
 * Rolls back on failure.
 */
int pbx_user_finish(pbx_ctx *ctx, PGconn *pg, enum pbx_user_stmt slot, const char *sql,
		    const struct pbx_schema *schema,
		    const char *id, const char *slug, const char *action, const char *before,
		    const struct pbx_rows *before_rows, bool force_changed, struct pbx_rows *ret,
		    bool *ret_changed, pbx_error *err);

/* Whether two one-row tables differ in anything but updated_at. */
bool pbx_user_rows_differ(const struct pbx_rows *a, const struct pbx_rows *b);

/*
 * Create, in two halves: the checks that need no database, which also hash the PIN into
 * @hash (n bytes, "" without a PIN; the caller wipes it), and, inside the caller's open
 * transaction, the rest, without BEGIN or COMMIT (the caller rolls back on failure).
 * @ret_t (may be NULL) gets the locked tenant; @ret the new user.
 */
int pbx_user_check_new(const struct pbx_user_spec *spec, char *hash, size_t n, pbx_error *err);
int pbx_user_create_tx(pbx_ctx *ctx, PGconn *pg, const char *tenant,
		       const struct pbx_user_spec *spec, const char *hash,
		       struct pbx_tenant_ref *ret_t, struct pbx_rows *ret, pbx_error *err);

/* Put the plaintext secret into the single row of @ret (freed on failure). device-query.c */
int pbx_device_hand_out(struct pbx_rows *ret, const char *plain, pbx_error *err);

/*
 * The mailbox PIN verifier of @pin (pbx_secret_pin_verifier), sealed with the secrets key
 * into *@ret (malloc'd, holds no secret in the open; NULL with a warning logged when there
 * is no secrets key: the PIN then works everywhere but *98); and storing it on user @id in the
 * current transaction (selfservice.c).
 */
int pbx_user_seal_verifier(pbx_ctx *ctx, const char *pin, char **ret, pbx_error *err);
int pbx_user_store_verifier(PGconn *pg, const char *id, const char *sealed, pbx_error *err);

/* Remove every device of user @user_id, each with its own audit row (device.c). */
int pbx_device_remove_of_user(pbx_ctx *ctx, PGconn *pg, const char *slug, const char *user_id,
			      pbx_error *err);

/*
 * me.c: poll the request @id (@sql selects it by $1 into @schema, with a "status" and a
 * "reason" column) for up to @wait_ms while it is queued. 0 when done or still queued
 * (@ret holds it); a refusal or failure is PBX_EINVALID "@field: <reason>" on @field.
 */
int me_wait_request(PGconn *pg, const char *sql, const char *id, int wait_ms,
		    const struct pbx_schema *schema, const char *field, struct pbx_rows *ret,
		    pbx_error *err);
/* The worker's side: @one settles the oldest queued request (1), or finds none (0); run it
 * until none is left. Returns how many were settled, or the first error. */
int me_run_requests(pbx_ctx *ctx, int (*one)(pbx_ctx *, PGconn *, pbx_error *), pbx_error *err);

#endif
