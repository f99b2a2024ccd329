/* SPDX-License-Identifier: MIT */
/*
 * Shared inside lib/dialplan only: the line emitter that writes a generated file and
 * counts, as Asterisk will, the extensions and priorities of every context it writes; and
 * the validated, sorted "plan" of a tenant's users that both generators work from.
 */
#ifndef PBX_DIALPLAN_INTERNAL_H
#define PBX_DIALPLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/dialplan.h"
#include "pbx/error.h"

/*
 * Longest line the emitter writes, without its newline. Validation keeps every real line
 * far below it (16 devices of 40 characters make a Dial line of about 800 bytes); hitting
 * it is a bug, reported as PBX_ERROR. Asterisk itself skips lines of 8191 bytes or more.
 */
#define DP_LINE_MAX 1023

/*
 * The emitter. Every function is a no-op once an error happened; the first error is kept
 * and returned by dp_out_finish(). Each line is checked before it is written: no control
 * character at all, and in exten/same lines no ';' (it would start a comment and silently
 * drop the rest of the priority), so nothing can add or cut a line behind our back.
 */
struct dp_out {
	char *text;
	size_t len, cap;
	struct pbx_dp_context_count *ctx;
	size_t n_ctx, cap_ctx;
	char **names;              /* extension names written in the current context */
	size_t n_names, cap_names;
	bool have_exten;           /* a "same =>" needs an extension before it */
	int r;
	pbx_error *err;
};

void dp_out_init(struct dp_out *o, pbx_error *err);
/* "; " + text. */
void dp_comment(struct dp_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dp_blank(struct dp_out *o);
/* A line outside dialplan syntax (voicemail.conf): checked, not counted. */
void dp_raw(struct dp_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "[name]", opening a counted context. */
void dp_context(struct dp_out *o, const char *name);
/* "exten => EXTEN,1,App(args)", the app part formatted from @fmt. */
void dp_exten(struct dp_out *o, const char *exten, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "same => n,App(args)" or "same => n(LABEL),App(args)". */
void dp_same(struct dp_out *o, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Hand the text and counts over to @ret (named @name); frees everything on failure. */
int dp_out_finish(struct dp_out *o, const char *name, struct pbx_dp_file *ret);

struct dp_entry {
	const struct pbx_dp_user *u;
	size_t index;                              /* in pbx_dp_tenant.users */
	const char *eps[PBX_DP_MAX_DEVICES];       /* endpoint ids, sorted */
	size_t n_eps;
};

enum dp_plan_mode {
	DP_PLAN_DIALPLAN,  /* every active user, everything validated */
	DP_PLAN_VOICEMAIL, /* active users with voicemail, extensions validated */
};

struct dp_plan {
	struct dp_entry *e;    /* sorted by extension (shorter first, then bytewise) */
	size_t n;
	int ring;              /* ring time in seconds */
};

/* Check the tenant's own identifiers (slug, job id, ring time) and fill @ring. */
int dp_check_tenant(const struct pbx_dp_tenant *t, int *ring, pbx_error *err);
/* Validate and sort the users @mode needs. @p is filled only on success. */
int dp_plan_build(const struct pbx_dp_tenant *t, enum dp_plan_mode mode, struct dp_plan *p,
		  pbx_error *err);
void dp_plan_free(struct dp_plan *p);

/* features.c: the feature codes (in the internal context) and the "<slug>-whoami" context. */
void dp_feature_codes(struct dp_out *o, const struct pbx_dp_tenant *t);
void dp_whoami_context(struct dp_out *o, const struct pbx_dp_tenant *t, const struct dp_plan *p);
/* "user alice", or "user #3" (1-based) when the username is empty. */
void dp_user_object(const struct pbx_dp_user *u, size_t index, char *buf, size_t n);

#endif
