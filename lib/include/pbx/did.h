/* SPDX-License-Identifier: MIT */
/*
 * Phone numbers (DIDs): an E.164 number unique across all tenants, the tenant that owns
 * it, a label, the provider, a destination and an enabled flag. A DID is named by its
 * number (or id). Destinations: user:USERNAME (or ext:NNNN), voicemail:USERNAME and
 * external:+E164; ring_group:, ivr: and queue: are refused as not supported yet. The
 * destination is checked against the DID's own tenant when it is set (a DID of tenant A
 * never reaches a user of tenant B), and again by apply, since its user may have been
 * deleted meanwhile. A disabled DID, or one without a destination, goes to its tenant's
 * default inbound destination. Every change writes its audit row in the same transaction.
 */
#ifndef PBX_DID_H
#define PBX_DID_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

extern const struct pbx_schema pbx_schema_did;

/* What create sets or update changes. NULL / PBX_UNSET (-1) = leave alone; "" clears
 * label, provider and destination. */
struct pbx_did_spec {
	const char *number;       /* create: required */
	const char *tenant;       /* create: the owner (required); update: reassign */
	const char *label;        /* 1 to 64 characters, free text */
	const char *provider;     /* 1 to 64 characters, free text */
	const char *destination;
	int enabled;              /* -1, 0, 1 */
};

#define PBX_DID_SPEC_INIT { .enabled = -1 }

/* E.164: '+' and 8 to 15 digits, the first not 0. PBX_EINVALID naming "number". */
int pbx_did_check_number(const char *object, const char *number, pbx_error *err);

/*
 * The syntax of a destination (what exists is checked against the tenant by create,
 * update and apply). PBX_EINVALID naming "destination"; ring_group:, ivr: and queue: get
 * "... is not supported yet".
 */
int pbx_did_check_destination(const char *object, const char *field, const char *dest,
			      pbx_error *err);

/*
 * Create. The destination must name a user (not deleted) of spec->tenant, a user with
 * voicemail for voicemail:, or an extension one of its users has.
 * PBX_EINVALID, PBX_ECONFLICT (the number exists, in whichever tenant), PBX_ENOTFOUND.
 */
int pbx_did_create(pbx_ctx *ctx, const struct pbx_did_spec *spec, struct pbx_rows *ret,
		   pbx_error *err);

/*
 * Update the DID @number. Reassigning it (spec->tenant) checks its destination against the
 * new tenant: give a new destination (or "" to clear it) when the old one does not exist
 * there. PBX_EINVALID, PBX_ENOTFOUND.
 */
int pbx_did_update(pbx_ctx *ctx, const char *number, const struct pbx_did_spec *spec,
		   struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

int pbx_did_delete(pbx_ctx *ctx, const char *number, struct pbx_rows *ret, pbx_error *err);

/* DIDs of @tenant, or of every tenant when NULL, by number. PBX_ENOTFOUND (tenant). */
int pbx_did_list(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err);
int pbx_did_show(pbx_ctx *ctx, const char *number, struct pbx_rows *ret, pbx_error *err);

#endif
