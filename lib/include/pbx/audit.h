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
extern const struct pbx_schema pbx_schema_audit_anchor;

/* The head of the chain at one moment: its last row, that row's hash, and the row count. */
struct pbx_audit_anchor {
	long id;                     /* 0: the log was empty */
	char hash[65];               /* hex SHA-256, empty when the log was empty */
	long count;
};

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
 * The head of the chain now, as one row of pbx_schema_audit_anchor (id, hash, count): what
 * an administrator keeps elsewhere to detect later truncation or rewriting.
 */
int pbx_audit_anchor(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

/*
 * Read an anchor saved from `audit anchor` output: the table form ("id N", "hash H",
 * "count N" lines) or the JSON object. PBX_ENOTFOUND (no file), PBX_EINVALID (a field is
 * missing or malformed; the message names the file and the field).
 */
int pbx_audit_anchor_read(const char *path, struct pbx_audit_anchor *ret, pbx_error *err);

/*
 * pbx_audit_verify, and then check the chain against @anchor: its row must still be there
 * with the same hash and the same number of rows up to it. Rows removed from the end,
 * or the chain up to the anchor rewritten, are reported like a broken chain (PBX_ERROR,
 * status broken, first_bad_id, problem).
 */
int pbx_audit_verify_anchor(pbx_ctx *ctx, const struct pbx_audit_anchor *anchor,
			    struct pbx_rows *ret, pbx_error *err);

/*
 * Record that someone revealed a secret (device show --reveal-secret): an audit row with
 * action "reveal", no secret in it. Runs in its own transaction.
 */
int pbx_audit_reveal(pbx_ctx *ctx, const char *tenant, const char *entity,
		     const char *entity_id, pbx_error *err);

#endif
