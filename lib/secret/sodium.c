/* SPDX-License-Identifier: MIT */
/*
 * libsodium set-up and the small wiping helpers. sodium_init() runs lazily and exactly
 * once, whichever thread first needs it; its result is kept for every later caller.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx/secret.h"

#include "secret-internal.h"

/* Process-wide by nature: libsodium's own state is process-wide too. */
static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_init_once(void)
{
	/* 0: initialised now, 1: already initialised by someone else, -1: failure. */
	sodium_status = sodium_init() < 0 ? -1 : 0;
}

int pbx_secret_sodium_ready(pbx_error *err)
{
	if (pthread_once(&sodium_once, sodium_init_once) != 0 || sodium_status != 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL,
				  "libsodium could not be initialised (no usable random source)");
	return 0;
}

void pbx_secret_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

void pbx_secret_free_str(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}
