/* SPDX-License-Identifier: MIT */
/*
 * The self-service feature codes of a tenant's internal context, with the conventions
 * users know from FreePBX, and the "<slug>-whoami" subroutine they share.
 *
 *   *76  DND toggle          *78 / *79  DND on / off
 *   *72  forward all: asks for the number; *72NUMBER sets it at once
 *   *73  forward off         *98  any mailbox of the tenant, with its PIN
 *
 * The state is AstDB's, under PBX_DP_ASTDB_FAMILY/<slug>/<ext>/ (keys dnd, forward, pin):
 * the slug is part of the family and every key is written by this tenant's own context
 * only, so no tenant reads or writes another's. The caller is known by its authenticated
 * endpoint (Gosub <slug>-whoami sets PBXCTL_ME to its user's extension), never by caller
 * ID. Every change raises UserEvent(PbxctlSelfService, Tenant, Extension, Setting, Value),
 * which pbx_selfservice_event() turns into PostgreSQL and the audit log; apply reconciles
 * whatever an event missed.
 *
 * *98 checks the PIN in the dialplan: the pin key holds a random 32-hex-digit salt followed
 * by SHA1(salt || PIN) in hex (pbx/selfservice.h), and the check compares
 * ${SHA1(salt${PIN})} with it. A mailbox without a pin key, or a number that is not an
 * extension, asks for a PIN all the same and fails, so the prompt tells nothing about which
 * boxes exist. Three wrong attempts hang up. See pbxctl-user(1) for what this hash does and
 * does not protect against.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/dialplan.h"

#include "dialplan-internal.h"

#define WHOAMI_SUFFIX "-whoami"

static void whoami(struct dp_out *o, const struct pbx_dp_tenant *t, const char *exten,
		   bool first)
{
	if (first)
		dp_exten(o, exten, "Gosub(%s" WHOAMI_SUFFIX ",s,1)", t->slug);
	else
		dp_same(o, NULL, "Gosub(%s" WHOAMI_SUFFIX ",s,1)", t->slug);
	dp_same(o, NULL, "GotoIf($[\"${PBXCTL_ME}\" = \"\"]?bad)");
}

/* Write @setting = ${PBXCTL_V} (an empty value deletes the key) and raise the event. */
static void store(struct dp_out *o, const struct pbx_dp_tenant *t, const char *setting,
		  const char *sound)
{
	dp_same(o, "set", "Set(DB(" PBX_DP_ASTDB_FAMILY "/%s/${PBXCTL_ME}/%s)=${PBXCTL_V})",
		t->slug, setting);
	dp_same(o, NULL, "UserEvent(" PBX_DP_SELFSERVICE_EVENT ",Tenant: %s,Extension: ${PBXCTL_ME},"
		"Setting: %s,Value: ${PBXCTL_V})", t->slug, setting);
	dp_same(o, NULL, "Playback(%s)", sound);
	dp_same(o, NULL, "Hangup()");
	dp_same(o, "bad", "Playback(pbx-invalid)");
	dp_same(o, NULL, "Hangup()");
}

static void dnd_code(struct dp_out *o, const struct pbx_dp_tenant *t, const char *code,
		     const char *value)
{
	whoami(o, t, code, true);
	if (value)
		dp_same(o, NULL, "Set(PBXCTL_V=%s)", value);
	else
		dp_same(o, NULL, "Set(PBXCTL_V=$[1 - 0${DB(" PBX_DP_ASTDB_FAMILY
			"/%s/${PBXCTL_ME}/dnd)}])", t->slug);
	store(o, t, "dnd", "do-not-disturb&${IF($[${PBXCTL_V} = 1]?activated:de-activated)}");
}

/* *72 and *72NUMBER: an extension of 2 to 8 digits, or (with outbound calling) a number. */
static void forward_codes(struct dp_out *o, const struct pbx_dp_tenant *t)
{
	const char *re = t->outbound ? "^[+]?[0-9]{2,20}$" : "^[0-9]{2,8}$";

	whoami(o, t, PBX_DP_CODE_FORWARD_PATTERN, true);
	dp_same(o, NULL, "Set(PBXCTL_V=${EXTEN:%zu})", strlen(PBX_DP_CODE_FORWARD));
	dp_same(o, NULL, "Goto(%s,check)", PBX_DP_CODE_FORWARD);
	dp_same(o, "bad", "Playback(pbx-invalid)");
	dp_same(o, NULL, "Hangup()");

	whoami(o, t, PBX_DP_CODE_FORWARD, true);
	dp_same(o, NULL, "Read(PBXCTL_V,call-fwd-unconditional,20)");
	dp_same(o, "check", "GotoIf($[${REGEX(\"%s\" ${PBXCTL_V})} & \"${PBXCTL_V}\" != "
		"\"${PBXCTL_ME}\"]?set)", re);
	dp_same(o, NULL, "Goto(bad)");
	store(o, t, "forward", "call-fwd-unconditional&activated");

	whoami(o, t, PBX_DP_CODE_FORWARD_OFF, true);
	dp_same(o, NULL, "Set(PBXCTL_V=)");
	store(o, t, "forward", "call-fwd-unconditional&de-activated");
}

/* *98: mailbox number, PIN, three attempts. */
static void mailbox_login(struct dp_out *o, const struct pbx_dp_tenant *t)
{
	dp_exten(o, PBX_DP_CODE_MAILBOX, "Set(PBXCTL_TRIES=0)");
	dp_same(o, "box", "Read(PBXCTL_BOX,vm-login,8)");
	dp_same(o, NULL, "GotoIf(${REGEX(\"^[1-9][0-9]{1,7}$\" ${PBXCTL_BOX})}?known)");
	/* Not an extension: AstDB is not even read, and the PIN below can only fail. */
	dp_same(o, NULL, "Set(PBXCTL_V=)");
	dp_same(o, NULL, "Goto(pin)");
	dp_same(o, "known", "Set(PBXCTL_V=${DB(" PBX_DP_ASTDB_FAMILY "/%s/${PBXCTL_BOX}/pin)})",
		t->slug);
	dp_same(o, "pin", "Read(PBXCTL_PIN,vm-password,%d)", PBX_DP_PIN_MAX);
	dp_same(o, NULL, "GotoIf($[${LEN(${PBXCTL_V})} = %d & \"${PBXCTL_V:%d}\" = "
		"\"${SHA1(${PBXCTL_V:0:%d}${PBXCTL_PIN})}\"]?open)",
		PBX_DP_PIN_VERIFIER_LEN, PBX_DP_PIN_SALT_LEN, PBX_DP_PIN_SALT_LEN);
	dp_same(o, NULL, "Set(PBXCTL_TRIES=$[${PBXCTL_TRIES} + 1])");
	dp_same(o, NULL, "GotoIf($[${PBXCTL_TRIES} >= %d]?bye)", PBX_DP_PIN_ATTEMPTS);
	dp_same(o, NULL, "Playback(vm-incorrect)");
	dp_same(o, NULL, "Goto(box)");
	dp_same(o, "open", "VoiceMailMain(${PBXCTL_BOX}@%s,s)", t->slug);
	dp_same(o, NULL, "Hangup()");
	dp_same(o, "bye", "Playback(vm-incorrect&vm-goodbye)");
	dp_same(o, NULL, "Hangup()");
}

void dp_feature_codes(struct dp_out *o, const struct pbx_dp_tenant *t)
{
	dp_blank(o);
	dp_comment(o, "self-service: %s DND toggle, %s on, %s off, %s forward (or %sNUMBER), "
		   "%s forward off, %s any mailbox with its PIN", PBX_DP_CODE_DND_TOGGLE,
		   PBX_DP_CODE_DND_ON, PBX_DP_CODE_DND_OFF, PBX_DP_CODE_FORWARD,
		   PBX_DP_CODE_FORWARD, PBX_DP_CODE_FORWARD_OFF, PBX_DP_CODE_MAILBOX);
	dnd_code(o, t, PBX_DP_CODE_DND_TOGGLE, NULL);
	dnd_code(o, t, PBX_DP_CODE_DND_ON, "1");
	dnd_code(o, t, PBX_DP_CODE_DND_OFF, "0");
	forward_codes(o, t);
	mailbox_login(o, t);
}

void dp_whoami_context(struct dp_out *o, const struct pbx_dp_tenant *t, const struct dp_plan *p)
{
	char ctx[PBX_DP_CONTEXT_MAX], label[16];

	snprintf(ctx, sizeof(ctx), "%s" WHOAMI_SUFFIX, t->slug);
	dp_blank(o);
	dp_context(o, ctx);
	dp_comment(o, "PBXCTL_ME: the extension of the calling device's user, or empty");
	dp_exten(o, "s", "Set(PBXCTL_ME=)");
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->e[i].n_eps; j++)
			dp_same(o, NULL, "GotoIf($[\"${CHANNEL(endpoint)}\" = \"%s\"]?u%s)",
				p->e[i].eps[j], p->e[i].u->extension);
	dp_same(o, NULL, "Return()");
	for (size_t i = 0; i < p->n; i++) {
		if (p->e[i].n_eps == 0)
			continue;
		snprintf(label, sizeof(label), "u%s", p->e[i].u->extension);
		dp_same(o, label, "Set(PBXCTL_ME=%s)", p->e[i].u->extension);
		dp_same(o, NULL, "Return()");
	}
}
