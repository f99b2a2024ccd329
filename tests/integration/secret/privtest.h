/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up for the tests of the privileged side (sealed secrets, key rotation, the
 * apply queue): each test gets its own PostgreSQL database on the private server (the
 * published key and the queue are database-wide, so tests must not share them), a temp
 * dir, and two configurations: "priv" holds the private key (and, when a peer runs, the
 * AMI credentials); "op" holds neither, as a tenant administrator's machine would.
 */
#ifndef PBX_PRIVTEST_H
#define PBX_PRIVTEST_H

#include <libpq-fe.h>

#include "testenv.h"

struct privtest {
	struct testenv_site site;   /* the temp dir, and the AMI peer when asked for */
	char db[64];
	char url[1024];
	char priv_conf[256], op_conf[256];
	char key[256];          /* the privileged side's key file */
	char dialplan[512];     /* asterisk.config_dir */
	PGconn *pg;             /* on the test database, for checks in SQL */
};

/* A fresh database (migrated through `pbxctl db migrate`), testenv's site (with the AMI
 * peer when @peer: the privileged config names it, asterisk.config_dir is its dialplan
 * directory; else <dir>/dp) and both configs. */
void pt_setup(struct privtest *pt, bool peer);
/* The same, with more amipeer arguments (NULL-terminated, may be NULL). */
void pt_setup_peer(struct privtest *pt, bool peer, const char *const *peer_extra);
void pt_teardown(struct privtest *pt);

/* Path "<dir>/<name>" (one of four rotating static buffers). */
const char *pt_path(const struct privtest *pt, const char *name);

/* One value of a one-row query with text parameters (NULL-terminated); malloc'd, "" when
 * NULL, fails the test on error. */
char *pt_sql(struct privtest *pt, const char *sql, ...) __attribute__((sentinel));

/* The value of "key": "..." in a JSON text (first occurrence), malloc'd, or NULL. */
char *pt_json_str(const char *json, const char *key);

#endif
