/* SPDX-License-Identifier: MIT */
/*
 * Self-service state that calls read from Asterisk's AstDB: do-not-disturb, the call
 * forward and the mailbox PIN verifier of every active user, under the family
 * PBX_DP_ASTDB_FAMILY/<slug>/<ext> (keys dnd, forward, pin; see pbx/dialplan.h). PostgreSQL
 * is the record and is always written first; AstDB is written over AMI (DBPut, DBDel,
 * DBDelTree) right after, so a change is live without a reload. A write Asterisk did not
 * take leaves the user "pending" in PostgreSQL; the next push or apply writes it again.
 * Changes made on a phone (feature codes) arrive as UserEvents and, at the latest, at the
 * next apply, which reads AstDB back: PostgreSQL then takes them, audited with the user as
 * actor and the device as source, after the same validation as a change from the shell.
 */
#ifndef PBX_SELFSERVICE_H
#define PBX_SELFSERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/ami.h"
#include "pbx/operator.h"
#include "pbx/pbx.h"

/* AMI attempts of one push before it is reported (a short pause between them). */
#define PBX_SELFSERVICE_ATTEMPTS 3

/*
 * Write the AstDB keys of @user of @tenant from PostgreSQL (an inactive user's keys are
 * removed) and clear its pending mark. PBX_EUNAVAILABLE when Asterisk did not take the
 * write after PBX_SELFSERVICE_ATTEMPTS attempts: the message says that PostgreSQL holds the
 * change and the next apply writes it (it is logged as a warning too). PBX_ENOTFOUND.
 */
int pbx_selfservice_push(pbx_ctx *ctx, const char *tenant, const char *user, pbx_error *err);

/*
 * Check a forward destination of @user of @tenant: an extension of the tenant's range
 * other than the user's own, or a number (2 to 20 digits after an optional +) that the
 * user's outbound policy (or the tenant's default) allows. PBX_EINVALID naming the field
 * "forward_to"; PBX_ENOTFOUND.
 */
int pbx_selfservice_check_forward(pbx_ctx *ctx, const char *tenant, const char *user,
				  const char *forward, pbx_error *err);

/*
 * Consume one AMI event. A "UserEvent: " PBX_DP_SELFSERVICE_EVENT (Tenant, Extension,
 * Setting, Value; raised by a feature code) makes pbxctl read that user's keys back from
 * AstDB and, where they differ from PostgreSQL and pass validation, write PostgreSQL and an
 * audit row (actor "<slug>/<username>", source "phone <endpoint>" from the event's
 * Channel, or "ami" without one). A value that fails validation is replaced in AstDB by
 * PostgreSQL's. The event's own Value is never trusted: AstDB is read. Any other event is
 * ignored (0, *@ret_changed false). PBX_EINVALID (malformed headers), PBX_ENOTFOUND (no
 * such active user), PBX_EUNAVAILABLE.
 */
int pbx_selfservice_event(pbx_ctx *ctx, const struct pbx_ami_msg *event, bool *ret_changed,
			  pbx_error *err);

/* What a reconciliation did. */
struct pbx_selfservice_report {
	size_t pushed;   /* users whose keys were written from PostgreSQL */
	size_t taken;    /* users whose phone-made change PostgreSQL took */
	size_t removed;  /* extensions whose stale keys were deleted */
	size_t failed;   /* users left pending (AstDB did not take the write) */
};

/*
 * Apply's step: for every active tenant (or only @tenant), read its AstDB tree back and
 * reconcile each active user: pending or missing keys are written from PostgreSQL, keys a
 * phone changed are taken into PostgreSQL (audited), invalid ones overwritten; keys of
 * extensions no active user has are deleted. Keeps going past a user that fails;
 * PBX_EUNAVAILABLE when Asterisk cannot be reached at all.
 */
int pbx_selfservice_reconcile(pbx_ctx *ctx, const char *tenant,
			      struct pbx_selfservice_report *ret, pbx_error *err);

/*
 * `pbxctl me`: the session's own user (an end_user operator). @op receives who the session
 * is. PBX_EPERM for any other role (the message says to use `pbxctl user`).
 */
int pbx_me_whoami(pbx_ctx *ctx, struct pbx_operator *op, pbx_error *err);

/* The operator's user (pbx_schema_user). PBX_EPERM as pbx_me_whoami. */
int pbx_me_show(pbx_ctx *ctx, struct pbx_operator *op, struct pbx_rows *ret, pbx_error *err);

/*
 * Change the operator's own DND or forward (NULL or "" clears it) through PostgreSQL's
 * pbx_me_set_dnd / pbx_me_set_forward, which validate, write and audit with the session's
 * login as actor. @ret receives the user afterwards. PBX_EINVALID (a forward outside the
 * tenant's range, the user's own extension, not +E164), PBX_EPERM. AstDB is not written
 * here: see pbx_selfservice_push.
 */
int pbx_me_set_dnd(pbx_ctx *ctx, bool on, struct pbx_operator *op, struct pbx_rows *ret,
		   bool *ret_changed, pbx_error *err);
int pbx_me_set_forward(pbx_ctx *ctx, const char *dest, struct pbx_operator *op,
		       struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

#endif
