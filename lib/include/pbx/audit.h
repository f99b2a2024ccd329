/* SPDX-License-Identifier: MIT */
/*
 * The audit trail: one row per change, written in the change's own transaction, secrets
 * masked, each row's hash chained to the previous one (SHA-256 over the previous hash and
 * the row's canonical content), so a changed or removed row is detected by verify.
 */
#ifndef PBX_AUDIT_H
#define PBX_AUDIT_H

#include "pbx/pbx.h"
#include "pbx/schema.h"

extern const struct pbx_schema pbx_schema_audit_verify;

struct pbx_audit_filter {
	const char *entity, *action, *actor, *tenant;
	const char *since, *until;   /* RFC 3339 times or dates, inclusive / exclusive */
	long limit;                  /* 0 = 100 */
	const char *after;           /* cursor from a previous page */
};

/*
 * Newest first. When more rows remain, ret->next_cursor holds the cursor for --after.
 * PBX_EINVALID for a bad time or cursor.
 */
int pbx_audit_list(pbx_ctx *ctx, const struct pbx_audit_filter *f, struct pbx_rows *ret,
		   pbx_error *err);

/*
 * Check the whole chain. @ret (pbx_schema_audit_verify) gets one row: status ok|broken,
 * rows checked, first bad row id. A broken chain also returns PBX_ERROR with a message
 * naming the first row that was changed, or the row whose predecessor was removed.
 */
int pbx_audit_verify(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

/*
 * Record that someone revealed a secret (device show --reveal-secret): an audit row with
 * action "reveal", no secret in it. Runs in its own transaction.
 */
int pbx_audit_reveal(pbx_ctx *ctx, const char *tenant, const char *entity,
		     const char *entity_id, pbx_error *err);

#endif
