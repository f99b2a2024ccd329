/* SPDX-License-Identifier: MIT */
/*
 * The apply queue's two ends: the requester, who queues an apply and follows it, and the
 * worker, the privileged long-running side that runs the requests one at a time through
 * pbx_apply (same lock, same repair of crashed jobs) on a connection of its own for
 * LISTEN, its one-worker lock and claiming requests. Between requests (at least once a
 * second) the worker also serves self-service: the UserEvents of phones' feature codes
 * (pbx_selfservice_listen_poll) and end users' PIN and greeting requests (pbx_pin_change_run,
 * pbx_greeting_request_run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pbx/apply-queue.h"
#include "pbx/apply.h"
#include "pbx/dialplan.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "apply-queue.h"
#include "ctx.h"
#include "pg.h"

int pbx_apply_must_queue(pbx_ctx *ctx, bool *ret, pbx_error *err)
{
	pbx_error e = PBX_ERROR_INIT;
	char role[64];
	PGconn *pg;

	if (!pbx_ctx_key(ctx, &e)) {
		if (!pbx_ctx_key_absent(ctx, &e)) {
			*err = e;
			return e.code;
		}
		*ret = true;
		return 0;
	}
	if (!(pg = pbx_ctx_pg(ctx, err)) || pbx_queue_role(pg, role, sizeof(role), err) < 0)
		return err->code;
	*ret = role[0] && strcmp(role, "platform_admin") != 0;
	return 0;
}

int pbx_apply_enqueue(pbx_ctx *ctx, const char *tenant, int wait_seconds,
		      pbx_apply_progress_fn progress, void *userdata, long *ret_id,
		      pbx_error *err)
{
	char status[16], last[16] = "";
	time_t until = time(NULL) + wait_seconds;
	pbx_error outcome;
	PGconn *pg;
	long id;
	int r;

	if (tenant && !pbx_dialplan_valid_slug(tenant))
		return pbx_errorf(err, PBX_EINVALID, "apply", "tenant",
				  "tenant \"%s\" is not a valid slug", tenant);
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	if ((r = pbx_queue_insert(ctx, pg, tenant, &id, err)) < 0)
		return r;
	*ret_id = id;
	if (wait_seconds == 0)
		return 0;
	for (;;) {
		if ((r = pbx_queue_outcome(pg, id, status, sizeof(status), &outcome, err)) < 0)
			return r;
		if (progress && strcmp(status, last))
			progress(userdata, id, status);
		snprintf(last, sizeof(last), "%s", status);
		if (!strcmp(status, "done") || !strcmp(status, "failed")) {
			*err = outcome;
			return outcome.code;
		}
		if (wait_seconds > 0 && time(NULL) >= until)
			return pbx_errorf(err, PBX_EBUSY, "apply", NULL,
					  "apply request %ld is still %s after %d seconds; "
					  "see `pbxctl apply status %ld`", id, status, wait_seconds, id);
		/* A notification wakes us; the timeout only guards against a lost one. */
		if ((r = pbx_queue_sleep(pg, 2000, err)) < 0)
			return r;
	}
}

/* For tests of a worker that dies mid-job: end the process here, as a kill would. */
static void abort_point(const char *step)
{
	const char *s = getenv("PBXCTL_TEST_WORKER_ABORT");

	if (s && !strcmp(s, step))
		_exit(99);
}

/* Run request @id with pbx_apply and record its outcome. */
static int run_one(pbx_ctx *ctx, PGconn *wpg, const struct pbx_apply_worker_opts *opts,
		   long id, const char *tenant, pbx_error *err)
{
	struct pbx_apply_opts ao = { .tenant = tenant, .wait_seconds = opts->lock_wait_seconds };
	struct pbx_apply_result res;
	pbx_error e = PBX_ERROR_INIT;
	const char *job;
	int code;

	pbx_log(ctx, PBX_LOG_INFO, "apply request %ld (%s): running", id, tenant ? tenant : "all tenants");
	abort_point("running");
	/* Asterisk may have restarted since the last job: its check before writing must see
	 * a live connection, not one that died while the worker slept. */
	pbx_ctx_ami_reset(ctx);
	code = pbx_apply(ctx, &ao, &res, &e);
	job = res.job.n_rows ? pbx_rows_get(&res.job, 0, "id") : NULL;
	if (code < 0)
		pbx_log(ctx, PBX_LOG_WARN, "apply request %ld failed: %s", id, e.message);
	else
		pbx_log(ctx, PBX_LOG_INFO, "apply request %ld done%s", id,
			res.changed ? "" : ": nothing to change");
	code = pbx_queue_finish(wpg, id, job, code, &e, res.changed, res.summary, err);
	pbx_apply_result_free(&res);
	return code;
}

static int check_privileged(pbx_ctx *ctx, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	pbx_secret_key *key = pbx_ctx_key(ctx, err);

	if (!key) {
		pbx_error_set_hint(err, "The apply worker is the privileged side: it needs the private key, "
				   "the MariaDB and the AMI credentials.");
		return err->code;
	}
	if (!cfg->ami_secret || !*cfg->ami_secret)
		return pbx_errorf(err, PBX_EINVALID, "apply worker", "ami.secret",
				  "ami.secret is not set in %s; the worker needs the AMI credentials",
				  cfg->source ? cfg->source : "the configuration");
	return 0;
}

int pbx_apply_worker(pbx_ctx *ctx, const struct pbx_apply_worker_opts *opts, pbx_error *err)
{
	struct pbx_selfservice_listener *events = NULL;
	char worker[320];
	PGconn *wpg = NULL;
	int r, n;

	if ((r = check_privileged(ctx, err)) < 0)
		return r;
	snprintf(worker, sizeof(worker), "%s", pbx_ctx_source(ctx));
	if ((r = pbx_pg_connect(ctx, &wpg, err)) < 0)
		return r;
	if ((r = pbx_queue_worker_lock(wpg, err)) < 0)
		goto cleanup;
	if ((n = pbx_queue_repair(wpg, worker, err)) < 0) {
		r = n;
		goto cleanup;
	}
	if (n > 0)
		pbx_log(ctx, PBX_LOG_WARN,
			"%d apply request(s) were interrupted when their worker ended; repairing", n);
	pbx_log(ctx, PBX_LOG_INFO, "apply worker %s: waiting for requests", worker);
	events = pbx_selfservice_listen(ctx);
	while (!(opts->stop && *opts->stop)) {
		char *tenant = NULL;
		long id;

		/* The self-service side: phones' changes in, end users' PIN changes settled. */
		pbx_selfservice_listen_poll(events);
		if ((n = pbx_pin_change_run(ctx, err)) < 0 ||
		    (n = pbx_greeting_request_run(ctx, err)) < 0) {
			r = n;
			break;
		}
		if ((n = pbx_queue_claim(wpg, worker, &id, &tenant, err)) < 0) {
			r = n;
			break;
		}
		if (n == 0) {
			if (opts->once)
				break;
			if ((r = pbx_queue_sleep(wpg, 1000, err)) < 0)
				break;
			continue;
		}
		r = run_one(ctx, wpg, opts, id, tenant, err);
		free(tenant);
		if (r < 0)
			break;
	}
cleanup:
	pbx_selfservice_listen_close(events);
	PQfinish(wpg);
	return r;
}
