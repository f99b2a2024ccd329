/* SPDX-License-Identifier: MIT */
/*
 * The apply queue: an operator who may change things but holds no private key (or, under
 * the operators contract, is not a platform admin) queues an apply of its tenant; the
 * privileged `pbxctl apply worker` runs the requests in order, one at a time, with the
 * same lock as a direct apply, and reports each result back (LISTEN/NOTIFY).
 */
#ifndef PBX_APPLY_QUEUE_H
#define PBX_APPLY_QUEUE_H

#include <signal.h>
#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

extern const struct pbx_schema pbx_schema_apply_request;

/*
 * Whether this operator must queue its applies: it cannot read the private key file, or
 * its role (pbx_operator_role(), when installed) is not platform_admin. Errors: those of
 * loading a key file that exists but is unusable, and PostgreSQL's.
 */
int pbx_apply_must_queue(pbx_ctx *ctx, bool *ret, pbx_error *err);

/* Called on each status change while waiting: "queued", "running", "done", "failed". */
typedef void (*pbx_apply_progress_fn)(void *userdata, long id, const char *status);

/*
 * Queue an apply of @tenant (NULL: every tenant) and put its id in *@ret_id. With
 * @wait_seconds != 0 wait for the worker's result (< 0: without limit), calling @progress
 * on each change: returns the apply's own code with its error in @err (0 when it
 * succeeded), or PBX_EBUSY when the time ran out. With @wait_seconds 0 return at once.
 * Errors: PBX_ENOTFOUND (no such tenant), PBX_EPERM (a tenant admin naming another
 * tenant), PBX_EUNAVAILABLE.
 */
int pbx_apply_enqueue(pbx_ctx *ctx, const char *tenant, int wait_seconds,
		      pbx_apply_progress_fn progress, void *userdata, long *ret_id,
		      pbx_error *err);

struct pbx_apply_worker_opts {
	bool once;                      /* drain the queue and return */
	volatile sig_atomic_t *stop;    /* set by a signal handler: finish the job, return */
	int lock_wait_seconds;          /* for each apply's lock (a direct apply may hold it) */
};

/*
 * Run the queue: refuse without the private key (PBX_ENOTFOUND / PBX_EPERM) or without
 * AMI credentials (PBX_EINVALID, field ami.secret); take the one-worker lock (PBX_EBUSY);
 * mark requests a dead worker left running as failed and queue a repair of each (run
 * first); then run requests in order until *stop (or, with once, until the queue is
 * empty). Progress goes to the context's log. Returns 0 or the code that stopped it.
 */
int pbx_apply_worker(pbx_ctx *ctx, const struct pbx_apply_worker_opts *opts, pbx_error *err);

/* One request by id (PBX_ENOTFOUND), and the newest requests (status NULL: all). */
int pbx_apply_request_show(pbx_ctx *ctx, const char *id, struct pbx_rows *ret, pbx_error *err);
int pbx_apply_requests(pbx_ctx *ctx, const char *status, long limit, struct pbx_rows *ret,
		       pbx_error *err);

#endif
