/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: users as the other stores need them (devices, greetings, self-service,
 * bulk import): the lookup of a tenant and of a user by username, extension or id, the
 * plain create of a user, the create inside a caller's transaction, and the sealed PIN
 * verifier. The output SELECTs are in selects.h, the prepared statements in prepared.h.
 */
#ifndef PBX_STORE_USER_INTERNAL_H
#define PBX_STORE_USER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "pbx/user.h"
#include "pg.h"
#include "prepared.h"
#include "selects.h"

/*
 * Whether the create of @spec can be plain: no PIN and no forward to an extension (both are
 * checked against the new extension in C, which the general path does before inserting).
 */
bool pbx_user_plain(const struct pbx_user_spec *spec);

/* The step creating @spec in @tenant (hash: the PIN's, or "" without one). user-query.c */
void pbx_user_plain_step(pbx_ctx *ctx, const char *tenant, const struct pbx_user_spec *spec,
			 const char *hash, struct store_step *step);

/*
 * Create @spec in @tenant the plain way, its row appended to @rows: the return values of
 * store_fast, and 1 as well when @spec is not plain.
 */
int pbx_user_create_plain(pbx_ctx *ctx, PGconn *pg, const char *tenant,
			  const struct pbx_user_spec *spec, const char *hash,
			  struct pbx_rows *rows, pbx_error *err);

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
 * Create, in two halves: the checks that need no database, which also hash the PIN into
 * @hash (n bytes, "" without a PIN; the caller wipes it), and, inside the caller's open
 * transaction, the rest, without BEGIN or COMMIT (the caller rolls back on failure).
 * @ret_t (may be NULL) gets the locked tenant; @ret the new user.
 */
int pbx_user_check_new(const struct pbx_user_spec *spec, char *hash, size_t n, pbx_error *err);
int pbx_user_create_tx(pbx_ctx *ctx, PGconn *pg, const char *tenant,
		       const struct pbx_user_spec *spec, const char *hash,
		       struct pbx_tenant_ref *ret_t, struct pbx_rows *ret, pbx_error *err);

/*
 * The mailbox PIN verifier of @pin (pbx_secret_pin_verifier), sealed with the secrets key
 * into *@ret (malloc'd, holds no secret in the open; NULL with a warning logged when there
 * is no secrets key: the PIN then works everywhere but *98); and storing it on user @id in the
 * current transaction (selfservice.c).
 */
int pbx_user_seal_verifier(pbx_ctx *ctx, const char *pin, char **ret, pbx_error *err);
int pbx_user_store_verifier(PGconn *pg, const char *id, const char *sealed, pbx_error *err);

/*
 * The rules of user.c shared with user-update.c. check_spec: the checks that need no
 * database (@create: of a new user). check_range: @ext inside @t's range. check_forward: a
 * forward to an extension stays inside @t and does not point back at @ext. hash_pin: check
 * and hash a new PIN before any transaction. check_pin_vs_ext: the PIN (the new @pin, else
 * the stored @pin_hash) must not become the extension @ext.
 */
int pbx_user_check_spec(const char *object, const struct pbx_user_spec *s, bool create,
			pbx_error *err);
int pbx_user_check_range(const char *object, const struct pbx_tenant_ref *t, const char *ext,
			 pbx_error *err);
int pbx_user_check_forward(const char *object, const struct pbx_tenant_ref *t, const char *fwd,
			   const char *ext, pbx_error *err);
int pbx_user_hash_pin(const char *object, const char *pin, const char *ext, char *hash, size_t n,
		      pbx_error *err);
int pbx_user_check_pin_vs_ext(const char *object, const char *pin, const char *pin_hash,
			      const char *ext, pbx_error *err);

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
