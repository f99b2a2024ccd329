/* SPDX-License-Identifier: MIT */
/*
 * Identifier validation for everything that becomes part of a generated Asterisk file,
 * and the "plan": a tenant's active users validated, sorted by extension, with duplicate
 * extensions and devices and foreign endpoints refused before a single
 * line is written. Every refusal is PBX_EINVALID naming the object and the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan.h"

#include "dialplan-internal.h"

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c)
{
	return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z');
}

/* Length of the run of characters of @s accepted by @ok. */
static size_t span(const char *s, bool (*ok)(char))
{
	size_t n = 0;

	while (s[n] && ok(s[n]))
		n++;
	return n;
}

static bool slug_char(char c) { return is_lower(c) || is_digit(c) || c == '-'; }
static bool job_char(char c) { return is_alnum(c) || c == '-'; }
static bool local_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

static bool slug_pattern(const char *s)
{
	size_t n;

	if (!s || !is_lower(s[0]))
		return false;
	n = span(s, slug_char);
	return s[n] == '\0' && n >= 2 && n <= 24;
}

static bool slug_reserved(const char *s)
{
	static const char *const reserved[] = { "general", "globals", "zonemessages", "default" };

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return true;
	return !strncmp(s, "pbxctl", 6);
}

bool pbx_dialplan_valid_slug(const char *s)
{
	return slug_pattern(s) && !slug_reserved(s);
}

bool pbx_dialplan_valid_extension(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = span(s, is_digit);
	return s[n] == '\0' && n >= 2 && n <= 8;
}

bool pbx_dialplan_valid_endpoint(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = span(s, slug_char);
	return s[n] == '\0' && n >= 1 && n <= 40;
}

bool pbx_dialplan_valid_e164(const char *s)
{
	size_t n;

	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	n = span(s + 1, is_digit);
	return s[1 + n] == '\0' && n >= 8 && n <= 15;
}

bool pbx_dialplan_valid_job_id(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = span(s, job_char);
	return s[n] == '\0' && n >= 1 && n <= 64;
}

static bool domain_label_char(char c) { return is_alnum(c) || c == '-'; }

bool pbx_dialplan_valid_email(const char *s)
{
	const char *at, *d;
	size_t n, labels = 0;

	if (!s || strlen(s) > 254 || !(at = strchr(s, '@')))
		return false;
	n = span(s, local_char);
	if (s + n != at || n < 1 || n > 64 || s[0] == '.' || at[-1] == '.')
		return false;
	for (const char *p = s; p < at; p++)
		if (p[0] == '.' && p[1] == '.')
			return false;
	for (d = at + 1;; d += n + 1) {
		n = span(d, domain_label_char);
		if (n < 1 || n > 63 || d[0] == '-' || d[n - 1] == '-')
			return false;
		labels++;
		if (d[n] == '\0')
			break;
		if (d[n] != '.')
			return false;
	}
	return labels >= 2;
}

/* Caller ID numbers are digits with an optional leading '+': national forms are allowed. */
static bool valid_callerid_num(const char *s)
{
	size_t n;

	if (s[0] == '+')
		s++;
	n = span(s, is_digit);
	return s[n] == '\0' && n >= 2 && n <= 15;
}

static bool empty(const char *s)
{
	return !s || !s[0];
}

void dp_user_object(const struct pbx_dp_user *u, size_t index, char *buf, size_t n)
{
	if (empty(u->username))
		snprintf(buf, n, "user #%zu", index + 1);
	else
		snprintf(buf, n, "user %s", u->username);
}

int dp_check_tenant(const struct pbx_dp_tenant *t, int *ring, pbx_error *err)
{
	char obj[PBX_ERR_OBJECT];

	if (!slug_pattern(t->slug)) {
		snprintf(obj, sizeof(obj), "tenant %.40s", t->slug ? t->slug : "(null)");
		return pbx_errorf(err, PBX_EINVALID, obj, "slug",
				  "slug \"%.40s\" must match [a-z][a-z0-9-]{1,23}",
				  t->slug ? t->slug : "");
	}
	snprintf(obj, sizeof(obj), "tenant %s", t->slug);
	if (slug_reserved(t->slug))
		return pbx_errorf(err, PBX_EINVALID, obj, "slug",
				  "slug \"%s\" is reserved (general, globals, zonemessages, "
				  "default and names starting with pbxctl)", t->slug);
	if (!pbx_dialplan_valid_job_id(t->job_id))
		return pbx_errorf(err, PBX_EINVALID, obj, "job_id",
				  "apply job id \"%.40s\" must match [A-Za-z0-9-]{1,64}",
				  t->job_id ? t->job_id : "");
	if (t->ring_seconds == 0) {
		*ring = PBX_DP_RING_DEFAULT;
	} else if (t->ring_seconds < PBX_DP_RING_MIN || t->ring_seconds > PBX_DP_RING_MAX) {
		return pbx_errorf(err, PBX_EINVALID, obj, "ring_seconds",
				  "ring time %d must be %d to %d seconds", t->ring_seconds,
				  PBX_DP_RING_MIN, PBX_DP_RING_MAX);
	} else {
		*ring = t->ring_seconds;
	}
	if (t->n_users && !t->users)
		PBX_BUG("pbx_dp_tenant.users is NULL but n_users is not 0");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Numeric order for digit strings of different lengths, bytewise otherwise. */
static int cmp_extension(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct dp_entry *x = a, *y = b;
	int c = cmp_extension(x->u->extension, y->u->extension);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Everything about one user that can be checked without looking at the others. */
static int check_user(const struct pbx_dp_tenant *t, struct dp_entry *e, enum dp_plan_mode mode,
		      pbx_error *err)
{
	const struct pbx_dp_user *u = e->u;
	size_t slen = strlen(t->slug);
	char obj[PBX_ERR_OBJECT];

	dp_user_object(u, e->index, obj, sizeof(obj));
	if (!pbx_dialplan_valid_extension(u->extension))
		return pbx_errorf(err, PBX_EINVALID, obj, "extension",
				  "extension \"%.40s\" must be 2 to 8 digits",
				  u->extension ? u->extension : "");
	if (mode == DP_PLAN_VOICEMAIL)
		return 0;
	if (u->n_endpoints > PBX_DP_MAX_DEVICES)
		return pbx_errorf(err, PBX_EINVALID, obj, "devices",
				  "%zu enabled devices; at most %d can ring at once",
				  u->n_endpoints, PBX_DP_MAX_DEVICES);
	if (u->n_endpoints && !u->endpoints)
		PBX_BUG("pbx_dp_user.endpoints is NULL but n_endpoints is not 0");
	for (size_t i = 0; i < u->n_endpoints; i++) {
		const char *ep = u->endpoints[i];

		if (!pbx_dialplan_valid_endpoint(ep))
			return pbx_errorf(err, PBX_EINVALID, obj, "endpoint",
					  "device endpoint \"%.48s\" must match [a-z0-9-]{1,40}",
					  ep ? ep : "");
		/* Tenant isolation: a tenant only ever dials the endpoints it owns. */
		if (strncmp(ep, t->slug, slen) || ep[slen] != '-' || !ep[slen + 1])
			return pbx_errorf(err, PBX_EINVALID, obj, "endpoint",
					  "device endpoint \"%s\" does not belong to tenant %s "
					  "(it must start with \"%s-\")", ep, t->slug, t->slug);
		e->eps[i] = ep;
	}
	e->n_eps = u->n_endpoints;
	qsort(e->eps, e->n_eps, sizeof(e->eps[0]), cmp_str);
	if (!empty(u->callerid_num) && !valid_callerid_num(u->callerid_num))
		return pbx_errorf(err, PBX_EINVALID, obj, "callerid_num",
				  "caller ID number \"%.40s\" must be 2 to 15 digits, "
				  "optionally after a +", u->callerid_num);
	return 0;
}

struct ep_ref {
	const char *ep;
	size_t entry;
};

static int cmp_ep_ref(const void *a, const void *b)
{
	const struct ep_ref *x = a, *y = b;
	int c = strcmp(x->ep, y->ep);

	if (c)
		return c;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* A device rings for exactly one user: a second listing is a modelling error. */
static int check_endpoints_unique(const struct dp_plan *p, pbx_error *err)
{
	struct ep_ref *refs;
	size_t n = 0, k = 0;
	int r = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->e[i].n_eps;
	if (n < 2)
		return 0;
	refs = malloc(n * sizeof(*refs));
	if (!refs)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->e[i].n_eps; j++)
			refs[k++] = (struct ep_ref){ .ep = p->e[i].eps[j], .entry = i };
	qsort(refs, n, sizeof(*refs), cmp_ep_ref);
	for (size_t i = 1; i < n && !r; i++) {
		const struct dp_entry *a = &p->e[refs[i - 1].entry], *b = &p->e[refs[i].entry];
		char obj[PBX_ERR_OBJECT], other[PBX_ERR_OBJECT];

		if (strcmp(refs[i - 1].ep, refs[i].ep))
			continue;
		dp_user_object(b->u, b->index, obj, sizeof(obj));
		dp_user_object(a->u, a->index, other, sizeof(other));
		if (a == b)
			r = pbx_errorf(err, PBX_EINVALID, obj, "endpoint",
				       "device endpoint \"%s\" is listed twice", refs[i].ep);
		else
			r = pbx_errorf(err, PBX_EINVALID, obj, "endpoint",
				       "device endpoint \"%s\" already rings for %s",
				       refs[i].ep, other);
	}
	free(refs);
	return r;
}

int dp_plan_build(const struct pbx_dp_tenant *t, enum dp_plan_mode mode, struct dp_plan *p,
		  pbx_error *err)
{
	struct dp_plan plan = { .e = NULL };
	size_t n = 0;
	int r = 0;

	r = dp_check_tenant(t, &plan.ring, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_users; i++)
		if (t->users[i].active && (mode == DP_PLAN_DIALPLAN || t->users[i].voicemail))
			n++;
	plan.e = calloc(n ? n : 1, sizeof(*plan.e));
	if (!plan.e)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < t->n_users; i++) {
		const struct pbx_dp_user *u = &t->users[i];

		if (!u->active || (mode == DP_PLAN_VOICEMAIL && !u->voicemail))
			continue;
		plan.e[plan.n] = (struct dp_entry){ .u = u, .index = i };
		r = check_user(t, &plan.e[plan.n], mode, err);
		if (r < 0)
			goto cleanup;
		plan.n++;
	}
	qsort(plan.e, plan.n, sizeof(*plan.e), cmp_entry);
	for (size_t i = 1; i < plan.n; i++) {
		const struct dp_entry *a = &plan.e[i - 1], *b = &plan.e[i];
		char obj[PBX_ERR_OBJECT], other[PBX_ERR_OBJECT];

		if (strcmp(a->u->extension, b->u->extension))
			continue;
		dp_user_object(b->u, b->index, obj, sizeof(obj));
		dp_user_object(a->u, a->index, other, sizeof(other));
		r = pbx_errorf(err, PBX_EINVALID, obj, "extension",
			       "extension %s is already used by %s", b->u->extension, other);
		goto cleanup;
	}
	if (mode == DP_PLAN_DIALPLAN) {
		r = check_endpoints_unique(&plan, err);
		if (r < 0)
			goto cleanup;
	}
	*p = plan;
	return 0;

cleanup:
	free(plan.e);
	return r;
}

void dp_plan_free(struct dp_plan *p)
{
	free(p->e);
	*p = (struct dp_plan){ .e = NULL };
}
