/* SPDX-License-Identifier: MIT */
/*
 * amipeer as a child process of an integration test (see peerproc.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peerproc.h"

long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *read_fixture(const char *name, size_t *ret_len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
	f = fopen(path, "rb");
	cr_assert(f, "fixture %s is missing", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (ret_len)
		*ret_len = (size_t)n;
	return buf;
}

void write_text(const char *path, const char *text)
{
	char tmp[600];
	FILE *f;

	/* Renamed into place, so the peer never reads half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	cr_assert(f, "cannot write %s", tmp);
	cr_assert(fputs(text, f) >= 0);
	cr_assert(fclose(f) == 0);
	cr_assert(rename(tmp, path) == 0);
}

void peer_use_file(struct peerproc *pp, const char *fixture, const char *file)
{
	char src[512], dst[1024], *text;

	snprintf(src, sizeof(src), "dialplan/%s/%s", fixture, file);
	text = read_fixture(src, NULL);
	snprintf(dst, sizeof(dst), "%s/%s", pp->dialplan, file);
	write_text(dst, text);
	free(text);
}

void peer_control(struct peerproc *pp, const char *text)
{
	write_text(pp->control, text);
}

static void copy_dialplan_fixture(struct peerproc *pp, const char *fixture)
{
	static const char *const files[] = { "acme.conf", "globex.conf", "extensions.conf" };
	char path[1024];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/dialplan/%s/%s", FIXTURES_DIR, fixture, files[i]);
		if (access(path, R_OK) == 0)
			peer_use_file(pp, fixture, files[i]);
	}
}

void peer_start(struct peerproc *pp, const char *dialplan_fixture, const char *const *extra)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "/tmp/pbxctl-amipeer-XXXXXX");
	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	peer_start_in(pp, dir, dialplan_fixture, extra);
}

void peer_start_in(struct peerproc *pp, const char *dir, const char *dialplan_fixture,
		   const char *const *extra)
{
	const char *exe = getenv("PBXCTL_AMIPEER");
	char portfile[600];
	const char *argv[64];
	size_t n = 0;
	long long until;
	FILE *f;

	cr_assert(exe && *exe, "PBXCTL_AMIPEER is not set: run the tests through meson");
	cr_assert(access(exe, X_OK) == 0, "amipeer %s is not executable", exe);
	*pp = (struct peerproc){ .pid = -1 };
	snprintf(pp->dir, sizeof(pp->dir), "%s", dir);
	snprintf(pp->log, sizeof(pp->log), "%s/log", pp->dir);
	snprintf(pp->control, sizeof(pp->control), "%s/control", pp->dir);
	snprintf(pp->dialplan, sizeof(pp->dialplan), "%s/dialplan", pp->dir);
	snprintf(pp->contacts, sizeof(pp->contacts), "%s/contacts", pp->dir);
	snprintf(pp->regs, sizeof(pp->regs), "%s/registrations", pp->dir);
	snprintf(portfile, sizeof(portfile), "%s/port", pp->dir);
	cr_assert(mkdir(pp->dialplan, 0700) == 0);
	write_text(pp->control, "");
	write_text(pp->contacts, "");
	write_text(pp->regs, "");
	if (dialplan_fixture)
		copy_dialplan_fixture(pp, dialplan_fixture);

	argv[n++] = exe;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--user";
	argv[n++] = "pbxctl";
	argv[n++] = "--secret";
	argv[n++] = "secret";
	argv[n++] = "--log";
	argv[n++] = pp->log;
	argv[n++] = "--control";
	argv[n++] = pp->control;
	argv[n++] = "--dialplan-dir";
	argv[n++] = pp->dialplan;
	argv[n++] = "--contacts";
	argv[n++] = pp->contacts;
	argv[n++] = "--registrations";
	argv[n++] = pp->regs;
	argv[n++] = "--exit-with-parent";
	for (size_t i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	pp->pid = fork();
	cr_assert(pp->pid >= 0);
	if (pp->pid == 0) {
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	until = mono_ms() + 10000;
	while (mono_ms() < until) {
		int status;

		f = fopen(portfile, "r");
		if (f) {
			int ok = fscanf(f, "%d", &pp->port);

			fclose(f);
			if (ok == 1 && pp->port > 0)
				return;
		}
		cr_assert(waitpid(pp->pid, &status, WNOHANG) == 0, "amipeer exited at start");
		usleep(10000);
	}
	cr_assert_fail("amipeer did not write its port within 10 s");
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void peer_stop(struct peerproc *pp)
{
	if (pp->pid > 0) {
		kill(pp->pid, SIGTERM);
		waitpid(pp->pid, NULL, 0);
		pp->pid = -1;
	}
	if (pp->dir[0] && strncmp(pp->dir, "/tmp/pbxctl-amipeer-", 20) == 0)
		nftw(pp->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	pp->dir[0] = '\0';
}

int peer_count(const struct peerproc *pp, const char *action)
{
	FILE *f = fopen(pp->log, "r");
	size_t n = strlen(action), cap = 0;
	char *line = NULL;
	int count = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) >= 0)
		if (strncmp(line, action, n) == 0 && (line[n] == ' ' || line[n] == '\n'))
			count++;
	free(line);
	fclose(f);
	return count;
}

struct pbx_ami_config peer_config(const struct peerproc *pp, int timeout_ms)
{
	return (struct pbx_ami_config){
		.host = "127.0.0.1", .port = pp->port, .username = "pbxctl", .secret = "secret",
		.timeout_ms = timeout_ms,
	};
}

struct pbx_ami_msg peer_recorded_event(const char *fixture, const char *tenant)
{
	size_t len, n = 0;
	char *text = read_fixture(fixture, &len);
	char *ev = strstr(text, "Event: UserEvent\r\n");
	struct pbx_ami_header *h = calloc(64, sizeof(*h));

	cr_assert_not_null(ev);
	for (char *line = ev; *line && strncmp(line, "\r\n", 2); ) {
		char *eol = strstr(line, "\r\n"), *colon = strchr(line, ':');

		*eol = '\0';
		*colon = '\0';
		h[n].key = strdup(line);
		h[n].value = strdup(!strcmp(line, "Tenant") ? tenant
				    : colon[1] == ' ' ? colon + 2 : colon + 1);
		n++;
		line = eol + 2;
	}
	free(text);
	return (struct pbx_ami_msg){ .headers = h, .n_headers = n };
}

void peer_event_free(struct pbx_ami_msg *m)
{
	for (size_t i = 0; i < m->n_headers; i++) {
		free(m->headers[i].key);
		free(m->headers[i].value);
	}
	free(m->headers);
}
