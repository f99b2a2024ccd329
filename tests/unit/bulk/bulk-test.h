/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the lib/bulk unit tests: parse a string as an import file, find a problem by
 * the text of its message, and measure how much memory a step used.
 */
#ifndef PBX_BULK_TEST_H
#define PBX_BULK_TEST_H

#include <stddef.h>
#include <stdio.h>

#include "pbx/bulk.h"

/* Parse @text named "t.yaml"; *@diag gets the problems. Returns the parse code. */
int bt_parse(const char *text, pbx_bulk_doc **ret_doc, pbx_diag *diag);

/* The first problem whose message contains @needle, or NULL. */
const pbx_error *bt_find(const pbx_diag *diag, const char *needle);

/* Print every problem (for failing assertions). */
void bt_dump(const pbx_diag *diag);

/*
 * @n MiB in KiB, as a bound on memory use; AddressSanitizer's shadow memory and red zones
 * triple what the same allocations take.
 */
#if defined(__SANITIZE_ADDRESS__)
#define BT_MIB(n) ((long)(n) * 1024 * 3)
#else
#define BT_MIB(n) ((long)(n) * 1024)
#endif

/* Peak resident memory of this process so far, in KiB. */
long bt_maxrss_kib(void);

/*
 * A stream that never ends: @head once, then @unit over and over (or until @limit bytes,
 * 0 = never). Closing it frees it.
 */
FILE *bt_endless(const char *head, const char *unit, size_t limit);

#endif
