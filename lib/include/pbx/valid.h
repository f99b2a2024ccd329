/* SPDX-License-Identifier: MIT */
/*
 * Field rules shared by every entity, the CLI and import: strict patterns for every
 * identifier that can reach an Asterisk file.
 */
#ifndef PBX_VALID_H
#define PBX_VALID_H

#include <stdbool.h>
#include <stddef.h>

/* Tenant slug: [a-z][a-z0-9-]{1,23}, not general, globals, zonemessages, default or pbxctl*. */
bool pbx_valid_slug(const char *s);
/* Extension: 2 to 8 digits, no leading zero. */
bool pbx_valid_extension(const char *s);
/* E.164: '+' then 8 to 15 digits, the first not 0. */
bool pbx_valid_e164(const char *s);
/* Username: [a-z][a-z0-9._-]{0,31}. */
bool pbx_valid_username(const char *s);
/* Free text: 1..@max bytes of valid UTF-8 without control characters. */
bool pbx_valid_text(const char *s, size_t max);
/* Email: local@domain.tld with a conservative character set, at most 254 bytes. */
bool pbx_valid_email(const char *s);
/* Caller ID number: 2 to 20 digits, optionally after a '+' (what the dialplan sets). */
bool pbx_valid_callerid(const char *s);
/* Destination: user:USERNAME, ext:NNNN, voicemail:USERNAME or external:+E164. */
bool pbx_valid_destination(const char *s);

#endif
