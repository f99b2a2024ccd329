/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: reading the public key published in PostgreSQL (table sealing_key).
 */
#ifndef PBX_STORE_SEALING_KEY_H
#define PBX_STORE_SEALING_KEY_H

#include <libpq-fe.h>

#include "pbx/error.h"

/* The published public key's printable form into @buf of @n bytes. PBX_ENOTFOUND. */
int pbx_sealing_key_read(PGconn *pg, char *buf, size_t n, pbx_error *err);

#endif
