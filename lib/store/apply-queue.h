/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: the apply queue's rows (lib/store/apply-queue.c), used by lib/apply/queue.c.
 */
#ifndef PBX_STORE_APPLY_QUEUE_H
#define PBX_STORE_APPLY_QUEUE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "pbx/pbx.h"

/* The session's role under the operators contract into @buf ("" while not installed). */
int pbx_queue_role(PGconn *pg, char *buf, size_t n, pbx_error *err);
/* LISTEN for results, queue a request for @tenant (NULL: all) and NOTIFY the worker.
 * PBX_ENOTFOUND (no such tenant). */
int pbx_queue_insert(pbx_ctx *ctx, PGconn *pg, const char *tenant, long *ret_id, pbx_error *err);
/* Sleep up to @ms or until a notification arrives. PBX_EUNAVAILABLE. */
int pbx_queue_sleep(PGconn *pg, int ms, pbx_error *err);
/* Request @id's status into @status, and its apply's error into @apply_err (code 0 when
 * it succeeded or has not ended). PBX_ENOTFOUND. */
int pbx_queue_outcome(PGconn *pg, long id, char *status, size_t n, pbx_error *apply_err,
		      pbx_error *err);
/* The one-worker session lock, and LISTEN for new requests. PBX_EBUSY. */
int pbx_queue_worker_lock(PGconn *pg, pbx_error *err);
/* Mark requests left running as failed and queue a repair of each; returns how many. */
int pbx_queue_repair(PGconn *pg, const char *worker, pbx_error *err);
/* Take the next queued request (repairs first): 1 with *ret_id and *ret_tenant (malloc'd,
 * NULL for all), 0 when the queue is empty. */
int pbx_queue_claim(PGconn *pg, const char *worker, long *ret_id, char **ret_tenant,
		    pbx_error *err);
/* Record the outcome of request @id (job @job, may be NULL) and NOTIFY its requester. */
int pbx_queue_finish(PGconn *pg, long id, const char *job, int code, const pbx_error *e,
		     bool changed, const char *summary, pbx_error *err);

#endif
