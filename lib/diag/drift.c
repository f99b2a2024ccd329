/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl diag drift`: what differs between the desired state (PostgreSQL), the files on
 * disk, the realtime rows and what Asterisk runs, named one by one. It runs apply's own
 * planning (state -> artifacts and rows -> diff against disk and MariaDB) as a dry run, and
 * apply's verify check of each dialplan file against Asterisk, so drift and apply can never
 * disagree about what "the same" means. Nothing is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/diag.h"
#include "pbx/dialplan-external.h"
#include "pbx/dialplan.h"
#include "pbx/realtime.h"
#include "../apply/apply-internal.h"
#include "ctx.h"

static const struct pbx_field drift_fields[] = {
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant slug; null: shared (the inbound router, global trunks)" },
	{ "kind", PBX_FT_STRING, PBX_FIELD_DEFAULT, "file, row, asterisk or invalid" },
	{ "object", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the file path, the table/id of the row, or the context" },
	{ "difference", PBX_FT_STRING, PBX_FIELD_DEFAULT, "what differs" },
};

const struct pbx_schema pbx_schema_drift = {
	.name = "drift",
	.fields = drift_fields,
	.n_fields = sizeof(drift_fields) / sizeof(drift_fields[0]),
};

static int add(struct pbx_rows *rows, const char *tenant, const char *kind, const char *object,
	       const char *difference)
{
	long row = pbx_rows_add(rows);
	int r = 0;

	if (row < 0)
		return PBX_ERROR;
	if (tenant && (!strcmp(tenant, PBX_RT_OWNER_GLOBAL) || !strcmp(tenant, PBX_DP_INBOUND_OWNER)))
		tenant = NULL;
	r |= pbx_rows_set(rows, (size_t)row, "tenant", tenant);
	r |= pbx_rows_set(rows, (size_t)row, "kind", kind);
	r |= pbx_rows_set(rows, (size_t)row, "object", object);
	r |= pbx_rows_set(rows, (size_t)row, "difference", difference);
	return r ? PBX_ERROR : 0;
}

/* The first line where @a and @b differ (1-based). */
static size_t first_diff_line(const char *a, const char *b)
{
	size_t line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

static int files(const struct pbx_apply_plan *plan, struct pbx_rows *rows)
{
	int r = 0;

	for (size_t i = 0; i < plan->n_artifacts && r == 0; i++) {
		const struct pbx_apply_artifact *a = &plan->artifacts[i];
		char what[160];

		if (!a->changed)
			continue;
		if (!a->new_text)
			snprintf(what, sizeof(what), "on disk, but its tenant is gone");
		else if (!a->old_text)
			snprintf(what, sizeof(what), "missing on disk (never applied, or removed)");
		else
			snprintf(what, sizeof(what),
				 "differs from the desired state from line %zu (edited by hand, or changes not applied yet)",
				 first_diff_line(a->old_text, a->new_text));
		r = add(rows, a->slug, "file", a->path, what);
	}
	return r;
}

static int realtime_rows(const struct pbx_apply_plan *plan, struct pbx_rows *rows)
{
	int r = 0;

	for (size_t i = 0; plan->rt && i < plan->rt->n_changes && r == 0; i++) {
		const struct pbx_rt_change *c = &plan->rt->changes[i];
		char object[320], what[512] = "";
		size_t n = 0;

		snprintf(object, sizeof(object), "%s/%s", c->table, c->id);
		if (c->op == PBX_RT_INSERT) {
			snprintf(what, sizeof(what), "missing in MariaDB");
		} else if (c->op == PBX_RT_DELETE) {
			snprintf(what, sizeof(what), "in MariaDB, but pbxctl no longer wants it");
		} else {
			n = (size_t)snprintf(what, sizeof(what), "column%s ",
					     c->n_changed == 1 ? "" : "s");
			/* names only: a column may hold a secret */
			for (size_t k = 0; k < c->n_changed && n < sizeof(what); k++)
				n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", k ? ", " : "",
						      c->changed[k]);
			if (n < sizeof(what))
				snprintf(what + n, sizeof(what) - n, " differ%s from the desired state",
					 c->n_changed == 1 ? "s" : "");
		}
		r = add(rows, c->owner, "row", object, what);
	}
	return r;
}

/* Does Asterisk run what is on disk? (Whatever is on disk; files() reports the rest.) */
static int asterisk(pbx_ctx *ctx, const struct pbx_apply_plan *plan, struct pbx_rows *rows,
		    pbx_error *err)
{
	struct pbx_ami *ami = NULL;
	int r = 0;

	for (size_t i = 0; i < plan->n_artifacts && r == 0; i++) {
		const struct pbx_apply_artifact *a = &plan->artifacts[i];
		pbx_error e = PBX_ERROR_INIT;

		if (a->kind != PBX_ART_DIALPLAN || !a->old_text)
			continue;
		if (!ami && !(ami = pbx_ctx_ami(ctx, err)))
			return err->code;
		/* Unchanged: the generated counts are the file's, so check them too. */
		if (pbx_apply_check_loaded(ami, a, a->old_text, a->old_marker, !a->changed, &e) < 0)
			r = add(rows, a->slug, "asterisk", e.object[0] ? e.object : a->path, e.message);
	}
	return r;
}

int pbx_diag_drift(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err)
{
	struct pbx_apply_plan plan = { .skip_bad = !tenant };
	pbx_diag problems = PBX_DIAG_INIT;
	struct pbx_rows rows;
	char marker[64];
	int r;

	if (tenant && !pbx_dialplan_valid_slug(tenant))
		return pbx_errorf(err, PBX_EINVALID, "diag drift", "tenant",
				  "tenant \"%s\" is not a valid slug", tenant);
	/* Never equal to anything in a file, so only the marker differs from what runs. */
	snprintf(marker, sizeof(marker), "drift-%ld-%d", (long)time(NULL), (int)getpid());
	pbx_rows_init(&rows, &pbx_schema_drift);
	r = pbx_apply_plan_build(ctx, tenant, marker, &plan, &problems, err);
	if (r == PBX_EINVALID && problems.n) {
		/* The desired state itself is wrong (or a row conflicts): that is drift too. */
		r = 0;
		for (size_t i = 0; i < problems.n && r == 0; i++)
			r = add(&rows, NULL, "invalid",
				problems.items[i].object[0] ? problems.items[i].object : "state",
				problems.items[i].message);
	} else if (r == 0) {
		r = files(&plan, &rows);
		if (r == 0)
			r = realtime_rows(&plan, &rows);
		if (r == PBX_ERROR)
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		if (r == 0)
			r = asterisk(ctx, &plan, &rows, err);
	}
	if (r == PBX_ERROR && !err->code)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	pbx_diag_free(&problems);
	pbx_apply_plan_free(&plan);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
