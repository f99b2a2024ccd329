/* SPDX-License-Identifier: MIT */
/*
 * Shared inside lib/secret only: the layout of the opaque key object and the lazy,
 * once-only libsodium initialisation every entry point calls first.
 */
#ifndef PBX_SECRET_INTERNAL_H
#define PBX_SECRET_INTERNAL_H

#include "pbx/error.h"
#include "pbx/secret.h"

enum pbx_secret_key_kind {
	PBX_KEY_LEGACY,         /* "pbxctl-key-v1": a secretbox key that only opens "v1:" values */
	PBX_KEY_PRIVATE,        /* "pbxctl-key-v2": an X25519 key pair; seals and opens "v2:" */
	PBX_KEY_PUBLIC,         /* "pbxctl-pub-v2": the public half only; seals, never opens */
};

struct pbx_secret_key {
	enum pbx_secret_key_kind kind;
	unsigned char bytes[PBX_SECRET_KEY_BYTES];      /* legacy key, or the X25519 secret key */
	unsigned char pk[PBX_SECRET_KEY_BYTES];         /* the public key (not for legacy) */
	char id[PBX_SECRET_KEY_ID_BUFSZ];               /* pbx_secret_key_id() */
};

/* Fill @key->id from @key->pk (or "v1" for a legacy key). */
void pbx_secret_key_set_id(struct pbx_secret_key *key);

/*
 * Run sodium_init() once per process (pthread_once). Returns 0, or PBX_ERROR with a
 * message when libsodium cannot be used (no usable random source).
 */
int pbx_secret_sodium_ready(pbx_error *err);

#endif
