/* SPDX-License-Identifier: MIT */
/*
 * Completion candidates that name objects in the database: tenant slugs, the usernames and
 * device labels of the -t tenant, operator logins, DID numbers (with their tenant and
 * label), trunk names (with tenant or "global" and host) and policy names of the -t tenant.
 * Called by complete_dynamic() once it has a quiet context with a short connect timeout;
 * any failure simply yields no candidates.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/did.h"
#include "pbx/operator.h"
#include "pbx/policy.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "cli.h"

/* Each row's @key that starts with @prefix, a tab, then its @desc column. */
static void print(const struct pbx_rows *rows, const char *key, const char *prefix,
		  const char *desc)
{
	for (size_t i = 0; i < rows->n_rows; i++) {
		const char *v = pbx_rows_get(rows, i, key);

		if (v && !strncmp(v, prefix, strlen(prefix)))
			printf("%s\t%s\n", v, pbx_rows_get(rows, i, desc));
	}
}

/* DIDs, trunks and policies: the owning tenant ("global": none), then @d2 when set. */
static void print_owned(const struct pbx_rows *rows, const char *key, const char *prefix,
			const char *d2)
{
	for (size_t i = 0; i < rows->n_rows; i++) {
		const char *v = pbx_rows_get(rows, i, key);
		const char *a = pbx_rows_get(rows, i, "tenant"), *b = pbx_rows_get(rows, i, d2);

		if (v && !strncmp(v, prefix, strlen(prefix)))
			printf("%s\t%s%s%s\n", v, a ? a : "global", b ? " " : "", b ? b : "");
	}
}

/* The usernames of @tenant, with name and extension. */
static void print_users(const struct pbx_rows *rows, const char *prefix)
{
	for (size_t i = 0; i < rows->n_rows; i++) {
		const char *u = pbx_rows_get(rows, i, "username");

		if (u && !strncmp(u, prefix, strlen(prefix)))
			printf("%s\t%s (%s)\n", u, pbx_rows_get(rows, i, "name"),
			       pbx_rows_get(rows, i, "extension"));
	}
}

void cli_complete_objects(pbx_ctx *ctx, const char *tenant, enum cli_arg_kind kind,
			  const char *prefix, const char *user)
{
	struct pbx_user_filter f = { .limit = 10000, .sort = PBX_USER_SORT_USERNAME };
	struct pbx_rows rows;
	pbx_error err;

	if (kind == CLI_ARG_TENANT && pbx_tenant_list(ctx, NULL, &rows, &err) == 0) {
		print(&rows, "slug", prefix, "name");
	} else if ((kind == CLI_ARG_USER || (kind == CLI_ARG_DEVICE && !user)) && tenant &&
		   pbx_user_list(ctx, tenant, &f, &rows, &err) == 0) {
		print_users(&rows, prefix);
	} else if (kind == CLI_ARG_DEVICE && user && tenant &&
		   pbx_device_list(ctx, tenant, user, &rows, &err) == 0) {
		print(&rows, "label", prefix, "sip_username");
	} else if (kind == CLI_ARG_OPERATOR && !user &&
		   pbx_operator_list(ctx, NULL, &rows, &err) == 0) {
		print(&rows, "login", prefix, "role");
	} else if (kind == CLI_ARG_DID && pbx_did_list(ctx, tenant, &rows, &err) == 0) {
		print_owned(&rows, "number", prefix, "label");
	} else if (kind == CLI_ARG_TRUNK && pbx_trunk_list(ctx, tenant, false, &rows, &err) == 0) {
		print_owned(&rows, "name", prefix, "host");
	} else if (kind == CLI_ARG_POLICY && tenant &&
		   pbx_policy_list(ctx, tenant, &rows, &err) == 0) {
		print_owned(&rows, "name", prefix, "description");
	} else {
		return;
	}
	pbx_rows_free(&rows);
}
