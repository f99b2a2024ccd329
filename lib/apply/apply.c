/* SPDX-License-Identifier: MIT */
/*
 * The apply pipeline: lock, plan, validate, back up, write, sync, reload, verify, and on any
 * failure after the backup, restore files and rows, reload, and verify the old state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/diag.h"
#include "pbx/realtime.h"
#include "pbx/selfservice.h"
#include "apply-internal.h"
#include "apply-job.h"
#include "ctx.h"
#include "files.h"

struct run {
	pbx_ctx *ctx;
	const struct pbx_apply_opts *opts;
	const char *scope;      /* the tenant planned: opts->tenant, or the only one that moved */
	char *only;
	struct pbx_apply_plan plan;
	struct pbx_rt_snapshot *snap;
	long job;
	char marker[72];
	char *backup;
	char *files_json;
	bool force;             /* a crashed apply left Asterisk in an unknown state */
	bool reloaded;
	struct timespec step;   /* when the last step ended (step_done) */
};

/* Log at debug level (-vv) how long the step that just ended took. */
static void step_done(struct run *run, const char *what)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (run->step.tv_sec || run->step.tv_nsec)
		pbx_log(run->ctx, PBX_LOG_DEBUG, "apply: %s in %.3f s", what,
			(double)(now.tv_sec - run->step.tv_sec) +
			(double)(now.tv_nsec - run->step.tv_nsec) / 1e9);
	run->step = now;
}

/* Report @done of the plan's @total artifacts in @phase (only for the new state). */
static void progress(const struct run *run, bool restore, const char *phase, size_t done)
{
	if (!restore && run->opts->progress)
		run->opts->progress(run->opts->progress_userdata, phase, done,
				    run->plan.n_artifacts);
}

static const char *kind_dir(const struct run *run, enum pbx_art_kind k)
{
	const struct pbx_config *cfg = pbx_ctx_config(run->ctx);

	return k == PBX_ART_DIALPLAN ? cfg->config_dir : cfg->voicemail_dir;
}

/* JSON array of the changed files, for the job row. */
static int files_json(struct run *run, pbx_error *err)
{
	int r = pbx_str_appendf(&run->files_json, "[");

	for (size_t i = 0, n = 0; i < run->plan.n_artifacts; i++) {
		const struct pbx_apply_artifact *a = &run->plan.artifacts[i];

		if (!a->changed)
			continue;
		r |= pbx_str_appendf(&run->files_json, "%s\"", n++ ? ", " : "");
		for (const char *p = a->path; *p; p++)
			r |= (*p == '"' || *p == '\\') ? pbx_str_appendf(&run->files_json, "\\%c", *p) :
			     (unsigned char)*p < 0x20 ? pbx_str_appendf(&run->files_json, "\\u%04x", *p) :
			     pbx_str_appendf(&run->files_json, "%c", *p);
		r |= pbx_str_appendf(&run->files_json, "\"");
	}
	r |= pbx_str_appendf(&run->files_json, "]");
	return r ? pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory") : 0;
}

static int summary(const struct run *run, char **out, pbx_error *err)
{
	size_t w[2] = { 0 }, rm[2] = { 0 };
	int r = 0;

	for (size_t i = 0; i < run->plan.n_artifacts; i++) {
		const struct pbx_apply_artifact *a = &run->plan.artifacts[i];

		if (a->changed && a->new_text)
			w[a->kind]++;
		else if (a->changed)
			rm[a->kind]++;
	}
	r |= pbx_str_appendf(out, "dialplan files: %zu written, %zu removed; voicemail files: %zu written, %zu removed",
			     w[0], rm[0], w[1], rm[1]);
	if (run->plan.rt)
		for (size_t i = 0; i < run->plan.rt->n_tables; i++) {
			const struct pbx_rt_table_count *t = &run->plan.rt->tables[i];

			r |= pbx_str_appendf(out, "; %s +%zu ~%zu -%zu", t->table, t->n_insert,
					     t->n_update, t->n_delete);
		}
	return r ? pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory") : 0;
}

static int dry_run_diff(const struct run *run, char **out, pbx_error *err)
{
	char *rt = NULL;
	int r = 0;

	for (size_t i = 0; i < run->plan.n_artifacts && r == 0; i++) {
		const struct pbx_apply_artifact *a = &run->plan.artifacts[i];
		const char *dir = kind_dir(run, a->kind);
		const char *name = a->path + (strncmp(a->path, dir, strlen(dir)) ? 0 : strlen(dir) + 1);
		char label[300];

		if (!a->changed)
			continue;
		snprintf(label, sizeof(label), "%s/%s",
			 a->kind == PBX_ART_DIALPLAN ? "dialplan" : "voicemail", name);
		r = pbx_diff_append(out, label, a->old_text, a->new_text, err);
	}
	if (r == 0 && run->plan.rt) {
		r = pbx_rt_plan_summary(run->plan.rt, &rt, err);
		if (r == 0 && pbx_str_appendf(out, "realtime rows:\n%s", rt) < 0)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		free(rt);
	}
	if (r == 0 && !*out)
		r = pbx_str_appendf(out, "%s", "") < 0 ? PBX_ERROR : 0;
	return r;
}

/* Back up what will change: the deployed files and the owned realtime rows. */
static int backup(struct run *run, pbx_error *err)
{
	return pbx_backup_write(run->ctx, &run->plan, run->scope, run->marker, &run->backup,
				&run->snap, err);
}

/*
 * Write (or remove) every changed file. Each kind's directory is opened (and made) once
 * for all its files, not walked again for each: 200 files were 400 walks of the path.
 */
static int write_files(struct run *run, bool restore, pbx_error *err)
{
	int dfd[2] = { -1, -1 }, r = 0;

	for (size_t i = 0; i < run->plan.n_artifacts && r == 0; i++) {
		const struct pbx_apply_artifact *a = &run->plan.artifacts[i];
		const char *text = restore ? a->old_text : a->new_text;
		const char *dir = kind_dir(run, a->kind);
		size_t dl = strlen(dir);
		bool in_dir = !strncmp(a->path, dir, dl) && a->path[dl] == '/' &&
			      !strchr(a->path + dl + 1, '/');
		int *fd = &dfd[a->kind == PBX_ART_DIALPLAN];

		progress(run, restore, "written", i + 1);
		if (!a->changed)
			continue;
		if (!text)
			r = pbx_file_remove(a->path, err);
		else if (!in_dir)
			r = pbx_file_mkdirs(dir, 0755, err) < 0 ? err->code :
			    pbx_file_write_atomic(a->path, text, 0644, err);
		else if (*fd < 0 && pbx_dir_open(dir, true, 0755, fd, err) < 0)
			r = err->code;
		else
			r = pbx_file_write_at(*fd, dir, a->path + dl + 1, text, 0644, err);
	}
	for (size_t k = 0; k < 2; k++)
		if (dfd[k] >= 0)
			close(dfd[k]);
	return r;
}

/* Which modules this apply must reload. */
static void reload_modules(const struct run *run, bool *dialplan, bool *voicemail)
{
	*dialplan = *voicemail = run->force;
	for (size_t i = 0; i < run->plan.n_artifacts; i++) {
		const struct pbx_apply_artifact *a = &run->plan.artifacts[i];

		*dialplan |= a->changed && a->kind == PBX_ART_DIALPLAN;
		*voicemail |= a->changed && a->kind == PBX_ART_VOICEMAIL;
	}
}

static bool needs_reload(const struct run *run)
{
	bool dialplan, voicemail;

	reload_modules(run, &dialplan, &voicemail);
	return dialplan || voicemail;
}

static int reload(struct run *run, pbx_error *err)
{
	bool dialplan, voicemail;
	struct pbx_ami *ami;
	int r;

	reload_modules(run, &dialplan, &voicemail);
	if (!dialplan && !voicemail)
		return 0;
	if (!(ami = pbx_ctx_ami(run->ctx, err)))
		return err->code;
	if (dialplan && (r = pbx_ami_reload(ami, "pbx_config", err)) < 0)
		return r;
	if (voicemail) {
		pbx_error e = PBX_ERROR_INIT;

		/* Calls are routed without voicemail; an Asterisk without app_voicemail gets a
		 * warning, not a failed apply. Any other refusal fails the apply. */
		if (pbx_ami_reload(ami, "app_voicemail", &e) < 0) {
			if (!strstr(e.message, "No such module")) {
				*err = e;
				return e.code;
			}
			pbx_log(run->ctx, PBX_LOG_WARN,
				"Asterisk has no app_voicemail module: the voicemail configuration was written but not loaded");
		}
	}
	run->reloaded = true;
	/* Registrations and contacts follow the new rows: the status cache is stale now. */
	pbx_diag_cache_invalidate(run->ctx);
	return 0;
}

int pbx_apply_check_loaded(struct pbx_ami *ami, const struct pbx_apply_artifact *a,
			   const char *text, const char *want, bool counts, pbx_error *err)
{
	char meta[PBX_DP_CONTEXT_MAX + 8], got[80];
	pbx_error e = PBX_ERROR_INIT;
	int r;

	snprintf(meta, sizeof(meta), "%s%s", PBX_DP_META_PREFIX, a->slug);
	r = pbx_ami_read_marker(ami, meta, got, sizeof(got), &e);
	if (!text) {
		if (r == PBX_ENOTFOUND)
			return 0;
		return pbx_errorf(err, PBX_ERROR, meta, NULL,
				  "Asterisk still has context %s after its file was removed", meta);
	}
	if (r < 0)
		return pbx_errorf(err, PBX_ERROR, meta, NULL,
				  "Asterisk did not load %s (marker context %s: %s)", a->path, meta,
				  e.message);
	if (!want || strcmp(got, want) != 0)
		return pbx_errorf(err, PBX_ERROR, meta, NULL,
				  "%s holds marker %s, expected %s: Asterisk did not load this apply",
				  meta, got, want ? want : "(none)");
	for (size_t k = 0; counts && k < a->n_contexts; k++) {
		int exts = 0, prios = 0;

		r = pbx_ami_dialplan_counts(ami, a->contexts[k].name, &exts, &prios, &e);
		if (r < 0)
			return pbx_errorf(err, PBX_ERROR, a->contexts[k].name, NULL,
					  "context %s of %s is missing in Asterisk: %s",
					  a->contexts[k].name, a->path, e.message);
		if ((size_t)exts != a->contexts[k].extensions ||
		    (size_t)prios != a->contexts[k].priorities)
			return pbx_errorf(err, PBX_ERROR, a->contexts[k].name, NULL,
					  "context %s has %d extensions and %d priorities in Asterisk, %zu and %zu were generated: lines were skipped",
					  a->contexts[k].name, exts, prios,
					  a->contexts[k].extensions, a->contexts[k].priorities);
	}
	return 0;
}

/* Prove that Asterisk holds what @restore says it should: the new or the old state. */
static int verify_once(struct run *run, bool restore, pbx_error *err)
{
	struct pbx_ami *ami = NULL;
	int r = 0;

	for (size_t i = 0; i < run->plan.n_artifacts && r == 0; i++) {
		const struct pbx_apply_artifact *a = &run->plan.artifacts[i];
		const char *text = restore && a->changed ? a->old_text : a->new_text;
		const char *want = restore || !a->changed ? a->old_marker : run->marker;
		pbx_error e = PBX_ERROR_INIT;

		progress(run, restore, "verified", i + 1);
		if (a->kind != PBX_ART_DIALPLAN || (!a->changed && !run->force))
			continue;
		if (!ami && !(ami = pbx_ctx_ami(run->ctx, err)))
			return err->code;
		/* the old file's counts are not known; its marker is the proof */
		r = pbx_apply_check_loaded(ami, a, text, want, !(restore && a->changed), &e);
		if (r < 0)
			return pbx_errorf(err, PBX_ERROR, "apply", NULL, "verify: %s", e.message);
	}
	if (r == 0 && !restore && run->plan.rt) {
		struct pbx_rt_plan *again = NULL;
		struct pbx_realtime *rt = pbx_ctx_realtime(run->ctx, err);

		if (!rt)
			return err->code;
		if ((r = pbx_realtime_plan_rows(rt, run->scope, run->plan.rt->desired, &again,
						err)) < 0)
			return r;
		if (again->n_changes)
			r = pbx_errorf(err, PBX_ERROR, "apply", NULL,
				       "verify: %zu realtime row(s) differ from what was written",
				       again->n_changes);
		pbx_rt_plan_free(again);
	}
	return r;
}

/*
 * verify_once, retried for about two seconds: Asterisk may still be loading what a reload
 * started. A file it dropped or a line it skipped stays wrong, and fails after the retries.
 */
static int verify(struct run *run, bool restore, pbx_error *err)
{
	int r = 0;

	for (int attempt = 0; attempt < 8; attempt++) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 250 * 1000 * 1000 };

		if ((r = verify_once(run, restore, err)) == 0 || r == PBX_EUNAVAILABLE)
			return r;
		nanosleep(&ts, NULL);
	}
	return r;
}

/* Undo everything after the backup; returns 0 when the old state is back and proven. */
static int rollback(struct run *run, pbx_error *err)
{
	struct pbx_realtime *rt;
	int r;

	pbx_log(run->ctx, PBX_LOG_WARN, "apply %s failed; rolling back", run->marker);
	/* The failure may have been a lost AMI connection: the rollback starts a new one. */
	pbx_ctx_ami_reset(run->ctx);
	if ((r = write_files(run, true, err)) < 0)
		return r;
	if (run->snap) {
		if (!(rt = pbx_ctx_realtime(run->ctx, err)))
			return err->code;
		if ((r = pbx_realtime_restore(rt, run->snap, run->scope, err)) < 0)
			return r;
	}
	if ((r = reload(run, err)) < 0)
		return r;
	return verify(run, true, err);
}

static int finish(struct run *run, const char *status, const char *error, bool rollback_failed,
		  struct pbx_apply_result *ret, pbx_error *err)
{
	char *sum = NULL;
	pbx_error e2 = PBX_ERROR_INIT;

	summary(run, &sum, &e2);
	pbx_job_update(run->ctx, run->job, status, error, sum, run->files_json, run->backup,
		       run->reloaded, rollback_failed, &e2);
	ret->summary = sum;
	ret->reloaded = run->reloaded;
	pbx_job_load(run->ctx, run->job, &ret->job, &e2);
	return 0;
}

/* Remember what this successful apply left deployed, for the next one's quick check. */
static void record(struct run *run)
{
	pbx_error e = PBX_ERROR_INIT;

	if (pbx_applied_record(run->ctx, &run->plan, run->scope, run->job, &e) < 0)
		pbx_log(run->ctx, PBX_LOG_WARN,
			"apply %s: could not record what was applied (%s); the next apply plans everything",
			run->marker, e.message);
}

/* Copy the problems of skipped tenants into @ret; PBX_EPARTIAL naming them, or 0. */
static int skipped(const struct run *run, struct pbx_apply_result *ret, char *msg, size_t size,
		   pbx_error *err)
{
	size_t n = 0, len;

	for (size_t i = 0; i < run->plan.skipped.n; i++)
		pbx_diag_add(&ret->problems, &run->plan.skipped.items[i]);
	len = (size_t)snprintf(msg, size, "tenants skipped because their data does not validate:");
	for (size_t i = 0; i < run->plan.n_tenants; i++)
		if (run->plan.tenants[i].skipped && len < size) {
			len += (size_t)snprintf(msg + len, size - len, "%s %s", n ? "," : "",
						run->plan.tenants[i].slug);
			n++;
		}
	if (!n)
		return 0;
	return pbx_errorf(err, PBX_EPARTIAL, "apply", NULL,
			  "%s; every other tenant was applied", msg);
}

/* A successful apply: record it, and end the job; PBX_EPARTIAL when tenants were skipped. */
static int succeeded(struct run *run, struct pbx_apply_result *ret, pbx_error *err)
{
	char msg[PBX_ERR_MESSAGE - 64];
	pbx_error partial = PBX_ERROR_INIT;
	int r = skipped(run, ret, msg, sizeof(msg), &partial);

	record(run);
	step_done(run, "recorded what was applied");
	finish(run, "SUCCESS", r ? msg : NULL, false, ret, err);
	if (r)
		*err = partial;
	return r;
}

/*
 * Self-service state: write what PostgreSQL holds and AstDB lacks, take what phones
 * changed. It needs no reload, so it runs even when no file changes; an Asterisk that
 * cannot be reached leaves it for the next apply, with a warning.
 */
static void reconcile_astdb(struct run *run, const char *tenant)
{
	struct pbx_selfservice_report rep;
	pbx_error err = PBX_ERROR_INIT;

	if (pbx_selfservice_reconcile(run->ctx, tenant, &rep, &err) < 0) {
		pbx_log(run->ctx, PBX_LOG_WARN, "DND, forwards and PINs were not written to "
			"Asterisk's AstDB: %s", err.message);
		return;
	}
	if (rep.pushed || rep.taken || rep.removed || rep.failed)
		pbx_log(run->ctx, rep.failed ? PBX_LOG_WARN : PBX_LOG_INFO,
			"AstDB: %zu user(s) written, %zu phone change(s) taken, %zu stale "
			"extension(s) removed, %zu left pending", rep.pushed, rep.taken, rep.removed,
			rep.failed);
}

static int run_apply(struct run *run, struct pbx_apply_result *ret, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(run->ctx);
	int r, rb;

	step_done(run, "started");
	if (!run->force) {
		struct pbx_applied_check check;
		pbx_error e = PBX_ERROR_INIT;

		/* Nothing moved since the last successful apply: nothing to plan. A failing
		 * check (a backend down) leaves it to the plan, which reports it properly. */
		if (pbx_applied_check(run->ctx, run->opts->tenant, &check, &e) == 0 && check.same) {
			step_done(run, "found nothing moved since the last apply");
			if (pbx_selfservice_pending(run->ctx, run->opts->tenant)) {
				reconcile_astdb(run, run->opts->tenant);
				step_done(run, "reconciled AstDB");
			}
			finish(run, "SUCCESS", NULL, false, ret, err);
			return 0;
		}
		/* One tenant moved, nothing else: plan, write, verify and record it alone. */
		if ((run->only = check.only))
			run->scope = run->only;
		step_done(run, "checked what moved since the last apply");
	}
	run->plan.opts = run->opts;
	run->plan.skip_bad = !run->opts->tenant;
	r = pbx_apply_plan_build(run->ctx, run->scope, run->marker, &run->plan,
				 &ret->problems, err);
	if (r == PBX_EINVALID && ret->problems.n) {
		*err = ret->problems.items[0];
		if (ret->problems.n > 1)
			pbx_error_set_hint(err, "%zu problems in all; nothing was changed",
					   ret->problems.n);
	}
	if (r < 0) {
		finish(run, "FAILED", err->message, false, ret, err);
		return r;
	}
	ret->changed = pbx_apply_plan_changes(&run->plan) > 0;
	step_done(run, "planned");
	/* Planned alone, the moved tenant is reconciled alone; elsewhere only when some user
	 * is pending (phone-made changes there are taken by the next apply that plans all). */
	reconcile_astdb(run, run->scope);
	if (run->only && pbx_selfservice_pending(run->ctx, NULL))
		reconcile_astdb(run, NULL);
	step_done(run, "reconciled AstDB");
	if (!ret->changed && !run->force)
		return succeeded(run, ret, err);
	/* Asterisk must be reachable before anything is written, when it will be reloaded: an
	 * unreachable AMI is exit 7 with nothing touched, not a write followed by a rollback. */
	if (needs_reload(run) && !pbx_ctx_ami(run->ctx, err)) {
		r = err->code;
		finish(run, "FAILED", err->message, false, ret, err);
		return r;
	}
	if ((r = files_json(run, err)) < 0 ||
	    (r = pbx_job_update(run->ctx, run->job, "RUNNING", NULL, NULL, run->files_json, NULL,
				false, false, err)) < 0)
		return r;
	if ((r = backup(run, err)) < 0) {
		/* Nothing was written yet. */
		finish(run, "FAILED", err->message, false, ret, err);
		return r;
	}
	pbx_job_update(run->ctx, run->job, NULL, NULL, NULL, NULL, run->backup, false, false, err);
	pbx_dir_remove_temps(cfg->config_dir);
	pbx_dir_remove_temps(cfg->voicemail_dir);
	/* The lock is proven held before each step that changes what Asterisk runs, and before
	 * success is declared: an apply that lost it stops and rolls back. */
	if ((r = pbx_job_lock_check(run->ctx, err)) < 0) {
		finish(run, "FAILED", err->message, false, ret, err);
		return r;
	}
	step_done(run, "backed up");
	r = write_files(run, false, err);
	step_done(run, "wrote the files");
	if (r == 0 && run->plan.rt && run->plan.rt->n_changes &&
	    (r = pbx_job_lock_check(run->ctx, err)) == 0) {
		struct pbx_realtime *rt = pbx_ctx_realtime(run->ctx, err);

		r = rt ? pbx_realtime_sync(rt, run->plan.rt, err) : err->code;
		pbx_diag_cache_invalidate(run->ctx);
		step_done(run, "wrote the realtime rows");
	}
	if (r == 0 && (r = pbx_job_lock_check(run->ctx, err)) == 0)
		r = reload(run, err);
	step_done(run, "reloaded");
	if (r == 0)
		r = verify(run, false, err);
	step_done(run, "verified");
	if (r == 0)
		r = pbx_job_lock_check(run->ctx, err);
	if (r == 0)
		return succeeded(run, ret, err);
	{
		pbx_error first = *err, rerr = PBX_ERROR_INIT;
		char msg[2 * PBX_ERR_MESSAGE + 64];

		rb = rollback(run, &rerr);
		*err = first;
		if (rb == 0) {
			snprintf(msg, sizeof(msg), "%s; rolled back to the previous state", first.message);
			finish(run, "ROLLED_BACK", msg, false, ret, err);
			pbx_errorf(err, PBX_EROLLEDBACK, first.object[0] ? first.object : "apply", NULL,
				   "%s; rolled back, Asterisk runs the previous configuration",
				   first.message);
			pbx_error_set_detail(err, "%s", first.detail);
			return PBX_EROLLEDBACK;
		}
		snprintf(msg, sizeof(msg), "%s; rollback failed too: %s", first.message, rerr.message);
		finish(run, "FAILED", msg, true, ret, err);
		pbx_errorf(err, PBX_EROLLBACKFAILED, "apply", NULL,
			   "%s; the rollback failed too (%s): restore from backup %s, or fix the cause and run pbxctl apply again",
			   first.message, rerr.message, run->backup ? run->backup : "(none)");
		return PBX_EROLLBACKFAILED;
	}
}

int pbx_apply(pbx_ctx *ctx, const struct pbx_apply_opts *opts, struct pbx_apply_result *ret,
	      pbx_error *err)
{
	struct run run = { .ctx = ctx, .opts = opts, .scope = opts->tenant };
	int r, recovered;

	*ret = (struct pbx_apply_result){ .problems = PBX_DIAG_INIT };
	if (opts->tenant && !pbx_dialplan_valid_slug(opts->tenant))
		return pbx_errorf(err, PBX_EINVALID, "apply", "tenant",
				  "tenant \"%s\" is not a valid slug", opts->tenant);
	/* Without the private key no tenant can be applied: fail once, before the lock. */
	if (!pbx_ctx_opening_key(ctx, err))
		return err->code;
	if (opts->dry_run) {
		/* Never equal to anything in a file, so only the marker differs from what runs. */
		snprintf(run.marker, sizeof(run.marker), "dry-run-%ld-%d", (long)time(NULL),
			 (int)getpid());
		run.plan.skip_bad = !opts->tenant;
		r = pbx_apply_plan_build(ctx, opts->tenant, run.marker, &run.plan, &ret->problems, err);
		if (r == PBX_EINVALID && ret->problems.n)
			*err = ret->problems.items[0];
		if (r == 0) {
			char msg[PBX_ERR_MESSAGE - 64];

			ret->changed = pbx_apply_plan_changes(&run.plan) > 0;
			r = dry_run_diff(&run, &ret->diff, err);
			if (r == 0)
				r = summary(&run, &ret->summary, err);
			if (r == 0)
				r = skipped(&run, ret, msg, sizeof(msg), err);
		}
		pbx_apply_plan_free(&run.plan);
		return r;
	}
	if ((r = pbx_job_lock(ctx, opts->wait_seconds, err)) < 0)
		return r;
	if ((recovered = pbx_job_recover(ctx, err)) < 0) {
		pbx_job_unlock(ctx);
		return recovered;
	}
	if (recovered > 0)
		pbx_log(ctx, PBX_LOG_WARN,
			"%d earlier apply job(s) were interrupted; this apply reloads and verifies everything",
			recovered);
	run.force = recovered > 0;
	if ((r = pbx_job_create(ctx, opts->tenant, &run.job, run.marker, err)) == 0)
		r = run_apply(&run, ret, err);
	if (run.backup) {
		pbx_error e = PBX_ERROR_INIT;
		int removed = 0;

		/* Still under the lock, so no apply writes a backup meanwhile. */
		if (pbx_backup_prune(ctx, &removed, &e) < 0)
			pbx_log(ctx, PBX_LOG_WARN, "old backups were not pruned: %s", e.message);
		else if (removed)
			pbx_log(ctx, PBX_LOG_INFO, "pruned %d old backup(s)", removed);
	}
	pbx_job_unlock(ctx);
	/* After the lock: a slow webhook never holds up the next apply. */
	if (ret->job.n_rows) {
		const char *kv[] = {
			"job", pbx_rows_get(&ret->job, 0, "id"),
			"marker", pbx_rows_get(&ret->job, 0, "marker"),
			"tenant", pbx_rows_get(&ret->job, 0, "tenant"),
			"status", pbx_rows_get(&ret->job, 0, "status"),
			"error", pbx_rows_get(&ret->job, 0, "error"),
			"created_at", pbx_rows_get(&ret->job, 0, "created_at"),
			"finished_at", pbx_rows_get(&ret->job, 0, "finished_at"),
			NULL,
		};

		pbx_notify_fields(ctx, "apply", kv);
	}
	pbx_rt_snapshot_free(run.snap);
	pbx_apply_plan_free(&run.plan);
	free(run.backup);
	free(run.files_json);
	free(run.only);
	return r;
}

void pbx_apply_result_free(struct pbx_apply_result *r)
{
	free(r->diff);
	free(r->summary);
	pbx_diag_free(&r->problems);
	pbx_rows_free(&r->job);
	*r = (struct pbx_apply_result){ .problems = PBX_DIAG_INIT };
}
