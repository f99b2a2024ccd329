/* SPDX-License-Identifier: MIT */
/*
 * Benchmark: create N users (default 1000) with two SIP devices each through libpbx, every
 * object with its audit row, in three ways: one library call and one transaction per user
 * and per device, as `pbxctl user create` and `pbxctl device create` do; one call and one
 * transaction per user with its devices (pbx_user_create_with_devices), as provisioning a
 * new user with their phones would; and one bulk import of them all (pbx_bulk_import).
 * Prints the wall time of each in total, per user (with its two devices) and per call.
 * Needs PostgreSQL: the database comes from $PBXCTL_DATABASE_URL (scripts/services writes
 * it) and is migrated; a throw-away tenant and key file are made for the run, and the
 * tenants are removed afterwards (not timed). With --tenant-admin LOGIN the same calls run
 * as LOGIN, mapped (and if need be created) as the tenant_admin of the tenant being filled,
 * so that row-level security (migration 0007) applies to every statement; the owner still
 * creates and removes the tenants. See bench/README.md for figures.
 *
 * Usage: bench-users [N] [--tenant-admin LOGIN] [--bulk-only] [--bulk-runs K]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pbx/bulk.h"
#include "pbx/config.h"
#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/operator.h"
#include "pbx/pbx.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/user.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Map @login as the tenant_admin of @tenant, creating the login the first time. */
static int map_tenant_admin(pbx_ctx *ctx, const char *login, const char *tenant, pbx_error *err)
{
	struct pbx_operator_spec op = { .login = login, .role = "tenant_admin", .tenant = tenant };
	struct pbx_rows rows;
	bool changed;
	int r = pbx_operator_set_role(ctx, &op, &rows, &changed, err);

	if (r == PBX_ENOTFOUND) {
		r = pbx_operator_add(ctx, &op, &rows, err);
		if (r == PBX_ENOTFOUND) {
			op.create_login = true;
			r = pbx_operator_add(ctx, &op, &rows, err);
		}
	}
	if (r == 0)
		pbx_rows_free(&rows);
	return r;
}

static int fail(const char *what, const pbx_error *err)
{
	fprintf(stderr, "bench-users: %s: %s%s%s\n", what, err->message,
		err->detail[0] ? ": " : "", err->detail);
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * One bulk import of @n users with two devices each into tenant @bslug, which the owner
 * (@ctx) creates first and removes afterwards (neither timed): the same users and devices
 * as one declarative document, written in one transaction by @wctx (what `pbxctl import`
 * does). The tenant exists beforehand in both modes, as a tenant admin cannot create one.
 */
static int bulk_once(pbx_ctx *ctx, pbx_ctx *wctx, const char *ta, const char *bslug, long n,
		     double *ret_secs, pbx_error *err)
{
	static const char *const labels[] = { "Desk Phone", "Mobile" };
	struct pbx_tenant_spec tspec = { .slug = bslug, .extensions = "10000-99999" };
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	pbx_bulk_doc *doc = NULL;
	pbx_diag diag = PBX_DIAG_INIT;
	struct pbx_bulk_import_opts bo = { 0 };
	struct pbx_rows rows, sum, changes;
	bool changed;
	double t0;
	int r;

	if ((r = pbx_tenant_create(ctx, &tspec, &rows, err)) < 0)
		return r;
	pbx_rows_free(&rows);
	if (ta && (r = map_tenant_admin(ctx, ta, bslug, err)) < 0)
		return r;
	fprintf(mem, "version: 1\ntenants:\n  - slug: %s\n    extensions: 10000-99999\n"
		     "    users:\n", bslug);
	for (long i = 0; i < n; i++)
		fprintf(mem, "      - username: bulk%05ld\n        devices:\n"
			     "          - label: %s\n          - label: %s\n", i, labels[0],
			labels[1]);
	fclose(mem);
	t0 = now();
	mem = fmemopen(text, len, "r");
	r = pbx_bulk_parse("bench", mem, &doc, &diag, err);
	if (r == 0)
		r = pbx_bulk_import(wctx, doc, &bo, &sum, &changes, &changed, &diag, err);
	*ret_secs = now() - t0;
	fclose(mem);
	if (r < 0 && diag.n)
		fprintf(stderr, "bench-users: %s\n", diag.items[0].message);
	if (r == 0) {
		pbx_rows_free(&sum);
		pbx_rows_free(&changes);
	}
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
	free(text);
	if (r == 0)
		r = pbx_tenant_delete(ctx, bslug, true, NULL, err);
	return r;
}

int main(int argc, char **argv)
{
	static const char *const labels[] = { "Desk Phone", "Mobile" };
	struct pbx_tenant_spec tspec = { .extensions = "10000-99999" };
	char dir[] = "/tmp/pbxctl-bench-XXXXXX", key[64], slug[32], name[32], bslug[40];
	const char *url = getenv("PBXCTL_DATABASE_URL");
	long n = 1000, bulk_runs = 1;
	const char *ta = NULL;
	bool calls = true, usage = false;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_config cfg, ta_cfg;
	struct pbx_rows rows;
	double t0, t1, t2;
	pbx_ctx *ctx, *wctx;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tenant-admin") && i + 1 < argc)
			ta = argv[++i];
		else if (!strcmp(argv[i], "--bulk-runs") && i + 1 < argc)
			bulk_runs = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--bulk-only"))
			calls = false;
		else if (i == 1)
			n = strtol(argv[i], NULL, 10);
		else
			usage = true;
	}
	if (!url || n < 1 || n > 40000 || bulk_runs < 1 || bulk_runs > 100 || usage) {
		fprintf(stderr, "usage: PBXCTL_DATABASE_URL=... bench-users [N (1-40000)] "
			"[--tenant-admin LOGIN] [--bulk-only] [--bulk-runs K (1-100)]\n");
		return 2;
	}
	if (pbx_config_defaults(&cfg, &err) < 0)
		return fail("config", &err);
	free(cfg.database_url);
	cfg.database_url = strdup(url);
	if (!mkdtemp(dir)) {
		perror("bench-users: mkdtemp");
		return 1;
	}
	snprintf(key, sizeof(key), "%s/pbxctl.key", dir);
	free(cfg.key_file);
	cfg.key_file = strdup(key);
	if (pbx_secret_key_init(key, &err) < 0)
		return fail("key", &err);
	if (pbx_ctx_new(&cfg, &ctx, &err) < 0)
		return fail("context", &err);
	if (pbx_db_migrate(ctx, &rows, &err) < 0)
		return fail("migrate", &err);
	pbx_rows_free(&rows);
	snprintf(slug, sizeof(slug), "bench-%d", (int)getpid());
	tspec.slug = slug;
	if (pbx_tenant_create(ctx, &tspec, &rows, &err) < 0)
		return fail("tenant", &err);
	pbx_rows_free(&rows);
	wctx = ctx;
	if (ta) {
		char ta_url[1024];

		if (map_tenant_admin(ctx, ta, slug, &err) < 0)
			return fail("operator", &err);
		if (pbx_config_defaults(&ta_cfg, &err) < 0)
			return fail("config", &err);
		snprintf(ta_url, sizeof(ta_url), "%s user=%s", url, ta);
		free(ta_cfg.database_url);
		ta_cfg.database_url = strdup(ta_url);
		free(ta_cfg.key_file);
		ta_cfg.key_file = strdup(key);
		if (pbx_ctx_new(&ta_cfg, &wctx, &err) < 0)
			return fail("context", &err);
		printf("as %s, tenant_admin of the tenant (row-level security applies)\n", ta);
	}

	/* --bulk-only skips the two modes of one call per object or per user. */
	if (calls) {
		t0 = now();
		for (long i = 0; i < n; i++) {
			struct pbx_user_spec u = PBX_USER_SPEC_INIT;

			snprintf(name, sizeof(name), "user%05ld", i);
			u.username = name;
			if (pbx_user_create(wctx, slug, &u, &rows, &err) < 0)
				return fail(name, &err);
			pbx_rows_free(&rows);
			for (size_t d = 0; d < 2; d++) {
				struct pbx_device_spec s = PBX_DEVICE_SPEC_INIT;

				s.label = labels[d];
				if (pbx_device_create(wctx, slug, name, &s, &rows, &err) < 0)
					return fail(labels[d], &err);
				pbx_device_rows_free(&rows);
			}
		}
		t1 = now();
		printf("%ld users with 2 devices each, a call per object: %.3f s in total, "
		       "%.3f ms per user, %.3f ms per call (%ld calls)\n", n, t1 - t0,
		       (t1 - t0) * 1e3 / (double)n, (t1 - t0) * 1e3 / (double)(3 * n), 3 * n);

		t0 = now();
		for (long i = 0; i < n; i++) {
			struct pbx_user_spec u = PBX_USER_SPEC_INIT;
			struct pbx_device_spec s[2] = { PBX_DEVICE_SPEC_INIT, PBX_DEVICE_SPEC_INIT };
			struct pbx_rows devs;

			snprintf(name, sizeof(name), "both%05ld", i);
			u.username = name;
			s[0].label = labels[0];
			s[1].label = labels[1];
			if (pbx_user_create_with_devices(wctx, slug, &u, s, 2, &rows, &devs, &err) < 0)
				return fail(name, &err);
			pbx_rows_free(&rows);
			pbx_device_rows_free(&devs);
		}
		t2 = now();
		printf("%ld users with 2 devices each, a call per user: %.3f s in total, "
		       "%.3f ms per user\n", n, t2 - t0, (t2 - t0) * 1e3 / (double)n);
	}

	/* The library's bulk path, @bulk_runs times, each into a new tenant: the median. */
	{
		double *t = calloc((size_t)bulk_runs, sizeof(*t));

		for (long k = 0; t && k < bulk_runs; k++) {
			snprintf(bslug, sizeof(bslug), "%.16s-b%ld", slug, k);
			if (bulk_once(ctx, wctx, ta, bslug, n, &t[k], &err) < 0)
				return fail("bulk", &err);
			printf("%ld users with 2 devices each, one bulk import (pbx_bulk_import): "
			       "%.3f s in total, %.3f ms per user\n", n, t[k], t[k] * 1e3 / (double)n);
		}
		if (t && bulk_runs > 1) {
			qsort(t, (size_t)bulk_runs, sizeof(*t), cmp_double);
			printf("bulk import, median of %ld runs: %.3f s (min %.3f, max %.3f)\n",
			       bulk_runs, bulk_runs % 2 ? t[bulk_runs / 2] :
			       (t[bulk_runs / 2 - 1] + t[bulk_runs / 2]) / 2, t[0], t[bulk_runs - 1]);
		}
		free(t);
	}

	t1 = now();
	if (pbx_tenant_delete(ctx, slug, true, NULL, &err) < 0)
		return fail("cleanup", &err);
	t2 = now();
	printf("cleanup (tenant delete --force, not part of the figure): %.3f s\n", t2 - t1);
	if (ta) {
		pbx_ctx_free(wctx);
		pbx_config_free(&ta_cfg);
	}
	pbx_ctx_free(ctx);
	pbx_config_free(&cfg);
	unlink(key);
	rmdir(dir);
	return 0;
}
