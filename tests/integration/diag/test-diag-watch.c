/* SPDX-License-Identifier: MIT */
/*
 * diag watch against the AMI peer: recorded events injected into the peer reach the built
 * pbxctl as JSON Lines, filtered by tenant (another tenant's contact and user event never
 * show), a restarted Asterisk is reconnected to, and SIGTERM ends it with exit 0.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag-itest.h"
#include "roles-itest.h"
#include "testenv.h"

static struct diag_env env;
static char events[600], out_path[600];

static void setup(void)
{
	diag_env_setup(&env);
	diag_add_user(&env, "alice", 1);
}

static void teardown(void)
{
	diag_env_teardown(&env);
}

TestSuite(diag_watch, .init = setup, .fini = teardown, .timeout = 60);

/* A peer on @port (0: any) that takes events from events, replacing env.site.peer. */
static void restart_peer(int port)
{
	char p[16], old[300];
	const char *extra[] = { "--events", events, "--port", p, NULL };
	/* the first peer lives in the site's directory, which stays; a restarted one in its own */
	bool own_dir = strcmp(env.site.peer.dir, env.site.dir) != 0;

	snprintf(p, sizeof(p), "%d", port);
	snprintf(old, sizeof(old), "rm -rf %s", env.site.peer.dir);
	if (env.site.peer.pid > 0) {
		kill(env.site.peer.pid, SIGTERM);
		waitpid(env.site.peer.pid, NULL, 0);
		env.site.peer.pid = -1;
	}
	peer_start(&env.site.peer, NULL, extra);
	if (own_dir && system(old) != 0)
		cr_log_warn("%s failed", old);
	snprintf(p, sizeof(p), "%d", env.site.peer.port);
	setenv("PBXCTL_AMI_PORT", p, 1);
}

/* diag watch of @tenant (NULL: the default) as @login (NULL: the owner). */
static pid_t spawn_watch(const char *tenant, const char *login)
{
	static char url[1200];
	const char *bin = getenv("PBXCTL_BIN");
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		if (login) {
			snprintf(url, sizeof(url), "%s user=%s", getenv("PBXCTL_TEST_DATABASE_URL"),
				 login);
			setenv("PBXCTL_DATABASE_URL", url, 1);
		}
		execl(bin, "pbxctl", "-c", testenv_config_file(), "-o", "json", "diag", "watch",
		      tenant ? "--tenant" : (char *)NULL, tenant, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	if (f) {
		if (fread(buf, 1, (1 << 16) - 1, f) == 0)
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

/* Wait up to 10 s for @text in the watcher's output. */
static bool wait_for(const char *text)
{
	for (int i = 0; i < 200; i++) {
		char *s = slurp(out_path);
		bool found = strstr(s, text) != NULL;
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		free(s);
		if (found)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void inject(const char *text)
{
	/* until the peer took the previous file */
	for (int i = 0; i < 100 && access(events, F_OK) == 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	write_text(events, text);
}

Test(diag_watch, filters_by_tenant_reconnects_and_stops_on_sigterm)
{
	const char *id = diag_sip_username(&env, "alice", "phone 0");
	char ev[2048], *s;
	int status, port;
	pid_t pid;

	snprintf(events, sizeof(events), "%s/events", env.site.dir);
	snprintf(out_path, sizeof(out_path), "%s/watch.out", env.site.dir);
	restart_peer(0);
	port = env.site.peer.port;
	pid = spawn_watch(env.slug, NULL);
	/* the watcher is connected once the peer logged a Ping */
	for (int i = 0; i < 200 && peer_count(&env.site.peer, "Ping") == 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	/* as recorded in events-contact-status and userevent-astdb; other tenants' first */
	snprintf(ev, sizeof(ev),
		 "Event: ContactStatus\nPrivilege: system,all\nURI: sip:x@10.9.9.9:5060\n"
		 "ContactStatus: Removed\nAOR: %s-zzzzzzzzzzzz\nEndpointName: %s-zzzzzzzzzzzz\nRoundtripUsec: 0\n\n"
		 "Event: UserEvent\nPrivilege: user,all\nUserEvent: PbxctlSelfService\nTenant: %s-eu\n"
		 "Extension: 1000\nSetting: dnd\nValue: 1\n\n"
		 "Event: ContactStatus\nPrivilege: system,all\nURI: sip:%s@192.0.2.4:5060\n"
		 "ContactStatus: Removed\nAOR: %s\nEndpointName: %s\nRoundtripUsec: 0\n\n"
		 "Event: UserEvent\nPrivilege: user,all\nUserEvent: PbxctlSelfService\nTenant: %s\n"
		 "Extension: 1000\nSetting: forward\nValue: 1002\n\n",
		 env.slug, env.slug, env.slug, id, id, id, env.slug);
	inject(ev);
	cr_assert(wait_for("Setting=forward Value=1002"), "own user event not seen: %s", slurp(out_path));
	s = slurp(out_path);
	cr_assert(strstr(s, "{\"time\":") != NULL || strstr(s, "{\"time\": ") != NULL, "%s", s);
	cr_assert(strstr(s, "\"state\":\"Removed\"") != NULL, "%s", s);
	cr_assert(strstr(s, id) != NULL, "%s", s);
	cr_assert(strstr(s, "zzzzzzzzzzzz") == NULL, "another tenant's contact leaked: %s", s);
	cr_assert(strstr(s, "Setting=dnd") == NULL, "another tenant's user event leaked: %s", s);
	for (char *l = s; *l; l = strchr(l, '\n') + 1) {
		cr_assert(eq(chr, *l, '{'), "not JSON Lines: %s", s);
		if (!strchr(l, '\n'))
			break;
	}
	free(s);
	/* Asterisk restarts: the watcher comes back by itself */
	restart_peer(port);
	cr_assert(eq(int, env.site.peer.port, port));
	for (int i = 0; i < 300 && peer_count(&env.site.peer, "Ping") == 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	cr_assert(gt(int, peer_count(&env.site.peer, "Ping"), 0), "no reconnection");
	inject("Event: Reload\nPrivilege: system,all\nModule: pbx_config\nStatus: 0\n\n");
	cr_assert(wait_for("\"event\":\"Reload\""), "no event after the restart");
	kill(pid, SIGTERM);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, status, 0), "status %d", status);
}

/* A tenant admin's watch, without --tenant, is limited to its tenant: another tenant's
 * contact event (an AMI event, which row-level security does not filter) never shows. */
Test(diag_watch, a_tenant_admin_watches_only_its_tenant)
{
	struct world w;
	char ev[1024], *s;
	int status;
	pid_t pid;

	world_make(&w);
	snprintf(events, sizeof(events), "%s/events", env.site.dir);
	snprintf(out_path, sizeof(out_path), "%s/watch.out", env.site.dir);
	restart_peer(0);
	pid = spawn_watch(NULL, w.ta);
	for (int i = 0; i < 200 && peer_count(&env.site.peer, "Ping") == 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	snprintf(ev, sizeof(ev),
		 "Event: ContactStatus\nPrivilege: system,all\nURI: sip:%s-d@10.9.9.9:5060\n"
		 "ContactStatus: Removed\nAOR: %s-d\nEndpointName: %s-d\nRoundtripUsec: 0\n\n"
		 "Event: ContactStatus\nPrivilege: system,all\nURI: sip:%s-d@192.0.2.4:5060\n"
		 "ContactStatus: Removed\nAOR: %s-d\nEndpointName: %s-d\nRoundtripUsec: 0\n\n",
		 w.b, w.b, w.b, w.a, w.a, w.a);
	inject(ev);
	cr_assert(wait_for("192.0.2.4"), "own contact not seen: %s", slurp(out_path));
	s = slurp(out_path);
	cr_assert(strstr(s, w.b) == NULL && strstr(s, "10.9.9.9") == NULL,
		  "another tenant's contact leaked: %s", s);
	free(s);
	kill(pid, SIGTERM);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, status, 0), "status %d", status);
	world_drop(&w);
}

Test(diag_watch, refuses_an_unknown_field)
{
	char *out = NULL, *errs = NULL;

	cr_assert(eq(int, diag_run(&env, &out, &errs, "-f", "nope", "diag", "watch", NULL), 2));
	cr_assert(strstr(errs, "nope") != NULL, "%s", errs);
	free(out);
	free(errs);
}
