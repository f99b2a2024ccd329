/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl diag metrics`: the Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector: devices per tenant and state, trunk registration and
 * reachability, the last apply's result and duration, and every health check's verdict and
 * latency. Label values are escaped as the format requires (\\, \", \n).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/apply.h"
#include "pbx/diag.h"
#include "diag-internal.h"

static void label(FILE *f, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* Seconds since the epoch of an RFC 3339 UTC time ("2026-12-06T01:02:03.45Z"); 0 if not. */
static double epoch(const char *t)
{
	struct tm tm = { 0 };
	double frac = 0;
	const char *dot;

	if (!t || sscanf(t, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			 &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((dot = strchr(t, '.')))
		frac = strtod(dot, NULL);
	return (double)timegm(&tm) + frac;
}

static void devices(FILE *f, const struct pbx_rows *d)
{
	fputs("# HELP pbxctl_devices Devices by tenant and registration state.\n"
	      "# TYPE pbxctl_devices gauge\n", f);
	for (size_t i = 0; i < d->n_rows; i++) {
		const char *t = pbx_rows_get(d, i, "tenant");
		size_t reg = 0, unreg = 0;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(pbx_rows_get(d, k, "tenant"), t);
		if (seen)
			continue;
		for (size_t k = i; k < d->n_rows; k++)
			if (!strcmp(pbx_rows_get(d, k, "tenant"), t))
				(*(!strcmp(pbx_rows_get(d, k, "state"), "registered") ? &reg : &unreg))++;
		fputs("pbxctl_devices{tenant=\"", f);
		label(f, t);
		fprintf(f, "\",state=\"registered\"} %zu\npbxctl_devices{tenant=\"", reg);
		label(f, t);
		fprintf(f, "\",state=\"unregistered\"} %zu\n", unreg);
	}
}

static void trunks(FILE *f, const struct pbx_rows *t)
{
	fputs("# HELP pbxctl_trunk_registered 1 when the trunk's outbound registration is Registered.\n"
	      "# TYPE pbxctl_trunk_registered gauge\n", f);
	for (size_t i = 0; i < t->n_rows; i++) {
		const char *reg = pbx_rows_get(t, i, "registration");

		if (!pbx_rows_get(t, i, "auth") || strcmp(pbx_rows_get(t, i, "auth"), "registration"))
			continue;
		fputs("pbxctl_trunk_registered{trunk=\"", f);
		label(f, pbx_rows_get(t, i, "name"));
		fprintf(f, "\",state=\"");
		label(f, reg ? reg : "missing");
		fprintf(f, "\"} %d\n", reg && !strcmp(reg, "Registered"));
	}
	fputs("# HELP pbxctl_trunk_reachable 1 when Asterisk reaches the trunk's contact.\n"
	      "# TYPE pbxctl_trunk_reachable gauge\n", f);
	for (size_t i = 0; i < t->n_rows; i++) {
		const char *re = pbx_rows_get(t, i, "reachability");

		fputs("pbxctl_trunk_reachable{trunk=\"", f);
		label(f, pbx_rows_get(t, i, "name"));
		fprintf(f, "\"} %d\n", re && !strcmp(re, "Reachable"));
	}
}

static void last_apply(FILE *f, const struct pbx_rows *j)
{
	const char *status = j->n_rows ? pbx_rows_get(j, 0, "status") : NULL;
	double created = j->n_rows ? epoch(pbx_rows_get(j, 0, "created_at")) : 0;
	double finished = j->n_rows ? epoch(pbx_rows_get(j, 0, "finished_at")) : 0;

	fputs("# HELP pbxctl_last_apply_success 1 when the last finished apply succeeded.\n"
	      "# TYPE pbxctl_last_apply_success gauge\n", f);
	fprintf(f, "pbxctl_last_apply_success %d\n", status && !strcmp(status, "SUCCESS"));
	fputs("# HELP pbxctl_last_apply_duration_seconds How long the last finished apply took.\n"
	      "# TYPE pbxctl_last_apply_duration_seconds gauge\n", f);
	fprintf(f, "pbxctl_last_apply_duration_seconds %.3f\n",
		finished > created ? finished - created : 0.0);
	fputs("# HELP pbxctl_last_apply_timestamp_seconds When the last finished apply ended.\n"
	      "# TYPE pbxctl_last_apply_timestamp_seconds gauge\n", f);
	fprintf(f, "pbxctl_last_apply_timestamp_seconds %.0f\n", finished);
}

static void checks(FILE *f, const struct pbx_rows *h)
{
	fputs("# HELP pbxctl_check_up 1 when the health check passed.\n"
	      "# TYPE pbxctl_check_up gauge\n", f);
	for (size_t i = 0; i < h->n_rows; i++)
		fprintf(f, "pbxctl_check_up{check=\"%s\"} %d\n", pbx_rows_get(h, i, "check"),
			!strcmp(pbx_rows_get(h, i, "status"), "ok"));
	fputs("# HELP pbxctl_check_latency_seconds How long the health check took.\n"
	      "# TYPE pbxctl_check_latency_seconds gauge\n", f);
	for (size_t i = 0; i < h->n_rows; i++)
		fprintf(f, "pbxctl_check_latency_seconds{check=\"%s\"} %.3f\n",
			pbx_rows_get(h, i, "check"), atof(pbx_rows_get(h, i, "latency_ms")) / 1000);
}

int pbx_diag_metrics(pbx_ctx *ctx, const char *tenant, char **ret, pbx_error *err)
{
	struct pbx_diag_device_query q = { .tenant = tenant };
	struct pbx_rows h, d, t, j;
	bool healthy, have_d, have_t, have_j;
	pbx_error e = PBX_ERROR_INIT;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((r = pbx_diag_health(ctx, tenant, &h, &healthy, err)) < 0)
		return r;
	/* A backend that is down shows in pbxctl_check_up; the figures it feeds are left out. */
	have_d = pbx_diag_devices(ctx, &q, &d, &e) == 0;
	have_t = pbx_diag_trunks(ctx, tenant, false, &t, &e) == 0;
	have_j = pbx_apply_jobs(ctx, NULL, tenant, 1, &j, &e) == 0;
	if (!(f = open_memstream(&text, &len))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	if (have_d)
		devices(f, &d);
	if (have_t)
		trunks(f, &t);
	if (have_j)
		last_apply(f, &j);
	checks(f, &h);
	fputs("# HELP pbxctl_healthy 1 when every health check passed.\n"
	      "# TYPE pbxctl_healthy gauge\n", f);
	fprintf(f, "pbxctl_healthy %d\n", healthy);
	if (fclose(f) != 0) {
		free(text);
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	*ret = text;
cleanup:
	pbx_rows_free(&h);
	if (have_d)
		pbx_rows_free(&d);
	if (have_t)
		pbx_rows_free(&t);
	if (have_j)
		pbx_rows_free(&j);
	return r;
}
