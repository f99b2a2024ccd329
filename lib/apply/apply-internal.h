/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/apply: the plan (every artifact, what is deployed, what changes) shared by the
 * planning and the pipeline steps.
 */
#ifndef PBX_APPLY_INTERNAL_H
#define PBX_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/apply.h"
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

/* A tenant the plan read: its generation, and whether it was left out (invalid data). */
struct pbx_apply_tenant {
	long id;
	char *slug;
	long long gen;
	bool skipped;
};

struct pbx_apply_plan {
	struct pbx_apply_artifact *artifacts;
	size_t n_artifacts, cap_artifacts;
	struct pbx_rt_plan *rt;
	struct pbx_apply_tenant *tenants;   /* every tenant of the state, by slug */
	size_t n_tenants;
	long long shared_gen;
	bool skip_bad;                      /* full apply: skip a tenant whose data is bad */
	pbx_diag skipped;                   /* full apply: the problems of skipped tenants */
	const struct pbx_apply_opts *opts;  /* its progress callback, when set */
};

/*
 * Build the plan of @tenant (NULL: all); validation problems go to @diag and make it return
 * PBX_EINVALID. In a full apply (plan->skip_bad, set by the caller: also when @tenant is
 * the only tenant that moved) a tenant whose own data does not validate is skipped instead:
 * marked in plan->tenants, its problems in plan->skipped, its files and realtime rows
 * left as deployed. Problems of what all tenants share still fail the whole plan.
 */
int pbx_apply_plan_build(pbx_ctx *ctx, const char *tenant, const char *marker,
			 struct pbx_apply_plan *plan, pbx_diag *diag, pbx_error *err);
void pbx_apply_plan_free(struct pbx_apply_plan *plan);
size_t pbx_apply_plan_changes(const struct pbx_apply_plan *plan);

/*
 * Back up what @plan changes into <backup_dir>/@marker (mode 0700; files 0600): the deployed
 * files, a manifest, and the realtime snapshot of @tenant (NULL: all) with its secrets sealed
 * by the context's key. *@ret_dir (malloc'd) and *@ret_snap (pbx_rt_snapshot_free) are set on
 * success only. Errors: PBX_EPERM (an unsafe or unwritable directory), those of the
 * realtime snapshot and of the key, PBX_ERROR.
 */
int pbx_backup_write(pbx_ctx *ctx, const struct pbx_apply_plan *plan, const char *tenant,
		     const char *marker, char **ret_dir, struct pbx_rt_snapshot **ret_snap,
		     pbx_error *err);

/*
 * Remove the backups the retention rule lets go: all but the newest asterisk.backup_keep,
 * unless younger than asterisk.backup_keep_days days or still needed by their job (or of a
 * job PostgreSQL does not know). *@ret_removed (may be NULL) counts them.
 */
int pbx_backup_prune(pbx_ctx *ctx, int *ret_removed, pbx_error *err);

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

/*
 * What the last successful apply left deployed (applied.c). pbx_applied_check sets
 * @out->same when no tenant in scope (@tenant, NULL: all) changed since, no generated file
 * differs from the digest recorded, no unknown generated file appeared and MariaDB's rows
 * are as recorded (proven by the tables' change mark without reading a row, or else by
 * the rows' digest); in a full apply where exactly one tenant differs and nothing else,
 * @out->only names it (malloc'd): the apply plans that tenant alone. One PostgreSQL query,
 * one or two MariaDB queries, a hash of each file. pbx_applied_record stores it after a
 * successful apply of @plan over @tenant (NULL: all; skipped tenants keep their old
 * record).
 */
struct pbx_applied_check {
	bool same;
	char *only;
};
int pbx_applied_check(pbx_ctx *ctx, const char *tenant, struct pbx_applied_check *out,
		      pbx_error *err);
int pbx_applied_record(pbx_ctx *ctx, const struct pbx_apply_plan *plan, const char *tenant,
		       long job, pbx_error *err);

#endif
