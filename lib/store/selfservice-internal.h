/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/store: what selfservice.c (one user's push, take and event) and
 * selfservice-reconcile.c (a tenant's reconcile in batches) share.
 */
#ifndef PBX_STORE_SELFSERVICE_INTERNAL_H
#define PBX_STORE_SELFSERVICE_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "pbx/ami.h"
#include "pbx/pbx.h"
#include "pbx/error.h"

/* One user's state as PostgreSQL has it. */
struct ss_user {
	char id[24], username[40], slug[32], ext[16], forward[32];
	long ext_min, ext_max;
	bool active, dnd, voicemail, pending;
	char *sealed;            /* vm_pin_verifier_sealed or NULL */
};

/* The keys of one family as AstDB has them; NULL = absent. */
struct ss_keys {
	char *dnd, *forward, *pin;
};

#define SS_COLUMNS \
	"u.id::text, u.username, t.slug, u.extension::text, " \
	"(u.status = 'active' AND t.status = 'active'), u.dnd, u.voicemail, u.astdb_pending, " \
	"coalesce(u.forward_to, ''), u.vm_pin_verifier_sealed, t.ext_min, t.ext_max " \
	"FROM users u JOIN tenants t ON t.id = u.tenant_id "

void ss_fill(const PGresult *res, int i, struct ss_user *u);
void ss_user_free(struct ss_user *u);
void ss_keys_free(struct ss_keys *k);

/* The AstDB family of extension @ext of tenant @slug: "pbxctl/<slug>/<ext>". */
void ss_family(const char *slug, const char *ext, char *buf, size_t n);

/*
 * After a failed DBDel of @fam/@key: 0 when the key is gone all the same (Asterisk answers
 * the same error when there was nothing to delete), else the error.
 */
int ss_db_del_gone_check(pbx_ami *ami, const char *fam, const char *key, pbx_error *err);

/* DBDel that accepts a key that is already gone. */
int ss_db_del_gone(pbx_ami *ami, const char *fam, const char *key, pbx_error *err);

/* Clear the pending marks of @users[0..@n) whose rows are still as they were read. */
int ss_clear_pending(PGconn *pg, const struct ss_user *const *users, size_t n, pbx_error *err);

/* Does AstDB hold what PostgreSQL wants for dnd and forward? */
bool ss_same_state(const struct ss_user *u, const struct ss_keys *k);

/*
 * Bring one active user's keys @k and PostgreSQL together, one action at a time: a phone's
 * change that validates is taken (audited from @source), else PostgreSQL's state is
 * written. *@what: 0 nothing, 1 pushed, 2 taken.
 */
int ss_reconcile_user(pbx_ctx *ctx, PGconn *pg, const struct ss_user *u,
		      const struct ss_keys *k, const char *source, int *what, pbx_error *err);

#endif
