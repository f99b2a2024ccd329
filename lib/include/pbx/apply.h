/* SPDX-License-Identifier: MIT */
/*
 * Applying the desired state to Asterisk: plan (desired vs deployed), validate, lock, back
 * up, write files atomically, sync the PJSIP Realtime rows in one MariaDB transaction,
 * reload over AMI, verify that Asterisk loaded exactly this apply (the marker holds this
 * job's id, every generated context has the generated number of extensions and
 * priorities), and roll back files and rows by itself on any failure after the backup.
 */
#ifndef PBX_APPLY_H
#define PBX_APPLY_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

extern const struct pbx_schema pbx_schema_apply_job;
extern const struct pbx_schema pbx_schema_apply_backup;

struct pbx_apply_opts {
	const char *tenant;     /* NULL: every tenant (and files of deleted tenants go) */
	bool dry_run;           /* plan and validate only; touches nothing */
	int wait_seconds;       /* wait this long for a concurrent apply; 0 fails fast */
	/* Progress, or NULL: @phase "planned" (tenants), "written" and "verified" (files),
	 * @done of @total, called as each one is done. */
	void (*progress)(void *userdata, const char *phase, size_t done, size_t total);
	void *progress_userdata;
};

struct pbx_apply_result {
	bool changed;           /* something was (or, for a dry run, would be) written */
	bool reloaded;          /* Asterisk was reloaded */
	char *diff;             /* dry run: unified diff of the files and the row summary */
	char *summary;          /* one line per artifact changed */
	pbx_diag problems;      /* every validation problem, when the code is PBX_EINVALID */
	struct pbx_rows job;    /* the job row (not for a dry run) */
};

/*
 * Run one apply. Expected codes: PBX_EINVALID (validation; nothing touched; every problem
 * in ret->problems), PBX_EBUSY (another apply holds the lock), PBX_ENOTFOUND (no such
 * tenant), PBX_EUNAVAILABLE (a backend is unreachable before anything was written),
 * PBX_EROLLEDBACK, PBX_EROLLBACKFAILED. @ret is filled in every case where a job row
 * exists; free it with pbx_apply_result_free.
 */
int pbx_apply(pbx_ctx *ctx, const struct pbx_apply_opts *opts, struct pbx_apply_result *ret,
	      pbx_error *err);
void pbx_apply_result_free(struct pbx_apply_result *r);

/* Jobs, newest first, filtered by status and tenant (NULL = all). */
int pbx_apply_jobs(pbx_ctx *ctx, const char *status, const char *tenant, long limit,
		   struct pbx_rows *ret, pbx_error *err);
/*
 * The backups in asterisk.backup_dir, newest first (pbx_schema_apply_backup: job, marker,
 * tenant, status, created_at, size, needed, path). PBX_EPERM when the directory is unsafe.
 */
int pbx_apply_backups(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

/* One job by id or marker. PBX_ENOTFOUND. */
int pbx_apply_job_show(pbx_ctx *ctx, const char *job, struct pbx_rows *ret, pbx_error *err);

#endif
