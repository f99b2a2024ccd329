/* SPDX-License-Identifier: MIT */
/*
 * Shared inside lib/dialplan by the external-calling generators (inbound.c, outbound.c,
 * pattern.c): handling the pattern lists pbx_dialplan_patterns() produces.
 */
#ifndef PBX_DIALPLAN_EXTERNAL_INTERNAL_H
#define PBX_DIALPLAN_EXTERNAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the patterns of one rule. */
#define EXT_PATTERNS_BUFSZ 2048

/*
 * Sort the NUL-separated list in @buf (ended by an empty string) bytewise and drop
 * duplicates, in place. Returns the number of patterns left.
 */
int ext_sort_patterns(char *buf);

/*
 * Whether no dialable number can match both Asterisk patterns @a and @b (literal names or
 * "_" patterns of digits, +, X, Z, N and a final '.'). False when unsure.
 */
bool ext_patterns_disjoint(const char *a, const char *b);

#endif
