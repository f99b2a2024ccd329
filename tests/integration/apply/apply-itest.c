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
static pid_t peer;
int peer_port;

char *path_in(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

void start_peer(void)
{
	char port[16] = "";
	FILE *f;

	unlink(path_in("port"));
	peer = fork();
	cr_assert(ge(int, peer, 0));
	if (peer == 0) {
		execl(getenv("PBXCTL_AMIPEER"), "amipeer", "--port", "0", "--port-file",
		      path_in("port"), "--user", "pbxctl", "--secret", "s3cret", "--dialplan-dir",
		      path_in("dp"), "--log", path_in("peer.log"), "--control", path_in("control"),
		      "--exit-with-parent", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port[0]; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if ((f = fopen(path_in("port"), "r"))) {
			if (!fgets(port, sizeof(port), f))
				port[0] = '\0';
			fclose(f);
		}
	}
	cr_assert(not(eq(str, port, "")), "amipeer did not start (PBXCTL_AMIPEER=%s)",
		  getenv("PBXCTL_AMIPEER"));
	peer_port = atoi(port);
}

/* The peer re-reads its control file before every action; replace it atomically. */
void control(const char *text)
{
	FILE *f = fopen(path_in("control.tmp"), "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert(eq(int, rename(path_in("control.tmp"), path_in("control")), 0));
}

void setup_peer_ctx(void)
{
	pbx_error err = PBX_ERROR_INIT;

	snprintf(dir, sizeof(dir), "/tmp/pbxctl-apply-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	mkdir(path_in("dp"), 0755);
	control("");
	start_peer();
	ctx = testenv_ctx(&cfg);
	free(cfg.config_dir);
	cfg.config_dir = strdup(path_in("dp"));
	free(cfg.voicemail_dir);
	cfg.voicemail_dir = strdup(path_in("vm"));
	free(cfg.backup_dir);
	cfg.backup_dir = strdup(path_in("backup"));
	free(cfg.key_file);
	cfg.key_file = strdup(path_in("key"));
	free(cfg.ami_secret);
	cfg.ami_secret = strdup("s3cret");
	cfg.ami_port = peer_port;
	cfg.ami_timeout_ms = 2000;
	cr_assert(eq(int, pbx_secret_key_init(cfg.key_file, &err), 0), "%s", err.message);
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
	char cmd[128];

	if (pbx_tenant_update(ctx, slug, &t, &rows, NULL, &err) == 0)
		pbx_rows_free(&rows);
	if (pbx_trunk_delete(ctx, em_trunk, &rows, &err) == 0)
		pbx_trunk_rows_free(&rows);
	testenv_free(ctx, &cfg);
	if (peer > 0) {
		kill(peer, SIGTERM);
		waitpid(peer, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
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

char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
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
				     .secret = "s3cret", .timeout_ms = 2000 };
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
		   "  password: \"%s\"\n  database: \"%s\"\nami:\n  port: %d\n  secret: s3cret\n"
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
		log = read_all(path_in("peer.log"));
		found = log && count_in(log, needle) >= times;
		free(log);
		if (found)
			return true;
	}
	return false;
}
