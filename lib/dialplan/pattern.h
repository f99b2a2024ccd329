/* SPDX-License-Identifier: MIT */
/*
 * Shared inside lib/dialplan by the routing generators (inbound.c, outbound.c, pattern.c):
 * handling the pattern lists pbx_dialplan_patterns() produces.
 */
#ifndef PBX_DIALPLAN_PATTERN_H
#define PBX_DIALPLAN_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the patterns of one rule. */
#define ROUTING_PATTERNS_BUFSZ 2048

/*
 * Sort the NUL-separated list in @buf (ended by an empty string) bytewise and drop
 * duplicates, in place. Returns the number of patterns left.
 */
int routing_sort_patterns(char *buf);

/*
 * Whether no dialable number can match both Asterisk patterns @a and @b (literal names or
 * "_" patterns of digits, +, X, Z, N and a final '.'). False when unsure.
 */
bool routing_patterns_disjoint(const char *a, const char *b);

#endif
