/* SPDX-License-Identifier: MIT */
/*
 * The routing generators (DIDs inbound, policies outbound): pure functions from models to
 * dialplan text, like those of pbx/dialplan.h, and written with the same checked emitter (so
 * the context counts apply verifies are exact).
 *
 * Inbound. Every trunk's endpoint context is PBX_DP_INBOUND_CONTEXT, defined in the global
 * file "pbxctl-inbound.conf": it only includes each tenant's "<slug>-inbound" context and,
 * last, PBX_DP_INBOUND_UNKNOWN, which refuses numbers no tenant owns with a congestion
 * signal, never routing them into a tenant. Asterisk searches a context's own extensions
 * before its includes, and includes in order, so the refusal never shadows a DID. Each
 * tenant's "<slug>-inbound" (in the tenant's own file) holds one exact extension per DID,
 * in E.164 form and without the '+', sending it to its destination. The router therefore
 * depends only on the set of tenants, and a tenant's DIDs are applied with the tenant.
 *
 * Outbound. "<slug>-outbound" (reached from the internal context for any number that is
 * not an extension, and by E.164 call forwards) first checks that the number is 2 to 20
 * digits after an optional '+' (so no other character can ever reach an application's
 * arguments), then chooses the policy by the calling endpoint, ${CHANNEL(endpoint)}, never
 * by caller ID, which a phone can set: an endpoint of a user with an assigned policy goes
 * to that policy, any other caller to the tenant's default. The user's outbound caller ID
 * is carried in the channel variable PBXCTL_CID. Each policy is a context
 * "<slug>-policy-<id>" whose extensions match exactly what its rules match: a rule whose
 * regular expression has an exact Asterisk-pattern form gets those patterns, the others
 * are tested with REGEX() in the catch-alls _X. and _+X.; where an earlier rule might also
 * match a pattern's numbers, it is tested first with REGEX(), so the first matching rule
 * always decides. Trunks are tried in order: after Dial, CHANUNAVAIL and CONGESTION try the
 * next trunk; BUSY, NOANSWER and CANCEL do not.
 */
#ifndef PBX_DIALPLAN_ROUTES_H
#define PBX_DIALPLAN_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/dialplan.h"
#include "pbx/error.h"
#include "pbx/policy.h"

#define PBX_DP_INBOUND_CONTEXT "pbxctl-inbound"
#define PBX_DP_INBOUND_UNKNOWN "pbxctl-inbound-unknown"
#define PBX_DP_INBOUND_SUFFIX "-inbound"
#define PBX_DP_POLICY_INFIX "-policy-"
/* The global file and the "slug" apply names it by: its marker context is
 * pbxctl-meta-pbxctl-inbound, which no tenant can have (slugs never start with pbxctl). */
#define PBX_DP_INBOUND_FILE "pbxctl-inbound.conf"
#define PBX_DP_INBOUND_OWNER "pbxctl-inbound"

/* One DID of a tenant. Strings borrowed. */
struct pbx_dp_did {
	const char *number;        /* E.164 */
	const char *label;         /* free text or NULL: only in a comment, escaped */
	const char *destination;   /* NULL/"": the tenant's default inbound */
	bool enabled;
};

/* The inbound model of one tenant. */
struct pbx_dp_inbound {
	const struct pbx_dp_tenant *tenant;  /* slug, users, suspended (job_id unused) */
	const char *default_inbound;         /* NULL/"": none */
	const struct pbx_dp_did *dids;
	size_t n_dids;
};

/*
 * Generate the tenant's "<slug>-inbound" context (no file header: apply appends it to the
 * tenant's file; @ret->name is "<slug>.conf"). Destinations resolve against the tenant's
 * own users only:
 *   user:NAME, ext:N   Goto(<slug>-internal,<ext>,1)    the user must exist
 *   voicemail:NAME     VoiceMail(<ext>@<slug>,u)         the user must have voicemail
 *   external:+E164     Goto(<slug>-outbound,<number>,1)
 * A suspended user's DID, a disabled DID and one without a destination go to the default
 * inbound destination (resolved the same way), or are refused with Congestion() when there
 * is none; every DID of a suspended tenant is refused.
 * PBX_EINVALID (a malformed or duplicate number, a destination that does not exist in the
 * tenant or is not supported), PBX_ERROR.
 */
int pbx_dialplan_inbound(const struct pbx_dp_inbound *in, struct pbx_dp_file *ret,
			 pbx_error *err);

/*
 * Generate PBX_DP_INBOUND_FILE: the router including "<slug>-inbound" of every tenant in
 * @slugs (sorted here), the refusal context, and the marker context holding @job_id.
 * PBX_EINVALID (a bad slug or job id), PBX_ERROR.
 */
int pbx_dialplan_inbound_router(const char *const *slugs, size_t n, const char *job_id,
				struct pbx_dp_file *ret, pbx_error *err);

/* A trunk as policies see it. */
struct pbx_dp_trunk {
	const char *name;
	const char *owner;         /* tenant slug, or NULL for a global trunk */
	const char *endpoint;      /* its endpoint id */
	bool enabled;
	bool force_callerid;       /* callerid_mode force */
	const char *callerid;      /* NULL, or [+]digits */
};

struct pbx_dp_policy {
	long id;                   /* names the context "<slug>-policy-<id>" */
	const char *name;
	const struct pbx_policy_rule *rules;
	size_t n_rules;
};

struct pbx_dp_outbound {
	const struct pbx_dp_tenant *tenant;   /* slug, suspended, users (endpoints, callerid_num) */
	const char *const *user_policies;     /* parallel to tenant->users: a policy name or NULL */
	const char *default_policy;           /* a policy name or NULL */
	const struct pbx_dp_policy *policies;
	size_t n_policies;
	const struct pbx_dp_trunk *trunks;    /* every trunk a rule may name */
	size_t n_trunks;
	const char *const *emergency;         /* emergency numbers */
	size_t n_emergency;
	const char *emergency_trunk;          /* a trunk name or NULL */
	const char *emergency_callerid;       /* [+]digits or NULL */
};

/*
 * Generate "<slug>-outbound" and one "<slug>-policy-<id>" context per policy (no header;
 * @ret->name is "<slug>.conf"). A suspended tenant gets a refusing "<slug>-outbound" only.
 * Validation, every failure PBX_EINVALID naming the object and field: patterns pass
 * pbx_policy_check_pattern, strip and prepend are in range, an allowing rule names 1 to
 * PBX_POLICY_MAX_TRUNKS trunks and a blocking one none; each trunk exists, is enabled, and
 * is the tenant's own or global; the default and assigned policies exist; no active user's
 * extension is an emergency number (the extension would win over the emergency call); the
 * emergency trunk, when named, passes the same trunk checks; and every emergency number is
 * routable for every active user with a device, through the policy that applies to the user
 * or the emergency trunk (else an error naming the number, a user and what to configure).
 *
 * Emergency numbers are exact extensions of "<slug>-outbound", so they win over its
 * patterns and never reach a policy context: a caller whose policy allows the number dials
 * it as that policy's rule would (rewrite, trunks in order); a caller whose policy does not,
 * and any call whose policy trunks all fail, goes out through the emergency trunk with the
 * number unchanged. The tenant's emergency caller ID, when set, is the caller ID of every
 * emergency call; without it the trunk's caller-ID mode applies to the phone's own.
 */
int pbx_dialplan_outbound(const struct pbx_dp_outbound *out, struct pbx_dp_file *ret,
			  pbx_error *err);

/*
 * The Asterisk patterns that match exactly what @pattern matches among dialable numbers
 * (pbx_policy_check_number), written into @buf as a NUL-separated list ending with an empty
 * string, or 0 patterns when there is no exact form (the generator then uses REGEX()).
 * Returns the number of patterns, or -1 when @bufsz is too small. Exposed for tests.
 */
int pbx_dialplan_patterns(const char *pattern, char *buf, size_t bufsz);

/* Append @src's text and contexts to @dst (both generated); @src is emptied. PBX_ERROR. */
int pbx_dp_file_append(struct pbx_dp_file *dst, struct pbx_dp_file *src, pbx_error *err);

#endif
