/* SPDX-License-Identifier: MIT */
/*
 * Dialplan and voicemail generators: pure functions from a tenant model to the text of the
 * files apply writes for Asterisk (extensions.conf fragments, voicemail.conf fragments),
 * plus the strict identifier validators and the free-text escapes every other module uses
 * before a value may reach an Asterisk file. Nothing here does I/O. Identifiers are
 * refused with PBX_EINVALID when they do not match their pattern; free text never breaks a
 * line: it only reaches generated files through pbx_dialplan_escape_text() (dialplan) or
 * pbx_dialplan_escape_vm_text() (voicemail.conf).
 */
#ifndef PBX_DIALPLAN_H
#define PBX_DIALPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/error.h"

/* Characters of free text the escapes keep, and the output buffer that always suffices. */
#define PBX_DP_TEXT_MAX 40
#define PBX_DP_TEXT_BUFSZ (PBX_DP_TEXT_MAX * 4 + 1)

/* Ring time of every user of a tenant when pbx_dp_tenant.ring_seconds is 0, and its range. */
#define PBX_DP_RING_DEFAULT 20
#define PBX_DP_RING_MIN 1
#define PBX_DP_RING_MAX 300

/*
 * At most this many enabled devices ring at once for one user: it keeps the Dial() line
 * far below Asterisk's 8191-byte configuration line limit (a longer line is skipped).
 */
#define PBX_DP_MAX_DEVICES 16

/* Context naming, fixed by the project. The meta context holds one extension, "version". */
#define PBX_DP_INTERNAL_SUFFIX "-internal"
#define PBX_DP_OUTBOUND_SUFFIX "-outbound"
#define PBX_DP_META_PREFIX "pbxctl-meta-"
#define PBX_DP_META_EXTEN "version"
/* Longest context name generated (pbxctl-meta-<24 character slug>), plus the NUL. */
#define PBX_DP_CONTEXT_MAX 41

/* The feature code that opens the caller's own mailbox (VoiceMailMain). */
#define PBX_DP_VOICEMAIL_ACCESS "*97"

/* One user of a tenant, as the generators need it. All strings are borrowed. */
struct pbx_dp_user {
	const char *username;      /* free text for the generator: only used escaped */
	const char *display_name;  /* free text, may be NULL */
	const char *extension;     /* 2 to 8 digits */
	bool voicemail;
	const char *vm_email;      /* NULL, or an address; an invalid one is dropped */
	bool dnd;
	const char *forward;       /* NULL/"", an extension of the tenant, or E.164 (+ 8-15 digits) */
	const char *callerid_num;  /* NULL/"", or [+]digits (2-15); validated, not used yet */
	const char *const *endpoints; /* endpoint ids of the user's ENABLED devices */
	size_t n_endpoints;
	bool active;               /* false: suspended or deleted, no extension at all */
};

struct pbx_dp_tenant {
	const char *slug;          /* [a-z][a-z0-9-]{1,23}, not reserved */
	const char *display_name;  /* free text, may be NULL */
	bool suspended;
	const struct pbx_dp_user *users;
	size_t n_users;
	const char *job_id;        /* [A-Za-z0-9-]{1,64}, the marker apply verifies */
	int ring_seconds;          /* 0 = PBX_DP_RING_DEFAULT */
};

/* What Asterisk reports for one context (ShowDialPlan ListExtensions / ListPriorities). */
struct pbx_dp_context_count {
	char *name;
	size_t extensions;         /* distinct extension names, patterns included */
	size_t priorities;         /* every priority line */
};

/* A generated file. name is the bare file name ("<slug>.conf"); apply picks the directory. */
struct pbx_dp_file {
	char *name;
	char *text;
	struct pbx_dp_context_count *contexts; /* every context the file defines, in file order */
	size_t n_contexts;                     /* 0 for a voicemail fragment (not dialplan) */
};

#define PBX_DP_FILE_INIT { .name = NULL }

/*
 * Identifier validators. Each returns true only for a string that matches its pattern
 * completely (NULL is false):
 *   slug       [a-z][a-z0-9-]{1,23}, and not reserved: "general", "globals",
 *              "zonemessages", "default" (sections that mean something else in
 *              extensions.conf / voicemail.conf) or anything starting with "pbxctl"
 *              (pbxctl's own contexts, so no tenant context can collide with them);
 *   extension  [0-9]{2,8};
 *   endpoint   [a-z0-9-]{1,40};
 *   e164       \+[1-9][0-9]{7,14};
 *   job_id     [A-Za-z0-9-]{1,64};
 *   email      local@domain: local [A-Za-z0-9._+-]{1,64} without leading, trailing or
 *              double dots; domain of 2+ labels [A-Za-z0-9-]{1,63} not starting or ending
 *              with '-'; at most 254 characters.
 */
bool pbx_dialplan_valid_slug(const char *s);
bool pbx_dialplan_valid_extension(const char *s);
bool pbx_dialplan_valid_endpoint(const char *s);
bool pbx_dialplan_valid_e164(const char *s);
bool pbx_dialplan_valid_job_id(const char *s);
bool pbx_dialplan_valid_email(const char *s);

/*
 * Escape free text (display names, labels, caller ID names) for a dialplan file. Copies
 * @in (NULL is "") into @out (@outsz bytes, always NUL-terminated when @outsz > 0):
 * control characters (C0, DEL, C1, U+2028/2029) become a space, runs of spaces collapse
 * to one and the ends are trimmed; ; , ( ) $ [ ] \ " { } # & | are removed, as are
 * invalid or overlong UTF-8, bidi controls and U+FEFF; at most PBX_DP_TEXT_MAX characters
 * are kept and a multibyte character is never cut (neither by the limit nor by @outsz).
 * Returns the length written, in bytes. PBX_DP_TEXT_BUFSZ always suffices.
 */
size_t pbx_dialplan_escape_text(const char *in, char *out, size_t outsz);

/*
 * The same for a voicemail.conf value (`box => ,Full Name,email`): removes in addition
 * = < > so that no "=>" can appear.
 */
size_t pbx_dialplan_escape_vm_text(const char *in, char *out, size_t outsz);

/*
 * Generate "<slug>.conf", holding the tenant's contexts: "<slug>-internal" (every active
 * user's extension, the voicemail access code, the invalid-number handlers; for a
 * suspended tenant only "not in service" handlers) and "pbxctl-meta-<slug>" (the marker
 * `exten => version,1,NoOp(<job id>)`). @ret is written only on success and is freed
 * with pbx_dp_file_free(). Users are emitted sorted by extension, endpoints by id, so
 * the same model always gives the same bytes.
 *
 * Errors: PBX_EINVALID (an identifier does not match its pattern, a duplicate extension
 * or device, an endpoint not prefixed by "<slug>-", a call-forward loop, too many
 * devices, ring time out of range; err names the object and field), PBX_ERROR (out of
 * memory).
 */
int pbx_dialplan_tenant(const struct pbx_dp_tenant *t, struct pbx_dp_file *ret,
			pbx_error *err);

/*
 * Generate the tenant's voicemail.conf fragment "<slug>.conf": a "[<slug>]" section with
 * one `EXT => ,Display Name,email` line per active user with voicemail (none when the
 * tenant is suspended). The password field is always empty: PINs are kept only as argon2id
 * hashes, which Asterisk cannot check, so mailbox access goes by the caller's own
 * authenticated device instead (see PBX_DP_VOICEMAIL_ACCESS). Invalid e-mail addresses
 * are dropped. Same ownership and errors as pbx_dialplan_tenant().
 */
int pbx_dialplan_voicemail(const struct pbx_dp_tenant *t, struct pbx_dp_file *ret,
			   pbx_error *err);

/* Free what a generator returned and reset @f to PBX_DP_FILE_INIT; NULL is a no-op. */
void pbx_dp_file_free(struct pbx_dp_file *f);

#endif
