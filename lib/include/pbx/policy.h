/* SPDX-License-Identifier: MIT */
/*
 * Outbound policies: per tenant, an ordered list of rules, each a POSIX extended regular
 * expression, allow or block, "strip N leading characters" and "prepend digits", and an
 * ordered list of trunks (the tenant's own or global ones) tried one after the other. The
 * first rule whose pattern matches a number decides; a number no rule matches is blocked.
 * A tenant has a default policy (pbxctl tenant update --default-policy); a user may be
 * assigned another one. Emergency numbers (config asterisk.emergency_numbers, default
 * PBX_POLICY_EMERGENCY_DEFAULT) must never be blocked: saving a policy that blocks one logs
 * a warning, and apply refuses it.
 *
 * The first half of this header is the pure rule engine (no I/O), shared by the store, the
 * dialplan generator and `pbxctl policy test`, so that the three can never disagree.
 */
#ifndef PBX_POLICY_H
#define PBX_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

#define PBX_POLICY_EMERGENCY_DEFAULT "911,112,999"
#define PBX_POLICY_MAX_RULES 64
#define PBX_POLICY_MAX_TRUNKS 8        /* per rule */
#define PBX_POLICY_PATTERN_MAX 128
#define PBX_POLICY_STRIP_MAX 20
#define PBX_POLICY_PREPEND_MAX 20
/* A dialable number: 2 to 20 digits, optionally after one '+'. */
#define PBX_POLICY_NUMBER_MAX 21
#define PBX_POLICY_DIAL_BUFSZ (PBX_POLICY_PREPEND_MAX + PBX_POLICY_NUMBER_MAX + 1)

/* ---- the rule engine (pure) ----------------------------------------------------------- */

/* One rule, as the engine sees it. Strings are borrowed. */
struct pbx_policy_rule {
	const char *pattern;         /* POSIX ERE, checked with pbx_policy_check_pattern */
	bool allow;
	int strip;                   /* 0..PBX_POLICY_STRIP_MAX leading characters removed */
	const char *prepend;         /* NULL or [0-9*#+]{0,20}, put in front afterwards */
	const char *const *trunks;   /* trunk names in the order they are tried */
	size_t n_trunks;
};

/*
 * A pattern as it may be saved: 1 to PBX_POLICY_PATTERN_MAX characters of
 * 0-9 + * ^ $ [ ] ( ) | ? { } , . - and backslash (only before one of + * . ? ( ) [ ] { } | ^ $),
 * no "${" or "$[" (Asterisk would expand them), braces balanced, and it compiles with
 * regcomp(REG_EXTENDED). A pattern passing this check is safe inside the dialplan's
 * REGEX() call. PBX_EINVALID naming @object and "pattern", with regerror's reason.
 */
int pbx_policy_check_pattern(const char *object, const char *pattern, pbx_error *err);

/* A dialable number: [0-9]{2,20} or \+[0-9]{2,20}. PBX_EINVALID naming "number". */
int pbx_policy_check_number(const char *object, const char *number, pbx_error *err);

/* [0-9*#+]{0,20}. PBX_EINVALID naming "prepend". */
int pbx_policy_check_prepend(const char *object, const char *prepend, pbx_error *err);

/* Policy names: [a-z][a-z0-9-]{0,31}. PBX_EINVALID naming "name". */
int pbx_policy_check_name(const char *object, const char *name, pbx_error *err);

/* What a policy does with one number. */
struct pbx_policy_verdict {
	bool allowed;
	size_t rule;                        /* 1-based index of the deciding rule; 0: none */
	char dial[PBX_POLICY_DIAL_BUFSZ];   /* allowed: the number sent to the trunks */
};

/*
 * Evaluate @rules (in order) for @number, which must pass pbx_policy_check_number. The
 * first rule whose pattern matches (regexec, anywhere in the number unless anchored)
 * decides; none matching means blocked. Rewriting removes the first @strip characters
 * (all of them when the number is shorter) and puts @prepend in front.
 * PBX_EINVALID (bad number, or a pattern that does not pass pbx_policy_check_pattern).
 */
int pbx_policy_evaluate(const struct pbx_policy_rule *rules, size_t n, const char *number,
			struct pbx_policy_verdict *ret, pbx_error *err);

/*
 * Parse the emergency-number list @list ("911,112,999"; blanks allowed around commas; NULL
 * or "" means PBX_POLICY_EMERGENCY_DEFAULT): each 2 to 8 digits. *@ret is a NULL-terminated
 * array of *@ret_n strings (free with pbx_policy_strv_free). PBX_EINVALID naming
 * "emergency_numbers".
 */
int pbx_policy_emergency_numbers(const char *list, char ***ret, size_t *ret_n, pbx_error *err);
void pbx_policy_strv_free(char **v);

/* ---- the store ------------------------------------------------------------------------ */

extern const struct pbx_schema pbx_schema_policy;
extern const struct pbx_schema pbx_schema_policy_rule;
extern const struct pbx_schema pbx_schema_policy_test;
extern const struct pbx_schema pbx_schema_policy_user;

/* What create sets or update changes (NULL = leave alone; "" clears the description). */
struct pbx_policy_spec {
	const char *name;
	const char *description;
};

/*
 * Policies of a tenant, named by name or id. Every change writes its audit row in the same
 * transaction; the audit image holds the rules, so a rule change is audited as an update of
 * its policy. After every change the policy is checked against the emergency numbers and a
 * warning is logged (PBX_LOG_WARN) for each one it blocks.
 * create: PBX_EINVALID, PBX_ECONFLICT (name taken), PBX_ENOTFOUND (tenant).
 */
int pbx_policy_create(pbx_ctx *ctx, const char *tenant, const struct pbx_policy_spec *spec,
		      struct pbx_rows *ret, pbx_error *err);
int pbx_policy_update(pbx_ctx *ctx, const char *tenant, const char *policy,
		      const struct pbx_policy_spec *spec, struct pbx_rows *ret, bool *ret_changed,
		      pbx_error *err);

/*
 * Delete. Refused (PBX_ECONFLICT, naming who uses it) while it is the tenant's default or
 * assigned to users, unless @force, which clears those references first (users then follow
 * the tenant's default). PBX_ENOTFOUND.
 */
int pbx_policy_delete(pbx_ctx *ctx, const char *tenant, const char *policy, bool force,
		      struct pbx_rows *ret, pbx_error *err);

int pbx_policy_list(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err);
int pbx_policy_show(pbx_ctx *ctx, const char *tenant, const char *policy, struct pbx_rows *ret,
		    pbx_error *err);

/* A rule to add; NULL / -1 = default. */
struct pbx_policy_rule_spec {
	const char *pattern;    /* required */
	const char *action;     /* "allow" or "block", required */
	int strip;              /* -1: 0 */
	const char *prepend;    /* NULL: none */
	const char *trunks;     /* comma-separated names, in order; required to allow, refused to block */
	long position;          /* 1..n+1 inserts there; 0 appends */
};

#define PBX_POLICY_RULE_SPEC_INIT { .strip = -1 }

/*
 * Add a rule; the pattern is compiled when saved. Each trunk must exist and be the tenant's
 * own or global (disabled trunks are accepted with a warning: apply refuses them). @ret gets
 * the policy (pbx_schema_policy). PBX_EINVALID, PBX_ENOTFOUND (policy or trunk).
 */
int pbx_policy_rule_add(pbx_ctx *ctx, const char *tenant, const char *policy,
			const struct pbx_policy_rule_spec *spec, struct pbx_rows *ret,
			pbx_error *err);
/* Remove the rule at @position (1-based); later rules move up. PBX_ENOTFOUND. */
int pbx_policy_rule_remove(pbx_ctx *ctx, const char *tenant, const char *policy, long position,
			   struct pbx_rows *ret, pbx_error *err);
/* The rules of a policy, in order (pbx_schema_policy_rule). */
int pbx_policy_rules(pbx_ctx *ctx, const char *tenant, const char *policy,
		     struct pbx_rows *ret, pbx_error *err);

/*
 * What the policy does with @number, without placing a call: one pbx_schema_policy_test
 * row (result "allowed" or "blocked", the deciding rule and pattern or null, the rewritten
 * number and the trunk order). Also whether the number is an emergency number.
 * PBX_EINVALID (not a dialable number), PBX_ENOTFOUND.
 */
int pbx_policy_test(pbx_ctx *ctx, const char *tenant, const char *policy, const char *number,
		    struct pbx_rows *ret, pbx_error *err);

/*
 * Give @user of @tenant its own policy (@policy NULL: follow the tenant's default again).
 * @ret gets one pbx_schema_policy_user row. PBX_ENOTFOUND (user or policy), PBX_ECONFLICT
 * (the user is deleted).
 */
int pbx_policy_assign(pbx_ctx *ctx, const char *tenant, const char *user, const char *policy,
		      struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/* Users of @tenant with their own policy and the policy that applies to each. */
int pbx_policy_users(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err);

#endif
