/* SPDX-License-Identifier: MIT */
/*
 * Inbound calls: the global router file that every trunk's calls start in, and each
 * tenant's "<slug>-inbound" context sending its DIDs to their destinations (see
 * pbx/dialplan-routes.h). A destination is resolved against the DID's own tenant only,
 * so no DID can reach another tenant's user, and it must exist: a DID pointing at a user
 * deleted since it was set is refused here, at apply. Labels are free text and appear only
 * escaped, in comment lines. Numbers nobody can answer are refused with Congestion(), which
 * signals the network without answering the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan-routes.h"
#include "pbx/valid.h"

#include "dialplan-internal.h"

/* Where one destination goes. */
struct route {
	enum { R_REFUSE, R_USER, R_VOICEMAIL, R_EXTERNAL } kind;
	const char *ext;       /* R_USER, R_VOICEMAIL */
	const char *number;    /* R_EXTERNAL */
	char what[96];         /* for the comment */
};

static const struct pbx_dp_user *find_user(const struct pbx_dp_tenant *t, const char *name,
					   bool by_extension)
{
	for (size_t i = 0; i < t->n_users; i++) {
		const struct pbx_dp_user *u = &t->users[i];
		const char *key = by_extension ? u->extension : u->username;

		if (key && !strcmp(key, name))
			return u;
	}
	return NULL;
}

/*
 * Resolve @dest in tenant @t. Returns 1 when it routes, 0 when it must fall back to the
 * default (a suspended user), or PBX_EINVALID naming @object and @field.
 */
static int resolve(const struct pbx_dp_tenant *t, const char *dest, const char *object,
		   const char *field, struct route *rt, pbx_error *err)
{
	const struct pbx_dp_user *u = NULL;
	const char *arg = strchr(dest, ':');
	bool vm = !strncmp(dest, "voicemail:", 10);

	*rt = (struct route){ .kind = R_REFUSE };
	if (!strncmp(dest, "ring_group:", 11) || !strncmp(dest, "ivr:", 4) ||
	    !strncmp(dest, "queue:", 6))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "destination %.64s: %.*s destinations are not supported yet", dest,
				  (int)(arg - dest), dest);
	if (!pbx_valid_destination(dest))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "destination \"%.64s\" must be user:USERNAME, ext:NNNN, "
				  "voicemail:USERNAME or external:+E164", dest);
	arg++;
	if (!strncmp(dest, "external:", 9)) {
		rt->kind = R_EXTERNAL;
		rt->number = arg;
		snprintf(rt->what, sizeof(rt->what), "external %s", arg);
		return 1;
	}
	u = find_user(t, arg, !strncmp(dest, "ext:", 4));
	if (!u)
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "destination %s: tenant %s has no %s %s", dest, t->slug,
				  !strncmp(dest, "ext:", 4) ? "user with extension" : "user", arg);
	if (!pbx_dialplan_valid_extension(u->extension))
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "destination %s: the user's extension is invalid", dest);
	if (vm && !u->voicemail)
		return pbx_errorf(err, PBX_EINVALID, object, field,
				  "destination %s: user %s has no voicemail box", dest, u->username);
	if (!u->active)
		return 0;
	rt->kind = vm ? R_VOICEMAIL : R_USER;
	rt->ext = u->extension;
	snprintf(rt->what, sizeof(rt->what), "%s %s (%s)", vm ? "voicemail of" : "user",
		 pbx_valid_username(u->username) ? u->username : "?", u->extension);
	return 1;
}

static void route_lines(struct dp_out *o, const struct pbx_dp_tenant *t, const char *exten,
			const struct route *rt)
{
	switch (rt->kind) {
	case R_USER:
		dp_exten(o, exten, "Goto(%s" PBX_DP_INTERNAL_SUFFIX ",%s,1)", t->slug, rt->ext);
		break;
	case R_VOICEMAIL:
		/* '*' during the greeting jumps to 'a' (below): the box asks for its PIN. */
		dp_exten(o, exten, "Set(PBXCTL_BOX=%s)", rt->ext);
		dp_same(o, NULL, "VoiceMail(%s@%s,u)", rt->ext, t->slug);
		dp_same(o, NULL, "Hangup()");
		break;
	case R_EXTERNAL:
		dp_exten(o, exten, "Goto(%s" PBX_DP_OUTBOUND_SUFFIX ",%s,1)", t->slug, rt->number);
		break;
	case R_REFUSE:
		dp_exten(o, exten, "Congestion(5)");
		dp_same(o, NULL, "Hangup()");
		break;
	}
}

static int cmp_did(const void *a, const void *b)
{
	return strcmp((*(const struct pbx_dp_did *const *)a)->number,
		      (*(const struct pbx_dp_did *const *)b)->number);
}

int pbx_dialplan_inbound(const struct pbx_dp_inbound *in, struct pbx_dp_file *ret,
			 pbx_error *err)
{
	const struct pbx_dp_tenant *t = in->tenant;
	const struct pbx_dp_did **order = NULL;
	char object[PBX_ERR_OBJECT], ctx[PBX_DP_CONTEXT_MAX], fname[64];
	struct route fallback = { .kind = R_REFUSE };
	bool fallback_done = false;
	struct dp_out o;
	int r, ring;

	if (!t || !ret || (in->n_dids && !in->dids))
		PBX_BUG("pbx_dialplan_inbound: NULL argument");
	if ((r = dp_check_tenant(t, &ring, err)) < 0)
		return r;
	if (!(order = calloc(in->n_dids + 1, sizeof(*order))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < in->n_dids; i++) {
		snprintf(object, sizeof(object), "did %.20s", in->dids[i].number ? in->dids[i].number : "");
		if (!pbx_dialplan_valid_e164(in->dids[i].number)) {
			r = pbx_errorf(err, PBX_EINVALID, object, "number",
				       "number must be + and 8 to 15 digits, the first not 0");
			goto cleanup;
		}
		order[i] = &in->dids[i];
	}
	qsort(order, in->n_dids, sizeof(*order), cmp_did);
	for (size_t i = 1; i < in->n_dids; i++)
		if (!strcmp(order[i]->number, order[i - 1]->number)) {
			snprintf(object, sizeof(object), "did %s", order[i]->number);
			r = pbx_errorf(err, PBX_EINVALID, object, "number", "the number is listed twice");
			goto cleanup;
		}
	dp_out_init(&o, err);
	snprintf(ctx, sizeof(ctx), "%s" PBX_DP_INBOUND_SUFFIX, t->slug);
	dp_context(&o, ctx);
	dp_comment(&o, "phone numbers of tenant %s%s", t->slug,
		   t->suspended ? ", suspended: every call is refused" : "");
	for (size_t i = 0; i < in->n_dids; i++) {
		const struct pbx_dp_did *d = order[i];
		char label[PBX_DP_TEXT_BUFSZ], bare[24], desc[160];
		struct route rt = { .kind = R_REFUSE };
		const char *reason = NULL;

		snprintf(object, sizeof(object), "did %s", d->number);
		if (t->suspended) {
			snprintf(desc, sizeof(desc), "refused, the tenant is suspended");
		} else if (!d->enabled) {
			reason = "disabled";
		} else if (!d->destination || !*d->destination) {
			reason = "no destination";
		} else if ((r = resolve(t, d->destination, object, "destination", &rt, err)) < 0) {
			break;
		} else if (r == 0) {
			reason = "its user is suspended";
		} else {
			snprintf(desc, sizeof(desc), "%s", rt.what);
		}
		if (reason) {
			/* the tenant's default inbound, resolved once, only when needed */
			if (!fallback_done && in->default_inbound && *in->default_inbound) {
				snprintf(object, sizeof(object), "tenant %s", t->slug);
				if ((r = resolve(t, in->default_inbound, object, "default_inbound",
						 &fallback, err)) < 0)
					break;
			}
			fallback_done = true;
			rt = fallback;
			if (rt.kind == R_REFUSE)
				snprintf(desc, sizeof(desc), "%s, no usable default destination: refused",
					 reason);
			else
				snprintf(desc, sizeof(desc), "%s, default destination: %s", reason,
					 rt.what);
		}
		r = 0;
		pbx_dialplan_escape_text(d->label, label, sizeof(label));
		dp_blank(&o);
		if (label[0])
			dp_comment(&o, "%s \"%s\": %s", d->number, label, desc);
		else
			dp_comment(&o, "%s: %s", d->number, desc);
		route_lines(&o, t, d->number, &rt);
		snprintf(bare, sizeof(bare), "%s", d->number + 1);
		route_lines(&o, t, bare, &rt);
	}
	if (r == 0 && !t->suspended) {
		dp_blank(&o);
		dp_comment(&o, "a: '*' pressed during a voicemail greeting: that box, with its PIN");
		dp_exten(&o, "a", "Set(PBXCTL_TRIES=0)");
		dp_same(&o, NULL, "GotoIf(${REGEX(\"^[1-9][0-9]{1,7}$\" ${PBXCTL_BOX})}?%s"
			PBX_DP_INTERNAL_SUFFIX ",%s,known)", t->slug, PBX_DP_CODE_MAILBOX);
		dp_same(&o, NULL, "Hangup()");
	}
	if (r < 0) {
		struct pbx_dp_file none = PBX_DP_FILE_INIT;

		dp_out_finish(&o, "x", &none);   /* frees the emitter */
		pbx_dp_file_free(&none);
		goto cleanup;
	}
	snprintf(fname, sizeof(fname), "%s.conf", t->slug);
	r = dp_out_finish(&o, fname, ret);
cleanup:
	free(order);
	return r;
}

static int cmp_slug(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pbx_dialplan_inbound_router(const char *const *slugs, size_t n, const char *job_id,
				struct pbx_dp_file *ret, pbx_error *err)
{
	static const char *const unknown[] = { "_X.", "_+X.", "s" };
	const char **sorted;
	struct dp_out o;
	int r;

	if (!pbx_dialplan_valid_job_id(job_id))
		return pbx_errorf(err, PBX_EINVALID, "apply", "job_id",
				  "apply job id \"%.40s\" must match [A-Za-z0-9-]{1,64}",
				  job_id ? job_id : "");
	if (!(sorted = calloc(n + 1, sizeof(*sorted))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!pbx_dialplan_valid_slug(slugs[i])) {
			free(sorted);
			return pbx_errorf(err, PBX_EINVALID, "tenant", "slug",
					  "slug \"%.40s\" is not a valid tenant slug",
					  slugs[i] ? slugs[i] : "");
		}
		sorted[i] = slugs[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_slug);
	dp_out_init(&o, err);
	dp_comment(&o, "generated by pbxctl \xe2\x80\x94 do not edit; job %s", job_id);
	dp_comment(&o, "inbound router: every trunk's calls start here; each tenant's numbers "
		   "are in its own <slug>-inbound context");
	dp_context(&o, PBX_DP_INBOUND_CONTEXT);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(sorted[i], sorted[i - 1]))
			dp_raw(&o, "include => %s" PBX_DP_INBOUND_SUFFIX, sorted[i]);
	dp_comment(&o, "last: numbers no tenant owns");
	dp_raw(&o, "include => %s", PBX_DP_INBOUND_UNKNOWN);
	dp_context(&o, PBX_DP_INBOUND_UNKNOWN);
	dp_comment(&o, "refused with a congestion signal, never routed into a tenant");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		dp_exten(&o, unknown[i], "Congestion(5)");
		dp_same(&o, NULL, "Hangup()");
	}
	dp_context(&o, PBX_DP_META_PREFIX PBX_DP_INBOUND_OWNER);
	dp_exten(&o, PBX_DP_META_EXTEN, "NoOp(%s)", job_id);
	r = dp_out_finish(&o, PBX_DP_INBOUND_FILE, ret);
	free(sorted);
	return r;
}

int pbx_dp_file_append(struct pbx_dp_file *dst, struct pbx_dp_file *src, pbx_error *err)
{
	size_t a = dst->text ? strlen(dst->text) : 0, b = src->text ? strlen(src->text) : 0;
	struct pbx_dp_context_count *c;
	char *t;

	if (!(t = realloc(dst->text, a + b + 2)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	dst->text = t;
	/* a blank line between the two parts */
	if (a && b && t[a - 1] == '\n')
		t[a++] = '\n';
	memcpy(t + a, src->text ? src->text : "", b + 1);
	if (src->n_contexts) {
		c = realloc(dst->contexts, (dst->n_contexts + src->n_contexts) * sizeof(*c));
		if (!c)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		memcpy(c + dst->n_contexts, src->contexts, src->n_contexts * sizeof(*c));
		dst->contexts = c;
		dst->n_contexts += src->n_contexts;
		src->n_contexts = 0;
	}
	pbx_dp_file_free(src);
	return 0;
}
