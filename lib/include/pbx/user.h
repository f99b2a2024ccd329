/* SPDX-License-Identifier: MIT */
/*
 * Users of a tenant: a username unique in the tenant, a display name, an extension taken
 * from the tenant's range (allocated under a row lock on the tenant, or picked explicitly),
 * a status (active, suspended, deleted: delete is soft, purge removes the row), caller ID,
 * voicemail with a PIN kept only as an argon2id hash, DND and call forwarding. Every change
 * writes its audit row in the same transaction; the PIN never appears in output or audit.
 * Functions name the tenant by slug or id, and a user by username, extension or id.
 */
#ifndef PBX_USER_H
#define PBX_USER_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

/* Tri-state for boolean fields of a spec: leave alone, off, on. */
#define PBX_UNSET (-1)

/*
 * What create sets, or what update changes. NULL / PBX_UNSET = leave alone (create: the
 * default). On update "" clears the optional text fields (email, outbound_callerid,
 * forward_to, pin).
 */
struct pbx_user_spec {
	const char *username;          /* create: required; update: rename */
	const char *name;              /* display name; create default: the username */
	const char *email;
	const char *extension;         /* create: NULL = allocate; update: move */
	const char *outbound_callerid; /* E.164 or 2 to 20 digits */
	const char *pin;               /* plaintext, 4-10 digits; hashed, never stored as is */
	const char *forward_to;        /* an extension of the tenant's range, or +E164 */
	int voicemail;                 /* PBX_UNSET, 0, 1 */
	int dnd;                       /* PBX_UNSET, 0, 1 */
};

#define PBX_USER_SPEC_INIT { .voicemail = PBX_UNSET, .dnd = PBX_UNSET }

/* Field rules, shared with import: 0 or PBX_EINVALID naming @object and the field. */
int pbx_user_check_username(const char *object, const char *username, pbx_error *err);
int pbx_user_check_callerid(const char *object, const char *callerid, pbx_error *err);

/*
 * Create a user in @tenant. Without spec->extension the extension comes from the tenant's
 * ext_next pointer (skipping extensions already taken, including by deleted users); when
 * the pointer has passed the end of the range the lowest free extension is used, and when
 * there is none the error names the range. @ret receives the new user (pbx_schema_user).
 * PBX_EINVALID (a field, an extension outside the range, a weak PIN), PBX_ECONFLICT
 * (username or extension taken, or no free extension left: the message names the range),
 * PBX_ENOTFOUND (tenant).
 */
int pbx_user_create(pbx_ctx *ctx, const char *tenant, const struct pbx_user_spec *spec,
		    struct pbx_rows *ret, pbx_error *err);

/*
 * Change the fields set in @spec. A deleted user cannot be updated (restore it first).
 * @ret_changed tells whether anything differed; nothing is written when nothing did.
 * PBX_EINVALID, PBX_ECONFLICT, PBX_ENOTFOUND.
 */
int pbx_user_update(pbx_ctx *ctx, const char *tenant, const char *user,
		    const struct pbx_user_spec *spec, struct pbx_rows *ret, bool *ret_changed,
		    pbx_error *err);

/* Set status "active" (resume) or "suspended" (suspend). PBX_ECONFLICT when deleted. */
int pbx_user_set_status(pbx_ctx *ctx, const char *tenant, const char *user, const char *status,
			struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/*
 * Delete: mark the user deleted, which frees its extension, and remove its devices. With
 * @purge remove the row as well (also of an already deleted user); then @ret is left empty.
 * Each removed device gets its own audit row. PBX_ENOTFOUND.
 */
int pbx_user_delete(pbx_ctx *ctx, const char *tenant, const char *user, bool purge,
		    struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/*
 * Make a deleted user active again, on its old extension or on @extension (NULL = the old
 * one). PBX_ECONFLICT naming the extension when another user has taken it meanwhile.
 */
int pbx_user_restore(pbx_ctx *ctx, const char *tenant, const char *user, const char *extension,
		     struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/* Sort orders of pbx_user_list; each is stable (ties broken by id). */
#define PBX_USER_SORT_EXTENSION "extension"
#define PBX_USER_SORT_USERNAME "username"
#define PBX_USER_SORT_NAME "name"

struct pbx_user_filter {
	const char *status;  /* active, suspended, deleted, all; NULL = all but deleted */
	const char *search;  /* substring of username or name (any case), or extension prefix */
	const char *sort;    /* PBX_USER_SORT_*; NULL = extension */
	long limit;          /* rows per page, 1 to 10000; 0 = 1000 */
	const char *after;   /* cursor from a previous page's ret->next_cursor */
};

/*
 * One page of users of @tenant. When more rows remain ret->next_cursor is set (owned by
 * @ret) and gives the next page as filter->after with the same sort.
 * PBX_EINVALID (status, sort, limit or cursor), PBX_ENOTFOUND (tenant).
 */
int pbx_user_list(pbx_ctx *ctx, const char *tenant, const struct pbx_user_filter *filter,
		  struct pbx_rows *ret, pbx_error *err);

/* One user, deleted ones included. PBX_ENOTFOUND. */
int pbx_user_show(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		  pbx_error *err);

#endif
