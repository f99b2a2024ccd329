/* SPDX-License-Identifier: MIT */
/*
 * Shared inside lib/secret only: the layout of the opaque key object and the lazy,
 * once-only libsodium initialisation every entry point calls first.
 */
#ifndef PBX_SECRET_INTERNAL_H
#define PBX_SECRET_INTERNAL_H

#include "pbx/error.h"
#include "pbx/secret.h"

struct pbx_secret_key {
	unsigned char bytes[PBX_SECRET_KEY_BYTES];
};

/*
 * Run sodium_init() once per process (pthread_once). Returns 0, or PBX_ERROR with a
 * message when libsodium cannot be used (no usable random source).
 */
int pbx_secret_sodium_ready(pbx_error *err);

#endif
