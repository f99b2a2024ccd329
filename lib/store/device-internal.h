/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: what device.c and device-query.c share: the prepared step of a plain
 * device create and handing the new plaintext secret out once.
 */
#ifndef PBX_STORE_DEVICE_INTERNAL_H
#define PBX_STORE_DEVICE_INTERNAL_H

#include "pbx/device.h"
#include "pbx/pbx.h"
#include "prepared.h"

/* The step adding device @spec to @user of @tenant (device.c). */
void pbx_device_plain_step(pbx_ctx *ctx, const char *tenant, const char *user,
			   const struct pbx_device_spec *spec, const char *sip_username,
			   const char *sealed, struct store_step *step);

/* Put the plaintext secret into the single row of @ret (freed on failure). (device-query.c) */
int pbx_device_hand_out(struct pbx_rows *ret, const char *plain, pbx_error *err);

#endif
