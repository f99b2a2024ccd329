/* SPDX-License-Identifier: MIT */
/*
 * The outbound dialplan of one tenant: "<slug>-outbound", which checks the number and picks
 * the policy by the calling endpoint, and one "<slug>-policy-<id>" context per policy (see
 * pbx/dialplan-routes.h for the design). Everything is validated first: a policy that
 * names a missing, disabled or foreign trunk, or that blocks an emergency number, is
 * refused before a line is written.
 *
 * Within a policy context, an extension stands for either a pattern of rule j (every number
 * it matches matches rule j) or a catch-all (_X., _+X.: the numbers no rule pattern
 * matches). Its priorities test, in rule order, each earlier rule that might match the same
 * numbers (REGEX() on ${EXTEN}, safe because the number was checked to be digits), then act
 * on rule j; the catch-alls test the rules without a pattern form, then refuse. So the first
 * matching rule decides, whichever extension Asterisk picked.
 *
 * The entry context picks the policy by the calling endpoint, except for a call a user's
 * forward sent here (PBXCTL_FWDBY, set only by tenant.c's forward): then the forwarding
 * user's policy decides, so that a forward to a number the user may not dial is refused
 * whoever calls, even one set on the phone with *72 (which cannot check the policy).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan-routes.h"
#include "pbx/policy.h"
#include "pbx/valid.h"

#include "dialplan-internal.h"
#include "pattern.h"

#define GUARD_DIGITS "^[0-9]{2,20}$"
#define GUARD_PLUS "^[+][0-9]{2,20}$"
#define FAILOVER "$[\"${DIALSTATUS}\" = \"CHANUNAVAIL\" | \"${DIALSTATUS}\" = \"CONGESTION\"]"

struct rule_pats {
	char buf[ROUTING_PATTERNS_BUFSZ];
	int n;                      /* 0: REGEX() only */
};

/* First priority of an extension, or the next one (with an optional label). */
struct line {
	struct dp_out *o;
	const char *exten;
	bool first;
};

static void emit(struct line *l, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(struct line *l, const char *label, const char *fmt, ...)
{
	char app[DP_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(app, sizeof(app), fmt, ap);
	va_end(ap);
	if (n < 0 || n > DP_LINE_MAX) {
		dp_exten(l->o, "", "%s", "");   /* records the error */
		return;
	}
	if (l->first && !label)
		dp_exten(l->o, l->exten, "%s", app);
	else if (l->first)
		PBX_BUG("outbound: a label on the first priority");
	else
		dp_same(l->o, label, "%s", app);
	l->first = false;
}

static const struct pbx_dp_trunk *find_trunk(const struct pbx_dp_outbound *out, const char *name)
{
	for (size_t i = 0; i < out->n_trunks; i++)
		if (out->trunks[i].name && !strcmp(out->trunks[i].name, name))
			return &out->trunks[i];
	return NULL;
}

static const struct pbx_dp_policy *find_policy(const struct pbx_dp_outbound *out,
					       const char *name)
{
	for (size_t i = 0; name && i < out->n_policies; i++)
		if (!strcmp(out->policies[i].name, name))
			return &out->policies[i];
	return NULL;
}

static int check_trunk(const struct pbx_dp_outbound *out, const char *object,
		       const char *field, const struct pbx_dp_trunk *t, const char *name,
		       pbx_error *err)
{
	const char *slug = out->tenant->slug;

	if (!t)
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "trunk %s does not exist", name);
	if (t->owner && strcmp(t->owner, slug))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "trunk %s belongs to tenant %s; a policy may use only its tenant's "
				  "own trunks and global ones", name, t->owner);
	if (!t->enabled)
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "trunk %s is disabled", name);
	if (!pbx_dialplan_valid_endpoint(t->endpoint))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "trunk %s has an invalid endpoint id", name);
	if ((t->force_callerid || t->callerid) && !pbx_valid_callerid(t->callerid))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "trunk %s: caller ID must be 2 to 20 digits, optionally after a +",
				  name);
	return 0;
}

static int check_policy(const struct pbx_dp_outbound *out, const struct pbx_dp_policy *p,
			struct rule_pats *pats, pbx_error *err)
{
	char object[PBX_ERR_OBJECT], ctx[PBX_DP_CONTEXT_MAX + 24];
	int r;

	if ((r = pbx_policy_check_name("policy", p->name, err)) < 0)
		return r;
	snprintf(ctx, sizeof(ctx), "%s" PBX_DP_POLICY_INFIX "%ld", out->tenant->slug, p->id);
	if (p->id < 1 || strlen(ctx) >= PBX_DP_CONTEXT_MAX)
		return pbx_errorf(err, PBX_EINVALID, "policy", "id",
				  "policy %s: context %s must be at most %d characters", p->name, ctx,
				  PBX_DP_CONTEXT_MAX - 1);
	if (p->n_rules > PBX_POLICY_MAX_RULES)
		return pbx_errorf(err, PBX_EINVALID, "policy", "rules",
				  "policy %s has %zu rules; at most %d", p->name, p->n_rules,
				  PBX_POLICY_MAX_RULES);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pbx_policy_rule *rule = &p->rules[i];

		snprintf(object, sizeof(object), "policy %s rule %zu", p->name, i + 1);
		if ((r = pbx_policy_check_pattern(object, rule->pattern, err)) < 0 ||
		    (r = pbx_policy_check_prepend(object, rule->prepend, err)) < 0)
			return r;
		if (rule->strip < 0 || rule->strip > PBX_POLICY_STRIP_MAX)
			return pbx_errorf(err, PBX_EINVALID, object, "strip",
					  "strip must be 0 to %d", PBX_POLICY_STRIP_MAX);
		if (rule->allow && (rule->n_trunks < 1 || rule->n_trunks > PBX_POLICY_MAX_TRUNKS))
			return pbx_errorf(err, PBX_EINVALID, object, "trunks",
					  "an allowing rule needs 1 to %d trunks", PBX_POLICY_MAX_TRUNKS);
		if (!rule->allow && rule->n_trunks)
			return pbx_errorf(err, PBX_EINVALID, object, "trunks",
					  "a blocking rule names no trunks");
		for (size_t k = 0; k < rule->n_trunks; k++)
			if ((r = check_trunk(out, object, "trunks", find_trunk(out, rule->trunks[k]),
					     rule->trunks[k], err)) < 0)
				return r;
		pats[i].n = pbx_dialplan_patterns(rule->pattern, pats[i].buf, sizeof(pats[i].buf));
		if (pats[i].n < 0)
			pats[i].n = 0;
	}
	return 0;
}

/* The policy that applies to user @i: its own, else the tenant's default (NULL: none). */
static const struct pbx_dp_policy *policy_of(const struct pbx_dp_outbound *out, size_t i)
{
	const char *pol = out->user_policies ? out->user_policies[i] : NULL;

	return find_policy(out, pol ? pol : out->default_policy);
}

/* Whether policy @p lets emergency number @num out, and how (@v: the rule and the number). */
static bool allows(const struct pbx_dp_policy *p, const char *num, struct pbx_policy_verdict *v)
{
	return p && pbx_policy_evaluate(p->rules, p->n_rules, num, v, NULL) == 0 && v->allowed;
}

/* Every emergency number reaches the emergency services from every phone of the tenant. */
static int check_emergency(const struct pbx_dp_outbound *out, pbx_error *err)
{
	const struct pbx_dp_tenant *t = out->tenant;
	char object[PBX_ERR_OBJECT];

	snprintf(object, sizeof(object), "tenant %s", t->slug);
	if (out->emergency_callerid && !pbx_valid_callerid(out->emergency_callerid))
		return pbx_errorf(err, PBX_EINVALID, object, "emergency_callerid",
				  "emergency caller ID must be 2 to 20 digits, optionally after a +");
	if (out->emergency_trunk)
		return check_trunk(out, object, "emergency_trunk",
				   find_trunk(out, out->emergency_trunk), out->emergency_trunk, err);
	for (size_t i = 0, checked = SIZE_MAX; i < t->n_users; i++) {
		const struct pbx_dp_user *u = &t->users[i];
		const struct pbx_dp_policy *p = policy_of(out, i);
		struct pbx_policy_verdict v;

		/* users mostly share the tenant's default: each policy is evaluated once */
		if (!u->active || !u->n_endpoints ||
		    (p && checked != SIZE_MAX && p == policy_of(out, checked)))
			continue;
		checked = i;
		for (size_t e = 0; e < out->n_emergency; e++)
			if (!allows(p, out->emergency[e], &v))
				return pbx_errorf(err, PBX_EINVALID, object, "emergency_trunk",
						  "emergency number %s cannot be called from %s's "
						  "phones: %s%s%s; name an emergency trunk (pbxctl "
						  "tenant update %s --emergency-trunk TRUNK)%s",
						  out->emergency[e], u->username ? u->username : "a user",
						  p ? "policy " : "no outbound policy applies",
						  p ? p->name : "", p ? " does not allow it" : "", t->slug,
						  p ? " or allow it in that policy" :
						      " or give the tenant a default policy allowing it");
	}
	return 0;
}

static int check_model(const struct pbx_dp_outbound *out, struct rule_pats **pats,
		       pbx_error *err)
{
	const struct pbx_dp_tenant *t = out->tenant;
	char object[PBX_ERR_OBJECT];
	int r;

	for (size_t i = 0; i < out->n_policies; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(out->policies[i].name, out->policies[j].name) ||
			    out->policies[i].id == out->policies[j].id)
				return pbx_errorf(err, PBX_EINVALID, "policy", "name",
						  "policy %s is listed twice", out->policies[i].name);
		if ((r = check_policy(out, &out->policies[i], pats[i], err)) < 0)
			return r;
	}
	snprintf(object, sizeof(object), "tenant %s", t->slug);
	if (out->default_policy && !find_policy(out, out->default_policy))
		return pbx_errorf(err, PBX_EINVALID, object, "default_policy",
				  "default policy %s does not exist", out->default_policy);
	for (size_t i = 0; i < t->n_users; i++) {
		const struct pbx_dp_user *u = &t->users[i];
		const char *pol = out->user_policies ? out->user_policies[i] : NULL;

		if (!u->active)
			continue;
		dp_user_object(u, i, object, sizeof(object));
		if (!pbx_dialplan_valid_extension(u->extension))
			return pbx_errorf(err, PBX_EINVALID, object, "extension",
					  "extension \"%.40s\" must be 2 to 8 digits",
					  u->extension ? u->extension : "");
		if (pol && !find_policy(out, pol))
			return pbx_errorf(err, PBX_EINVALID, object, "policy",
					  "policy %s does not exist in tenant %s", pol, t->slug);
		if (u->callerid_num && *u->callerid_num && !pbx_valid_callerid(u->callerid_num))
			return pbx_errorf(err, PBX_EINVALID, object, "callerid_num",
					  "caller ID must be 2 to 20 digits, optionally after a +");
		for (size_t e = 0; e < out->n_emergency; e++)
			if (u->extension && !strcmp(u->extension, out->emergency[e]))
				return pbx_errorf(err, PBX_EINVALID, object, "extension",
						  "extension %s is an emergency number: it would take "
						  "emergency calls away from the emergency services",
						  u->extension);
		for (size_t k = 0; k < u->n_endpoints; k++)
			if (!pbx_dialplan_valid_endpoint(u->endpoints[k]) ||
			    strncmp(u->endpoints[k], t->slug, strlen(t->slug)) ||
			    u->endpoints[k][strlen(t->slug)] != '-')
				return pbx_errorf(err, PBX_EINVALID, object, "endpoint",
						  "device endpoint \"%.48s\" does not belong to tenant %s",
						  u->endpoints[k], t->slug);
	}
	return check_emergency(out, err);
}

/* The Set or ExecIf line that gives a call over @t its caller ID; returns the format. */
static void callerid_line(struct line *l, const char *label, const struct pbx_dp_trunk *t)
{
	if (t->force_callerid)
		emit(l, label, "Set(CALLERID(num)=%s)", t->callerid);
	else if (t->callerid)
		emit(l, label, "Set(CALLERID(num)=${IF($[\"${PBXCTL_CID}\" = \"\"]?%s:${PBXCTL_CID})})",
		     t->callerid);
	else
		emit(l, label, "ExecIf($[\"${PBXCTL_CID}\" != \"\"]?Set(CALLERID(num)=${PBXCTL_CID}))");
}

/* What rule @i (0-based) does, its first priority labelled @label (NULL: unlabelled). */
static void action(const struct pbx_dp_outbound *out, struct line *l, size_t i,
		   const struct pbx_policy_rule *rule, const char *label)
{
	char lab[32], next[32], num[64];

	if (!rule->allow) {
		emit(l, label, "Playback(ss-noservice)");
		emit(l, NULL, "Hangup()");
		return;
	}
	if (rule->strip > 0)
		snprintf(num, sizeof(num), "%s${EXTEN:%d}", rule->prepend ? rule->prepend : "",
			 rule->strip);
	else
		snprintf(num, sizeof(num), "%s${EXTEN}", rule->prepend ? rule->prepend : "");
	for (size_t k = 0; k < rule->n_trunks; k++) {
		const struct pbx_dp_trunk *t = find_trunk(out, rule->trunks[k]);

		snprintf(lab, sizeof(lab), "r%zut%zu", i + 1, k + 1);
		if (k + 1 < rule->n_trunks)
			snprintf(next, sizeof(next), "r%zut%zu", i + 1, k + 2);
		else
			snprintf(next, sizeof(next), "r%zux", i + 1);
		callerid_line(l, k == 0 ? label : lab, t);
		emit(l, NULL, "Dial(PJSIP/%s@%s)", num, t->endpoint);
		emit(l, NULL, "GotoIf(" FAILOVER "?%s)", next);
		emit(l, NULL, "Hangup()");
	}
	snprintf(lab, sizeof(lab), "r%zux", i + 1);
	emit(l, lab, "Playback(all-circuits-busy-now)");
	emit(l, NULL, "Hangup()");
}

/* Whether rule @i (0-based) may match a number of pattern @p. */
static bool may_match(const struct rule_pats *pats, size_t i, const char *p)
{
	if (pats[i].n == 0)
		return true;
	for (const char *q = pats[i].buf; *q; q += strlen(q) + 1)
		if (!routing_patterns_disjoint(q, p))
			return true;
	return false;
}

/* One extension @ext of a policy context: rule @own (0-based), or (size_t)-1 for a catch-all. */
static void policy_exten(struct dp_out *o, const struct pbx_dp_outbound *out,
			 const struct pbx_dp_policy *p, const struct rule_pats *pats,
			 const char *ext, size_t own)
{
	size_t limit = own == (size_t)-1 ? p->n_rules : own;
	bool tested[PBX_POLICY_MAX_RULES] = { false };
	struct line l = { .o = o, .exten = ext, .first = true };
	char lab[32];

	for (size_t i = 0; i < limit; i++) {
		if (own == (size_t)-1 ? pats[i].n != 0 : !may_match(pats, i, ext))
			continue;
		tested[i] = true;
		emit(&l, NULL, "GotoIf(${REGEX(\"%s\" ${EXTEN})}?r%zu)", p->rules[i].pattern, i + 1);
	}
	if (own == (size_t)-1) {
		emit(&l, NULL, "Playback(ss-noservice)");
		emit(&l, NULL, "Hangup()");
	} else {
		action(out, &l, own, &p->rules[own], NULL);
	}
	for (size_t i = 0; i < limit; i++) {
		if (!tested[i])
			continue;
		snprintf(lab, sizeof(lab), "r%zu", i + 1);
		action(out, &l, i, &p->rules[i], lab);
	}
}

static void describe_rule(struct dp_out *o, size_t i, const struct pbx_policy_rule *r,
			  const struct rule_pats *pats)
{
	char trunks[PBX_POLICY_MAX_TRUNKS * 34 + 1] = "";
	size_t len = 0;

	for (size_t k = 0; k < r->n_trunks && len < sizeof(trunks); k++)
		len += (size_t)snprintf(trunks + len, sizeof(trunks) - len, "%s%s", k ? ", " : "",
					r->trunks[k]);
	if (r->allow)
		dp_comment(o, "rule %zu: allow %s, strip %d, prepend \"%s\", trunks %s%s", i + 1,
			   r->pattern, r->strip, r->prepend ? r->prepend : "", trunks,
			   pats->n ? "" : " (tested with REGEX)");
	else
		dp_comment(o, "rule %zu: block %s%s", i + 1, r->pattern,
			   pats->n ? "" : " (tested with REGEX)");
}

static void policy_context(struct dp_out *o, const struct pbx_dp_outbound *out,
			   const struct pbx_dp_policy *p, const struct rule_pats *pats)
{
	static const char *const catchall[] = { "_X.", "_+X." };
	char ctx[PBX_DP_CONTEXT_MAX + 24];
	const char **names = calloc(PBX_POLICY_MAX_RULES * 64 + 2, sizeof(*names));
	size_t *owner = calloc(PBX_POLICY_MAX_RULES * 64 + 2, sizeof(*owner)), n = 0;

	if (!names || !owner) {
		dp_exten(o, "", "%s", "");
		goto done;
	}
	snprintf(ctx, sizeof(ctx), "%s" PBX_DP_POLICY_INFIX "%ld", out->tenant->slug, p->id);
	dp_context(o, ctx);
	dp_comment(o, "policy %s: %zu rule%s; the first that matches decides, none: blocked",
		   p->name, p->n_rules, p->n_rules == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_rules; i++)
		describe_rule(o, i, &p->rules[i], &pats[i]);
	/* Each pattern belongs to the first rule that has it. */
	for (size_t i = 0; i < p->n_rules; i++)
		for (const char *q = pats[i].buf; pats[i].n && *q; q += strlen(q) + 1) {
			bool seen = false;

			for (size_t k = 0; k < n; k++)
				seen = seen || !strcmp(names[k], q);
			if (!seen) {
				names[n] = q;
				owner[n++] = i;
			}
		}
	for (size_t k = 0; k < n; k++)
		policy_exten(o, out, p, pats, names[k], owner[k]);
	for (size_t c = 0; c < 2; c++) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen = seen || !strcmp(names[k], catchall[c]);
		if (!seen)
			policy_exten(o, out, p, pats, catchall[c], (size_t)-1);
	}
done:
	free(names);
	free(owner);
}

static bool selects(const struct pbx_dp_outbound *out, size_t i)
{
	const struct pbx_dp_user *u = &out->tenant->users[i];
	const char *pol = out->user_policies ? out->user_policies[i] : NULL;
	bool cid = u->callerid_num && *u->callerid_num;

	return u->active && (pol || (cid && out->default_policy));
}

static void to_policy(struct line *l, const struct pbx_dp_outbound *out, const char *label,
		      const char *policy)
{
	const struct pbx_dp_policy *p = find_policy(out, policy);

	if (p) {
		emit(l, label, "Goto(%s" PBX_DP_POLICY_INFIX "%ld,${EXTEN},1)", out->tenant->slug,
		     p->id);
	} else {
		emit(l, label, "Playback(ss-noservice)");
		emit(l, NULL, "Hangup()");
	}
}

static int cmp_user(const void *a, const void *b, void *arg)
{
	const struct pbx_dp_user *users = arg;
	const char *x = users[*(const size_t *)a].extension, *y = users[*(const size_t *)b].extension;

	if (strlen(x) != strlen(y))
		return strlen(x) < strlen(y) ? -1 : 1;
	return strcmp(x, y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The route label of a caller under policy @p for emergency number @num. */
static void route_label(const struct pbx_dp_outbound *out, const struct pbx_dp_policy *p,
			const char *num, char *buf, size_t n)
{
	struct pbx_policy_verdict v;

	if (allows(p, num, &v))
		snprintf(buf, n, "p%ld", p->id);
	else
		snprintf(buf, n, "%s", out->emergency_trunk ? "em" : "busy");
}

/* Dial @num over @t, then on failover go to @next, else hang up. */
static void emergency_dial(const struct pbx_dp_outbound *out, struct line *l, const char *label,
			   const struct pbx_dp_trunk *t, const char *num, const char *next)
{
	if (out->emergency_callerid)
		emit(l, label, "Dial(PJSIP/%s@%s)", num, t->endpoint);
	else {
		callerid_line(l, label, t);
		emit(l, NULL, "Dial(PJSIP/%s@%s)", num, t->endpoint);
	}
	emit(l, NULL, "GotoIf(" FAILOVER "?%s)", next);
	emit(l, NULL, "Hangup()");
}

/*
 * Emergency number @num as an exact extension of "<slug>-outbound" (see
 * pbx/dialplan-routes.h): by the calling endpoint to the route of its user's policy, the
 * others to the default policy's; a policy that allows the number dials as its rule does,
 * then falls back to the emergency trunk; without either, all circuits are busy.
 */
static void emergency_exten(struct dp_out *o, const struct pbx_dp_outbound *out, const char *num)
{
	const struct pbx_dp_tenant *t = out->tenant;
	const struct pbx_dp_policy *dflt = find_policy(out, out->default_policy);
	struct line l = { .o = o, .exten = num, .first = true };
	char lab[32], dlab[32], next[32], (*labels)[32];

	emit(&l, NULL, "NoOp(emergency number %s: routed whatever the policy)", num);
	if (out->emergency_callerid)
		emit(&l, NULL, "Set(CALLERID(num)=%s)", out->emergency_callerid);
	route_label(out, dflt, num, dlab, sizeof(dlab));
	/* Each policy's label once (its rules' regular expressions compiled once), not once
	 * per user: slot n_policies is "no policy". Without memory, each user's is computed. */
	labels = calloc(out->n_policies + 1, sizeof(*labels));
	for (size_t i = 0; i < t->n_users; i++) {
		const struct pbx_dp_user *u = &t->users[i];
		const struct pbx_dp_policy *p;
		const char *eps[PBX_DP_MAX_DEVICES];
		size_t ne = u->n_endpoints < PBX_DP_MAX_DEVICES ? u->n_endpoints : PBX_DP_MAX_DEVICES;

		if (!u->active || !ne)
			continue;
		p = policy_of(out, i);
		if (!labels) {
			route_label(out, p, num, lab, sizeof(lab));
		} else {
			char *slot = labels[p ? (size_t)(p - out->policies) : out->n_policies];

			if (!slot[0])
				route_label(out, p, num, slot, sizeof(*labels));
			snprintf(lab, sizeof(lab), "%s", slot);
		}
		if (!strcmp(lab, dlab))
			continue;
		memcpy(eps, u->endpoints, ne * sizeof(eps[0]));
		qsort(eps, ne, sizeof(eps[0]), cmp_str);
		for (size_t j = 0; j < ne; j++)
			emit(&l, NULL, "GotoIf($[\"${CHANNEL(endpoint)}\" = \"%s\"]?%s)", eps[j], lab);
	}
	free(labels);
	emit(&l, NULL, "Goto(%s)", dlab);
	for (size_t k = 0; k < out->n_policies; k++) {
		const struct pbx_dp_policy *p = &out->policies[k];
		struct pbx_policy_verdict v;
		const struct pbx_policy_rule *rule;

		if (!allows(p, num, &v))
			continue;
		rule = &p->rules[v.rule - 1];
		for (size_t j = 0; j < rule->n_trunks; j++) {
			snprintf(lab, sizeof(lab), "p%ldt%zu", p->id, j + 1);
			if (j + 1 < rule->n_trunks)
				snprintf(next, sizeof(next), "p%ldt%zu", p->id, j + 2);
			else
				snprintf(next, sizeof(next), "%s", out->emergency_trunk ? "em" : "busy");
			if (j == 0)
				snprintf(lab, sizeof(lab), "p%ld", p->id);
			emergency_dial(out, &l, lab, find_trunk(out, rule->trunks[j]), v.dial, next);
		}
	}
	if (out->emergency_trunk)
		emergency_dial(out, &l, "em", find_trunk(out, out->emergency_trunk), num, "busy");
	emit(&l, "busy", "Playback(all-circuits-busy-now)");
	emit(&l, NULL, "Hangup()");
}

/* The entry context: check the number, then choose the policy by the calling endpoint. */
static void entry_context(struct dp_out *o, const struct pbx_dp_outbound *out)
{
	const struct pbx_dp_tenant *t = out->tenant;
	static const char *const entry[] = { "_X.", "_+X." };
	static const char *const guard[] = { GUARD_DIGITS, GUARD_PLUS };
	size_t *order = calloc(t->n_users + 1, sizeof(*order)), n = 0;
	char ctx[PBX_DP_CONTEXT_MAX], label[32];

	if (!order) {
		dp_exten(o, "", "%s", "");
		return;
	}
	for (size_t i = 0; i < t->n_users; i++)
		if (selects(out, i))
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), cmp_user, (void *)t->users);
	snprintf(ctx, sizeof(ctx), "%s" PBX_DP_OUTBOUND_SUFFIX, t->slug);
	dp_context(o, ctx);
	if (t->suspended)
		dp_comment(o, "tenant suspended: no call leaves it");
	else
		dp_comment(o, "calls leaving tenant %s: the policy of the calling device's user, "
			   "else the tenant's default (%s)", t->slug,
			   out->default_policy ? out->default_policy : "none: refused");
	for (size_t e = 0; e < out->n_emergency && !t->suspended; e++)
		emergency_exten(o, out, out->emergency[e]);
	for (size_t e = 0; e < 2; e++) {
		struct line l = { .o = o, .exten = entry[e], .first = true };

		if (t->suspended) {
			emit(&l, NULL, "Playback(ss-noservice)");
			emit(&l, NULL, "Hangup()");
			continue;
		}
		emit(&l, NULL, "GotoIf(${REGEX(\"%s\" ${EXTEN})}?ok)", guard[e]);
		emit(&l, NULL, "Playback(ss-noservice)");
		emit(&l, NULL, "Hangup()");
		emit(&l, "ok", "Set(PBXCTL_CID=)");
		/* A forward (tenant.c): the forwarding user's policy, never the caller's. */
		for (size_t k = 0; k < n; k++)
			emit(&l, NULL, "GotoIf($[\"${PBXCTL_FWDBY}\" = \"%s\"]?u%s)",
			     t->users[order[k]].extension, t->users[order[k]].extension);
		emit(&l, NULL, "GotoIf($[\"${PBXCTL_FWDBY}\" != \"\"]?dflt)");
		for (size_t k = 0; k < n; k++) {
			const struct pbx_dp_user *u = &t->users[order[k]];
			const char *eps[PBX_DP_MAX_DEVICES];
			size_t ne = u->n_endpoints < PBX_DP_MAX_DEVICES ? u->n_endpoints : PBX_DP_MAX_DEVICES;

			memcpy(eps, u->endpoints, ne * sizeof(eps[0]));
			qsort(eps, ne, sizeof(eps[0]), cmp_str);
			for (size_t j = 0; j < ne; j++)
				emit(&l, NULL, "GotoIf($[\"${CHANNEL(endpoint)}\" = \"%s\"]?u%s)", eps[j],
				     u->extension);
		}
		to_policy(&l, out, "dflt", out->default_policy);
		for (size_t k = 0; k < n; k++) {
			size_t i = order[k];
			const struct pbx_dp_user *u = &t->users[i];
			const char *pol = out->user_policies ? out->user_policies[i] : NULL;

			snprintf(label, sizeof(label), "u%s", u->extension);
			if (u->callerid_num && *u->callerid_num) {
				emit(&l, label, "Set(PBXCTL_CID=%s)", u->callerid_num);
				to_policy(&l, out, NULL, pol ? pol : out->default_policy);
			} else {
				to_policy(&l, out, label, pol ? pol : out->default_policy);
			}
		}
	}
	free(order);
}

int pbx_dialplan_outbound(const struct pbx_dp_outbound *out, struct pbx_dp_file *ret,
			  pbx_error *err)
{
	struct rule_pats **pats = NULL;
	char fname[64];
	struct dp_out o;
	int r, ring;

	if (!out || !out->tenant || !ret)
		PBX_BUG("pbx_dialplan_outbound: NULL argument");
	if ((r = dp_check_tenant(out->tenant, &ring, err)) < 0)
		return r;
	if (!(pats = calloc(out->n_policies + 1, sizeof(*pats))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < out->n_policies; i++)
		if (!(pats[i] = calloc(out->policies[i].n_rules + 1, sizeof(**pats)))) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto cleanup;
		}
	if (!out->tenant->suspended && (r = check_model(out, pats, err)) < 0)
		goto cleanup;
	dp_out_init(&o, err);
	entry_context(&o, out);
	for (size_t i = 0; i < out->n_policies && !out->tenant->suspended; i++)
		policy_context(&o, out, &out->policies[i], pats[i]);
	snprintf(fname, sizeof(fname), "%s.conf", out->tenant->slug);
	r = dp_out_finish(&o, fname, ret);
cleanup:
	for (size_t i = 0; i < out->n_policies; i++)
		free(pats[i]);
	free(pats);
	return r;
}
