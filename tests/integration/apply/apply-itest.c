/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the apply integration tests: a private directory, the AMI peer reading
 * its dialplan directory as Asterisk does (misbehaving on request through its control
 * file), a context pointed at both, and one tenant with users and devices to apply.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "apply-itest.h"
#include "testenv.h"

struct pbx_config cfg;
pbx_ctx *ctx;
char dir[64], slug[32];
int peer_port;
static struct testenv_site site;

char *path_in(const char *name)
{
	return (char *)testenv_site_path(&site, name);
}

/* The peer re-reads its control file before every action; replace it atomically. */
void control(const char *text)
{
	peer_control(&site.peer, text);
}

void setup_peer_ctx(void)
{
	testenv_site_open(&site, "apply", true, NULL);
	snprintf(dir, sizeof(dir), "%s", site.dir);
	peer_port = site.peer.port;
	ctx = testenv_site_ctx(&site, &cfg);
}

/*
 * Apply refuses a tenant whose phones could not call an emergency number: route them through
 * a global trunk of this test (global, so a tenant-scoped apply writes none of its rows).
 */
static char em_trunk[40];

static void emergency_route(void)
{
	struct pbx_trunk_spec k = PBX_TRUNK_SPEC_INIT;
	struct pbx_tenant_spec t = { .emergency_trunk = em_trunk };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char match[32];

	snprintf(em_trunk, sizeof(em_trunk), "em-%d", (int)getpid());
	snprintf(match, sizeof(match), "10.202.%d.%d", (int)getpid() >> 8 & 255,
		 (int)getpid() & 255);
	k.name = em_trunk;
	k.global = 1;
	k.host = "sip.emergency.example";
	k.auth = "ip_auth";
	k.match = match;
	cr_assert(eq(int, pbx_trunk_create(ctx, &k, &rows, &err), 0), "%s", err.message);
	pbx_trunk_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_update(ctx, slug, &t, &rows, NULL, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

void setup(void)
{
	struct pbx_tenant_spec spec = { .extensions = "100-199", .name = "Apply Co" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	setup_peer_ctx();
	cr_assert(eq(int, pbx_db_migrate_realtime(ctx, &err), 0), "%s", err.message);
	snprintf(slug, sizeof(slug), "%s", testenv_slug("ap"));
	spec.slug = slug;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	emergency_route();
}

void teardown(void)
{
	struct pbx_tenant_spec t = { .emergency_trunk = "" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	if (pbx_tenant_update(ctx, slug, &t, &rows, NULL, &err) == 0)
		pbx_rows_free(&rows);
	if (pbx_trunk_delete(ctx, em_trunk, &rows, &err) == 0)
		pbx_trunk_rows_free(&rows);
	testenv_free(ctx, &cfg);
	testenv_site_close(&site);
}

void add_user(const char *username, int devices)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char label[24];

	u.username = username;
	u.voicemail = 1;
	cr_assert(eq(int, pbx_user_create(ctx, slug, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	for (int i = 0; i < devices; i++) {
		struct pbx_device_spec d = PBX_DEVICE_SPEC_INIT;

		snprintf(label, sizeof(label), "phone %d", i);
		d.label = label;
		cr_assert(eq(int, pbx_device_create(ctx, slug, username, &d, &rows, &err), 0), "%s",
			  err.message);
		pbx_rows_free(&rows);
	}
}

int run(bool dry, struct pbx_apply_result *res, pbx_error *err)
{
	struct pbx_apply_opts o = { .tenant = slug, .dry_run = dry };

	return pbx_apply(ctx, &o, res, err);
}

int count_in(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Rows pbxctl owns for the test tenant in MariaDB. */
size_t realtime_rows(void)
{
	struct pbx_realtime_config rc = { .socket = cfg.rt_socket, .user = cfg.rt_user,
					  .password = cfg.rt_password, .database = cfg.rt_database };
	struct pbx_rt_snapshot *snap;
	pbx_realtime *rt;
	pbx_error err;
	size_t n;

	cr_assert(eq(int, pbx_realtime_connect(&rc, &rt, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_realtime_snapshot(rt, slug, &snap, &err), 0), "%s", err.message);
	n = pbx_rt_rowset_count(snap->rows);
	pbx_rt_snapshot_free(snap);
	pbx_realtime_close(rt);
	return n;
}

void peer_marker(char *buf, size_t n)
{
	struct pbx_ami_config ac = { .host = "127.0.0.1", .port = peer_port, .username = "pbxctl",
				     .secret = "secret", .timeout_ms = 2000 };
	char meta[64];
	pbx_ami *ami;
	pbx_error err;

	snprintf(meta, sizeof(meta), "pbxctl-meta-%s", slug);
	cr_assert(eq(int, pbx_ami_connect(&ac, &ami, &err), 0), "%s", err.message);
	if (pbx_ami_read_marker(ami, meta, buf, n, &err) < 0)
		snprintf(buf, n, "(none: %.60s)", err.message);
	pbx_ami_close(ami);
}

const char *conf_file(void)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s", path_in("pbxctl.conf"));
	f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "database:\n  url: \"%s\"\nrealtime:\n  socket: \"%s\"\n  user: \"%s\"\n"
		   "  password: \"%s\"\n  database: \"%s\"\nami:\n  port: %d\n  secret: secret\n"
		   "  timeout: 30\nasterisk:\n  config_dir: \"%s\"\n  voicemail_dir: \"%s\"\n"
		   "  backup_dir: \"%s\"\nsecrets:\n  key_file: \"%s\"\n",
		cfg.database_url, cfg.rt_socket, cfg.rt_user, cfg.rt_password, cfg.rt_database,
		peer_port, cfg.config_dir, cfg.voicemail_dir, cfg.backup_dir, cfg.key_file);
	fclose(f);
	return path;
}

bool wait_for_peer_log(const char *needle, int times)
{
	for (int i = 0; i < 100; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		char *log;
		bool found;

		nanosleep(&ts, NULL);
		log = testenv_read_file(path_in("log"));
		found = log && count_in(log, needle) >= times;
		free(log);
		if (found)
			return true;
	}
	return false;
}
