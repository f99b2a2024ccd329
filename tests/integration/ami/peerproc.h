/* SPDX-License-Identifier: MIT */
/*
 * Starting and stopping amipeer (path in $PBXCTL_AMIPEER) for integration tests: each peer
 * gets a private directory with its port file, action log, control file, dialplan directory
 * and contacts file, and listens on an ephemeral port of 127.0.0.1.
 */
#ifndef TEST_AMI_PEERPROC_H
#define TEST_AMI_PEERPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "pbx/ami.h"

struct peerproc {
	pid_t pid;
	int port;
	char dir[256];
	char log[512], control[512], dialplan[512], contacts[512], regs[512];
};

/*
 * Start amipeer with --user pbxctl --secret secret and the private files, plus @extra
 * (NULL-terminated, may be NULL). @dialplan_fixture (may be NULL) names a directory of
 * tests/fixtures/ami/dialplan whose files are copied into the dialplan directory first.
 * Fails the test when amipeer is missing or does not start.
 */
void peer_start(struct peerproc *pp, const char *dialplan_fixture, const char *const *extra);
/* The same with the peer's files in the existing directory @dir (which peer_stop leaves). */
void peer_start_in(struct peerproc *pp, const char *dir, const char *dialplan_fixture,
		   const char *const *extra);
void peer_stop(struct peerproc *pp);

/* Copy tests/fixtures/ami/dialplan/@fixture/@file over the peer's dialplan/@file. */
void peer_use_file(struct peerproc *pp, const char *fixture, const char *file);
/* Replace the control file (switches, one per line). */
void peer_control(struct peerproc *pp, const char *text);
/* Write @path with @text. */
void write_text(const char *path, const char *text);
/* Lines of the action log starting with "@action" followed by a space or the line end. */
int peer_count(const struct peerproc *pp, const char *action);

/* A client config for this peer. */
struct pbx_ami_config peer_config(const struct peerproc *pp, int timeout_ms);

/* The first "Event: UserEvent" of recording @fixture (e.g. "userevent-from-dialplan.recv")
 * as a message, its Tenant header replaced by @tenant; free with peer_event_free. */
struct pbx_ami_msg peer_recorded_event(const char *fixture, const char *tenant);
void peer_event_free(struct pbx_ami_msg *m);

/* tests/fixtures/ami/@name, whole (malloc'd). */
char *read_fixture(const char *name, size_t *ret_len);
long long mono_ms(void);

#endif
