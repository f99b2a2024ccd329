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

/* pbx_selfservice_event for a self-service UserEvent, logging what it did; others ignored. */
void pbx_selfservice_consume(pbx_ctx *ctx, const struct pbx_ami_msg *event);

/*
 * The apply worker's AMI session for self-service UserEvents (pbx_selfservice_consume):
 * _poll connects when needed (with a backoff after a failure, logged as a warning) and
 * takes what arrived since the last poll. Never fails: Asterisk being away only delays the
 * changes until it is back or the next apply reconciles.
 */
struct pbx_selfservice_listener;
struct pbx_selfservice_listener *pbx_selfservice_listen(pbx_ctx *ctx);
void pbx_selfservice_listen_poll(struct pbx_selfservice_listener *l);
void pbx_selfservice_listen_close(struct pbx_selfservice_listener *l);

/* What a reconciliation did. */
struct pbx_selfservice_report {
	size_t pushed;   /* users whose keys were written from PostgreSQL */
	size_t taken;    /* users whose phone-made change PostgreSQL took */
	size_t removed;  /* extensions whose stale keys were deleted */
	size_t failed;   /* users left pending (AstDB did not take the write) */
};

/*
 * Does any user of @tenant (NULL: of any tenant) wait for the reconcile to write their
 * state to AstDB? One look at an index; true too when PostgreSQL cannot say.
 */
bool pbx_selfservice_pending(pbx_ctx *ctx, const char *tenant);

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

/* A PIN change request (pbx_me_change_pin): request id, status, reason. */
extern const struct pbx_schema pbx_schema_pin_change;

/*
 * Change the operator's own voicemail PIN, proving @current (migration 0017_b): the pair is
 * sealed to the published sealing key and filed; the privileged apply worker verifies
 * @current against the argon2id hash and sets @new_pin (pbx_pin_change_run). Waits up to
 * @wait_ms for the verdict; @ret gets the request (pbx_schema_pin_change), whose status is
 * "done", or still "queued" when no worker answered in time (0 either way). PBX_EINVALID
 * (a PIN breaks the rules, or the worker refused: wrong current PIN, field "pin"),
 * PBX_EBUSY (too many wrong current PINs lately), PBX_EPERM, PBX_ENOTFOUND (no published
 * sealing key).
 */
int pbx_me_change_pin(pbx_ctx *ctx, const char *current, const char *new_pin, int wait_ms,
		      struct pbx_operator *op, struct pbx_rows *ret, pbx_error *err);

/* A greeting request (pbx_me_greeting): request id, action, status, reason. */
extern const struct pbx_schema pbx_schema_greeting_request;

/*
 * Set the operator's own voicemail greeting from @path (NULL: remove it) (migration
 * 0017_c): the file is checked and converted here as pbx_greeting_set does (PBX_EINVALID,
 * field "file", for every bad kind, nothing filed), the samples filed, and the privileged
 * apply worker writes them into the voicemail spool (pbx_greeting_request_run). Waits up to
 * @wait_ms; @ret gets the request (pbx_schema_greeting_request), "done" or still "queued".
 * PBX_EINVALID (refused: no voicemail box), PBX_EPERM.
 */
int pbx_me_greeting(pbx_ctx *ctx, const char *path, int wait_ms, struct pbx_operator *op,
		    struct pbx_rows *ret, pbx_error *err);

/* The apply worker's side of pbx_me_greeting: settle every queued greeting request. */
int pbx_greeting_request_run(pbx_ctx *ctx, pbx_error *err);

/*
 * The apply worker's side: settle every queued PIN change request (needs the private key).
 * Returns how many were settled, or an error (PostgreSQL lost).
 */
int pbx_pin_change_run(pbx_ctx *ctx, pbx_error *err);

#endif
