/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/diag: helpers the diagnostics files share.
 */
#ifndef PBX_DIAG_INTERNAL_H
#define PBX_DIAG_INTERNAL_H

#include <stddef.h>

#include "pbx/diag.h"

/* @t (Unix time) as RFC 3339 UTC into @buf (at least 32 bytes); "" for t <= 0. */
void diag_time(long long t, char *buf, size_t n);

/* The contact of endpoint/AOR @id in @p whose expiry is latest, or NULL. */
const struct pbx_ami_contact *diag_contact_of(const struct pbx_diag_pjsip *p, const char *id);

/* Registered: a contact whose expiration time lies after @now (0: no expiry reported). */
bool diag_contact_live(const struct pbx_ami_contact *c, long long now);

#endif
