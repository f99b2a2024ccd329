/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: apply job rows and the apply lock.
 */
#ifndef PBX_STORE_APPLY_JOB_H
#define PBX_STORE_APPLY_JOB_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

/*
 * Take the apply lock (a session advisory lock on a connection of its own, never
 * reconnected), waiting up to @wait_seconds. PBX_EBUSY, PBX_EUNAVAILABLE.
 */
int pbx_job_lock(pbx_ctx *ctx, int wait_seconds, pbx_error *err);

/*
 * Prove that the lock is still held: its connection is up and, asked in a round trip,
 * PostgreSQL still grants the lock to it. PBX_ERROR ("the apply lock was lost") otherwise.
 */
int pbx_job_lock_check(pbx_ctx *ctx, pbx_error *err);

/* Release the lock and close its connection; a no-op when not held. */
void pbx_job_unlock(pbx_ctx *ctx);

/*
 * Jobs left PENDING or RUNNING by a process that died (the caller holds the lock, so no
 * live apply owns them) are marked FAILED. Returns how many, or a negative code.
 */
int pbx_job_recover(pbx_ctx *ctx, pbx_error *err);

/* A new PENDING job; @marker (at least 72 bytes) receives its marker. */
int pbx_job_create(pbx_ctx *ctx, const char *tenant, long *ret_id, char *marker,
		   pbx_error *err);

/*
 * Move job @id to @status, recording the transition; NULL arguments leave columns alone.
 * @files_json is a JSON array of paths.
 */
int pbx_job_update(pbx_ctx *ctx, long id, const char *status, const char *error,
		   const char *summary, const char *files_json, const char *backup_dir,
		   bool reloaded, bool rollback_failed, pbx_error *err);

/*
 * The jobs of backups named by their markers (@markers: a PostgreSQL text array literal):
 * rows of marker, tenant, status and needed ("true" while the job is pending or running,
 * or failed without a later success over its tenant or all tenants).
 */
int pbx_job_backups(pbx_ctx *ctx, const char *markers, struct pbx_rows *ret, pbx_error *err);

/*
 * What apply jobs and apply requests share: the three times of their life, as schema
 * fields (@created and @started describe the first two) and as select-list columns in
 * RFC 3339 UTC.
 */
#define PBX_JOB_TIME_FIELDS(created, started) \
	{ "created_at", PBX_FT_TIME, PBX_FIELD_DEFAULT, created }, \
	{ "started_at", PBX_FT_TIME, 0, started }, \
	{ "finished_at", PBX_FT_TIME, 0, "when it ended" }
#define PBX_JOB_TIME_COLUMNS \
	PBX_SQL_TIME("created_at") " AS created_at, " PBX_SQL_TIME("started_at") " AS started_at, " \
	PBX_SQL_TIME("finished_at") " AS finished_at"

/*
 * The listing of apply jobs and apply requests, newest first: @status (NULL: any) must be
 * one of @statuses (NULL-terminated), else PBX_EINVALID naming @object's field "status".
 * @sql takes $1 the status, $2 the most rows (@limit, 50 when not positive) and, when
 * @n_params is 3, $3 @extra.
 */
int pbx_job_list(pbx_ctx *ctx, const char *sql, int n_params, const char *object,
		 const char *const *statuses, const char *status, const char *extra, long limit,
		 const struct pbx_schema *schema, struct pbx_rows *ret, pbx_error *err);

/* The job row for rendering. */
int pbx_job_load(pbx_ctx *ctx, long id, struct pbx_rows *ret, pbx_error *err);

#endif
