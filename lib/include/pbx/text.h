/* SPDX-License-Identifier: MIT */
/*
 * Text helpers shared by lib and the CLI.
 */
#ifndef PBX_TEXT_H
#define PBX_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode the UTF-8 sequence at @s (@len bytes available): returns its length (1 for an
 * invalid byte, with *@ret_bad set and *@ret_cp U+FFFD). Overlong forms, surrogates and
 * values above U+10FFFF are invalid.
 */
size_t pbx_utf8_next(const char *s, size_t len, uint32_t *ret_cp, bool *ret_bad);

/*
 * Whether a YAML emitter must double-quote @s for it to read back as the same string: empty,
 * control or invalid characters, anything a YAML 1.1 or 1.2 reader resolves as a number,
 * timestamp, null or boolean (yes, no, on, off, ...).
 */
bool pbx_yaml_needs_quotes(const char *s);

#endif
