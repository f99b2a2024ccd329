/* SPDX-License-Identifier: MIT */
/*
 * The world of the `pbxctl me` tests: a PostgreSQL database of their own (the published
 * sealing key and the request queues are database-wide), an AMI peer that also plays
 * recorded events (--events), a published sealing key, a tenant with its emergency route,
 * a library context on it as the platform admin, and user alice (1000, voicemail, PIN
 * 4821) with an end_user login and that login's own configuration (no key, no AMI).
 */
#ifndef ME_ITEST_H
#define ME_ITEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "pbx/ami.h"
#include "pbx/config.h"
#include "pbx/pbx.h"
#include "peerproc.h"
#include "privtest.h"

extern struct privtest pt;
extern struct peerproc peer;
extern struct pbx_config cfg;
extern pbx_ctx *ctx;
/* the tenant, alice's AstDB family, her login, its config file, the peer's events file */
extern char slug[32], fam[64], login[48], eu_conf[320], events[320];

#define ALICE_FORWARD "SELECT coalesce(u.forward_to, 'none') FROM users u JOIN tenants t " \
	"ON t.id = u.tenant_id WHERE t.slug = $1 AND u.username = 'alice'"
#define AUDIT_ROWS "SELECT count(*)::text FROM audit_log WHERE tenant = $1"

void me_setup(void);
void me_teardown(void);

/* `pbxctl apply worker` on the privileged config in the background (with the spool). */
void start_worker(void);
void stop_worker(void);

/* alice and her end_user login; her AstDB keys written. */
void alice(void);
/* Policy "domestic", the tenant's default: +49/0 numbers allowed, international blocked. */
void domestic_policy(void);

/* One value of @query with $1 = the tenant (malloc'd, "" for NULL); equal to @want. */
char *sql(const char *query);
void expect_sql(const char *query, const char *want);
/* alice's AstDB key as a second AMI session sees it (malloc'd or NULL); write one. */
char *astdb(const char *key);
void astdb_put(const char *key, const char *value);

/* pbxctl -o json me A1 A2 A3 A4 as alice's login (NULL ends the arguments). */
int me(char **out, char **err, const char *a1, const char *a2, const char *a3, const char *a4);
/* @err is one line naming @field and holding @words. */
void expect_one_line(const char *err, const char *field, const char *words);

/* The peer plays the recorded UserEvent for alice with @setting and @value. */
void inject_event(const char *setting, const char *value);
/* Whether @query ($1 = the tenant) gives @want within @ms. */
bool eventually(const char *query, const char *want, int ms);

#endif
