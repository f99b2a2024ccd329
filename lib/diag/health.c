/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl diag health` and `diag metrics`: each check (PostgreSQL, MariaDB, AMI login,
 * Asterisk fully booted, the dialplan Asterisk runs, the realtime rows, free space) with its
 * latency and verdict, and the Prometheus text exposition of device, trunk, apply and check
 * figures for node_exporter's textfile collector. Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/diag.h"
#include "pbx/realtime.h"
#include "pbx/tenant.h"
#include "ctx.h"
#include "diag-internal.h"

/* Below this share of free space (percent) a directory's check fails. */
#define MIN_FREE_PERCENT 5

static const struct pbx_field health_fields[] = {
	{ "check", PBX_FT_STRING, PBX_FIELD_DEFAULT, "postgresql, mariadb, ami_login, asterisk_booted, dialplan, realtime_rows, disk_config, disk_backup, disk_spool" },
	{ "status", PBX_FT_STRING, PBX_FIELD_DEFAULT, "ok or fail" },
	{ "latency_ms", PBX_FT_INT, PBX_FIELD_DEFAULT, "how long the check took" },
	{ "detail", PBX_FT_STRING, PBX_FIELD_DEFAULT, "what was found" },
};

const struct pbx_schema pbx_schema_health = {
	.name = "health",
	.fields = health_fields,
	.n_fields = sizeof(health_fields) / sizeof(health_fields[0]),
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add(struct pbx_rows *rows, const char *check, bool ok, double started,
	       const char *detail)
{
	long row = pbx_rows_add(rows);
	char ms[32];
	int r = 0;

	if (row < 0)
		return PBX_ERROR;
	snprintf(ms, sizeof(ms), "%ld", (long)((now_s() - started) * 1000 + 0.5));
	r |= pbx_rows_set(rows, (size_t)row, "check", check);
	r |= pbx_rows_set(rows, (size_t)row, "status", ok ? "ok" : "fail");
	r |= pbx_rows_set(rows, (size_t)row, "latency_ms", ms);
	r |= pbx_rows_set(rows, (size_t)row, "detail", detail);
	return r ? PBX_ERROR : 0;
}

static void on_event(const struct pbx_ami_msg *ev, void *ud)
{
	const char *name = pbx_ami_msg_get(ev, "Event");

	if (name && !strcmp(name, "FullyBooted"))
		*(bool *)ud = true;
}

/* A second session that asks for system events: Asterisk greets it with FullyBooted once
 * it has finished starting (reference/ami/events-on-login). */
static bool fully_booted(pbx_ctx *ctx, char *detail, size_t n)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_ami_config ac = {
		.host = cfg->ami_host, .port = cfg->ami_port, .username = cfg->ami_username,
		.secret = cfg->ami_secret, .timeout_ms = cfg->ami_timeout_ms, .md5 = cfg->ami_md5,
		.events = "system",
	};
	pbx_error e = PBX_ERROR_INIT;
	bool booted = false;
	pbx_ami *ami;

	if (pbx_ami_connect(&ac, &ami, &e) < 0) {
		snprintf(detail, n, "%s", e.message);
		return false;
	}
	pbx_ami_set_event_cb(ami, on_event, &booted);
	if (pbx_ami_ping(ami, &e) < 0)
		snprintf(detail, n, "%s", e.message);
	else
		snprintf(detail, n, booted ? "FullyBooted" : "Asterisk has not sent FullyBooted: still starting");
	pbx_ami_close(ami);
	return booted;
}

static void disk(struct pbx_rows *rows, const char *check, const char *dir)
{
	double t0 = now_s();
	struct statvfs st;
	char detail[PBX_ERR_MESSAGE], path[1024];
	bool ok = false;
	int r = -1;

	/* A directory apply has not created yet lives on its nearest existing parent's disk. */
	snprintf(path, sizeof(path), "%s", dir ? dir : "");
	while (path[0] && (r = statvfs(path, &st)) < 0) {
		char *slash = strrchr(path, '/');

		if (!slash || !strcmp(path, "/"))
			break;
		slash[slash == path] = '\0';
	}
	if (!dir || r < 0 || !st.f_blocks) {
		snprintf(detail, sizeof(detail), "%s: cannot read its file system", dir ? dir : "(unset)");
	} else {
		unsigned long long free_b = (unsigned long long)st.f_bavail * st.f_frsize;
		double pct = 100.0 * (double)st.f_bavail / (double)st.f_blocks;

		ok = pct >= MIN_FREE_PERCENT;
		snprintf(detail, sizeof(detail), "%s: %.1f%% free (%llu MiB)%s", dir, pct,
			 free_b >> 20, ok ? "" : ", less than " "5" "%");
	}
	add(rows, check, ok, t0, detail);
}

/* dialplan and realtime_rows: the drift of what Asterisk runs and of the rows. */
static void deployed(pbx_ctx *ctx, const char *tenant, struct pbx_rows *rows)
{
	double t0 = now_s();
	struct pbx_rows d;
	pbx_error e = PBX_ERROR_INIT;
	size_t n_ast = 0, n_rows = 0;
	char da[PBX_ERR_MESSAGE] = "every generated file is loaded, marker and contexts",
	     dr[PBX_ERR_MESSAGE] = "every row pbxctl owns matches the desired state";

	if (pbx_diag_drift(ctx, tenant, &d, &e) < 0) {
		add(rows, "dialplan", false, t0, e.message);
		add(rows, "realtime_rows", false, t0, e.message);
		return;
	}
	for (size_t i = 0; i < d.n_rows; i++) {
		const char *kind = pbx_rows_get(&d, i, "kind");
		bool ast = !strcmp(kind, "asterisk");

		if (!ast && strcmp(kind, "row") && strcmp(kind, "invalid"))
			continue;
		if ((ast ? n_ast++ : n_rows++) == 0)
			snprintf(ast ? da : dr, PBX_ERR_MESSAGE, "%s: %s", pbx_rows_get(&d, i, "object"),
				 pbx_rows_get(&d, i, "difference"));
	}
	pbx_rows_free(&d);
	add(rows, "dialplan", n_ast == 0, t0, da);
	add(rows, "realtime_rows", n_rows == 0, t0, dr);
}

int pbx_diag_health(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, bool *ret_healthy,
		    pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	struct pbx_rows rows;
	pbx_error e = PBX_ERROR_INIT;
	char detail[PBX_ERR_MESSAGE];
	bool pg, rt, ami, ok;
	double t0;

	pbx_rows_init(&rows, &pbx_schema_health);
	t0 = now_s();
	pg = pbx_ctx_pg(ctx, &e) != NULL;
	add(&rows, "postgresql", pg, t0, pg ? "connected, schema current" : e.message);
	t0 = now_s();
	rt = pbx_ctx_realtime(ctx, &e) != NULL;
	add(&rows, "mariadb", rt, t0, rt ? "connected" : e.message);
	t0 = now_s();
	ami = pbx_ctx_ami(ctx, &e) != NULL;
	add(&rows, "ami_login", ami, t0, ami ? "logged in" : e.message);
	t0 = now_s();
	ok = ami && fully_booted(ctx, detail, sizeof(detail));
	add(&rows, "asterisk_booted", ok, t0, ami ? detail : "no AMI session");
	if (pg && rt && ami) {
		deployed(ctx, tenant, &rows);
	} else {
		t0 = now_s();
		add(&rows, "dialplan", false, t0, "needs PostgreSQL, MariaDB and AMI");
		add(&rows, "realtime_rows", false, t0, "needs PostgreSQL, MariaDB and AMI");
	}
	disk(&rows, "disk_config", cfg->config_dir);
	disk(&rows, "disk_backup", cfg->backup_dir);
	disk(&rows, "disk_spool", cfg->voicemail_spool);
	if (rows.n_rows != 9) {
		pbx_rows_free(&rows);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	*ret_healthy = true;
	for (size_t i = 0; i < rows.n_rows; i++)
		if (strcmp(pbx_rows_get(&rows, i, "status"), "ok") != 0)
			*ret_healthy = false;
	*ret = rows;
	return 0;
}
