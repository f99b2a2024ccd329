/* SPDX-License-Identifier: MIT */
/*
 * Completion candidates of external calling: DID numbers (with their tenant and label),
 * trunk names (with tenant or "global" and host) and policy names of the -t tenant. Called
 * by complete_dynamic() once it has a quiet context with a short connect timeout; any
 * failure simply yields no candidates.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/trunk.h"
#include "cli.h"

static void print(const struct pbx_rows *rows, const char *key, const char *prefix,
		  const char *d1, const char *d2)
{
	for (size_t i = 0; i < rows->n_rows; i++) {
		const char *v = pbx_rows_get(rows, i, key);
		const char *a = pbx_rows_get(rows, i, d1), *b = d2 ? pbx_rows_get(rows, i, d2) : NULL;

		if (v && !strncmp(v, prefix, strlen(prefix)))
			printf("%s\t%s%s%s\n", v, a ? a : "global", b ? " " : "", b ? b : "");
	}
}

void cli_complete_external(struct cli *cli, enum cli_arg_kind kind, const char *prefix)
{
	struct pbx_rows rows;
	pbx_error err;

	if (!cli->ctx || (kind != CLI_ARG_DID && kind != CLI_ARG_TRUNK && kind != CLI_ARG_POLICY))
		return;
	if (kind == CLI_ARG_DID && pbx_did_list(cli->ctx, cli->tenant, &rows, &err) == 0) {
		print(&rows, "number", prefix, "tenant", "label");
		pbx_rows_free(&rows);
	} else if (kind == CLI_ARG_TRUNK &&
		   pbx_trunk_list(cli->ctx, cli->tenant, false, &rows, &err) == 0) {
		print(&rows, "name", prefix, "tenant", "host");
		pbx_rows_free(&rows);
	} else if (kind == CLI_ARG_POLICY && cli->tenant &&
		   pbx_policy_list(cli->ctx, cli->tenant, &rows, &err) == 0) {
		print(&rows, "name", prefix, "tenant", "description");
		pbx_rows_free(&rows);
	}
}
