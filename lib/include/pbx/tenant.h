/* SPDX-License-Identifier: MIT */
/*
 * Tenants: a slug that prefixes every Asterisk object the tenant owns, a display name, a
 * status and an extension range with a next-free pointer. Every change writes its audit
 * row in the same transaction. Functions that name a tenant accept its slug or its id.
 */
#ifndef PBX_TENANT_H
#define PBX_TENANT_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

/* What create sets, or what update changes (NULL / false = leave alone). */
struct pbx_tenant_spec {
	const char *slug;
	const char *name;            /* display name */
	const char *extensions;      /* "MIN-MAX" */
	const char *default_inbound; /* "" clears it */
	const char *default_policy;  /* update: a policy name of the tenant; "" clears it */
	const char *emergency_trunk; /* update: a trunk of the tenant or a global one; "" clears */
	const char *emergency_callerid; /* update: [+]2 to 20 digits; "" clears it */
};

/* Field rules, shared with import: 0 or PBX_EINVALID naming object and field. */
int pbx_tenant_check_slug(const char *slug, pbx_error *err);
int pbx_tenant_parse_range(const char *object, const char *range, int *ret_min, int *ret_max,
			   pbx_error *err);

/* Create; @ret receives the new tenant (pbx_schema_tenant). PBX_EINVALID, PBX_ECONFLICT. */
int pbx_tenant_create(pbx_ctx *ctx, const struct pbx_tenant_spec *spec, struct pbx_rows *ret,
		      pbx_error *err);

/*
 * Update the fields set in @spec (slug is not renamable). Shrinking the range so that an
 * assigned extension falls outside is refused. @ret_changed tells whether anything
 * differed. PBX_EINVALID, PBX_ENOTFOUND.
 */
int pbx_tenant_update(pbx_ctx *ctx, const char *tenant, const struct pbx_tenant_spec *spec,
		      struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/* Set status "active" or "suspended". PBX_ENOTFOUND. */
int pbx_tenant_set_status(pbx_ctx *ctx, const char *tenant, const char *status,
			  struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/*
 * Delete. Refused (PBX_ECONFLICT) while the tenant has users, unless @force, which removes
 * the tenant with all its users and devices in one transaction. PBX_ENOTFOUND.
 */
int pbx_tenant_delete(pbx_ctx *ctx, const char *tenant, bool force, struct pbx_rows *ret,
		      pbx_error *err);

/* List, optionally filtered by status (NULL = all), ordered by slug. */
int pbx_tenant_list(pbx_ctx *ctx, const char *status, struct pbx_rows *ret, pbx_error *err);
int pbx_tenant_show(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err);

/* Counts per tenant (all when @tenant is NULL): pbx_schema_tenant_stats rows. */
int pbx_tenant_stats(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err);

#endif
