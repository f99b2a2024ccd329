/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: CPU-bound work spread over the machine's cores (argon2id PINs of an
 * import, the sealed SIP secrets of a first apply).
 */
#ifndef PBX_CORE_PARALLEL_H
#define PBX_CORE_PARALLEL_H

#include <stddef.h>

#define PBX_PARALLEL_MAX_THREADS 4

/*
 * Call @fn(@arg, i) once for every i in [0, @n), on up to min(online CPUs,
 * PBX_PARALLEL_MAX_THREADS) threads, the caller's included; returns when all calls have.
 * The calls must not touch shared state without their own locking. A thread that cannot be
 * started leaves its share to the others.
 */
void pbx_parallel_for(size_t n, void (*fn)(void *arg, size_t i), void *arg);

#endif
