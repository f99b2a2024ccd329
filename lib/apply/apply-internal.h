/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/apply: the plan (every artifact, what is deployed, what changes) shared by the
 * planning and the pipeline steps.
 */
#ifndef PBX_APPLY_INTERNAL_H
#define PBX_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/dialplan.h"
#include "pbx/pbx.h"
#include "pbx/realtime.h"

enum pbx_art_kind { PBX_ART_DIALPLAN, PBX_ART_VOICEMAIL };

struct pbx_apply_artifact {
	enum pbx_art_kind kind;
	char *path;
	char *slug;
	char *new_text;        /* NULL: the file goes (its tenant is gone) */
	char *old_text;        /* NULL: not deployed */
	char *old_marker;      /* the job named in the deployed file */
	bool changed;
	struct pbx_dp_context_count *contexts;  /* dialplan: what verify must find */
	size_t n_contexts;
};

struct pbx_apply_plan {
	struct pbx_apply_artifact *artifacts;
	size_t n_artifacts, cap_artifacts;
	struct pbx_rt_plan *rt;
};

/* Build the plan; validation problems go to @diag and make it return PBX_EINVALID. */
int pbx_apply_plan_build(pbx_ctx *ctx, const char *tenant, const char *marker,
			 struct pbx_apply_plan *plan, pbx_diag *diag, pbx_error *err);
void pbx_apply_plan_free(struct pbx_apply_plan *plan);
size_t pbx_apply_plan_changes(const struct pbx_apply_plan *plan);

/*
 * Prove that Asterisk runs artifact @a as @text (NULL: the file is gone, so its meta context
 * must be gone too): the meta context holds marker @want and, with @counts, every generated
 * context has the generated number of extensions and priorities (apply's verify, and diag
 * drift). 0, or PBX_ERROR naming the context and what differs.
 */
struct pbx_ami;
int pbx_apply_check_loaded(struct pbx_ami *ami, const struct pbx_apply_artifact *a,
			   const char *text, const char *want, bool counts, pbx_error *err);

/* The job named in a generated file's header, or NULL (malloc'd). */
char *pbx_apply_file_marker(const char *text);

#endif
