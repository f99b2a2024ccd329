/* SPDX-License-Identifier: MIT */
/*
 * Operators: PostgreSQL login roles mapped to one of four roles (platform_admin,
 * tenant_admin, support, end_user), for tenant_admin to one tenant, for support optionally
 * to one tenant, for end_user to one user. PostgreSQL enforces what each may see and change
 * (row-level security, migration 0007), keyed by the session's own login; pbxctl stores no
 * password. Only a platform admin changes operators; the last platform admin cannot be
 * removed or demoted.
 */
#ifndef PBX_OPERATOR_H
#define PBX_OPERATOR_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

/* Who the session is. Strings are "" and ids 0 when absent (an unmapped login has role ""). */
struct pbx_operator {
	char login[64];
	char role[16];
	long long tenant_id;
	char tenant[32];      /* slug */
	long long user_id;
	char user[40];        /* username */
	bool bypass_rls;      /* superuser, BYPASSRLS or the tables' owner: sees everything */
};

/* The shared contract of issue 13: fill @out for the connection's login. 0 or a pbx code. */
int pbx_whoami(pbx_ctx *ctx, struct pbx_operator *out);

/* The same with an error record; @ret written only on success. PBX_EUNAVAILABLE. */
int pbx_operator_whoami(pbx_ctx *ctx, struct pbx_operator *ret, pbx_error *err);

/* Rows of pbx_schema_whoami for @op. PBX_ERROR when out of memory. */
int pbx_operator_whoami_rows(const struct pbx_operator *op, struct pbx_rows *ret,
			     pbx_error *err);

/* "alice (tenant_admin of acme)", "alice (not mapped to a pbxctl role)", for messages. */
void pbx_operator_describe(const struct pbx_operator *op, char *buf, size_t n);

/* What add and set-role set. */
struct pbx_operator_spec {
	const char *login;
	const char *role;       /* platform_admin, tenant_admin, support, end_user */
	const char *tenant;     /* slug or id: required for tenant_admin, optional for support */
	const char *user;       /* username or id in @tenant: required for end_user */
	bool create_login;      /* add: CREATE ROLE login LOGIN (no password) */
};

/* Field rules, shared by add and set-role: PBX_EINVALID naming the field. */
int pbx_operator_check(const struct pbx_operator_spec *spec, pbx_error *err);

/*
 * Map a login (creating it with create_login). @ret receives the operator
 * (pbx_schema_operator). PBX_EINVALID, PBX_ENOTFOUND (tenant, user or login), PBX_ECONFLICT
 * (already an operator, or the login exists with create_login), PBX_EPERM.
 */
int pbx_operator_add(pbx_ctx *ctx, const struct pbx_operator_spec *spec, struct pbx_rows *ret,
		     pbx_error *err);

/* Change role, tenant and user. PBX_ECONFLICT for the last platform admin; as add. */
int pbx_operator_set_role(pbx_ctx *ctx, const struct pbx_operator_spec *spec,
			  struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/* Unmap a login (the login role itself stays). PBX_ENOTFOUND, PBX_ECONFLICT, PBX_EPERM. */
int pbx_operator_remove(pbx_ctx *ctx, const char *login, struct pbx_rows *ret, pbx_error *err);

/* List (optionally of one role), ordered by login; show one. PBX_ENOTFOUND. */
int pbx_operator_list(pbx_ctx *ctx, const char *role, struct pbx_rows *ret, pbx_error *err);
int pbx_operator_show(pbx_ctx *ctx, const char *login, struct pbx_rows *ret, pbx_error *err);

extern const struct pbx_schema pbx_schema_operator;
extern const struct pbx_schema pbx_schema_whoami;

#endif
