/* SPDX-License-Identifier: MIT */
/*
 * Self-service from the shell: the AstDB write after an admin's `user update` of DND,
 * forward or PIN, shared with the end user's own verbs.
 */
#include "pbx/selfservice.h"

#include "cli.h"

void cli_push_selfservice(pbx_ctx *ctx, const char *tenant, const char *user)
{
	pbx_error err = PBX_ERROR_INIT;

	/* pbx_selfservice_push logs its own warning; the change itself is saved. */
	if (user)
		pbx_selfservice_push(ctx, tenant, user, &err);
}
