/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: the desired state that apply generates artifacts from, read from
 * PostgreSQL in one consistent snapshot, SIP secrets opened with the sealing key.
 */
#ifndef PBX_STORE_STATE_H
#define PBX_STORE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/pbx.h"

struct pbx_state_device {
	char *endpoint;        /* SIP username == endpoint id */
	char *label;
	char *password;        /* opened secret; wiped by pbx_state_free */
	char *transport;
	char **codecs;
	size_t n_codecs;
	bool force_rport, rewrite_contact, rtp_symmetric, direct_media;
};

struct pbx_state_user {
	char *username, *name, *extension, *email, *forward, *callerid;
	bool active, voicemail, dnd;
	struct pbx_state_device *devices;   /* enabled devices only */
	size_t n_devices;
};

struct pbx_state_tenant {
	long id;
	long long gen;                      /* its change generation (apply_changes) */
	pbx_error *problem;                 /* its data cannot be used (a secret fails to
					       open); NULL when fine */
	char *slug, *name;
	bool suspended;
	struct pbx_state_user *users;       /* not deleted; ordered by extension */
	size_t n_users;
};

struct pbx_state_routing;          /* state-routing.h */
struct pbx_state_routing_tenant;

struct pbx_state {
	struct pbx_state_tenant *tenants;   /* ordered by slug */
	size_t n_tenants;
	struct pbx_state_routing *routing;  /* DIDs, trunks, policies */
	long long shared_gen;               /* generation of what tenants share (tenant 0) */
};

/*
 * Read every tenant (or only @tenant) with its users and their enabled devices. Secrets
 * are opened only when @open_secrets. PBX_ENOTFOUND when @tenant does not exist. A sealed
 * secret that fails authentication does not fail the load: it is the tenant's problem
 * (naming the device), so the other tenants can still be applied.
 */
int pbx_state_load(pbx_ctx *ctx, const char *tenant, bool open_secrets, struct pbx_state **ret,
		   pbx_error *err);
void pbx_state_free(struct pbx_state *state);

/* The routing part, inside the snapshot's transaction (lib/store/state-routing.c). */
int pbx_state_routing_load(pbx_ctx *ctx, PGconn *pg, const char *tenant, bool open_secrets,
			   struct pbx_state *s, pbx_error *err);
void pbx_state_routing_free(struct pbx_state_routing *routing);

/* What state-routing.c shares with state-dids.c, state-policies.c and state-trunks.c. */
/* The value of @row, @col of @res; NULL when SQL null. */
const char *pbx_state_val(const PGresult *res, int row, int col);
/* Split a copy of @list at ',' into a new array kept in @x; NULL on no memory. */
const char **pbx_state_split(struct pbx_state_routing *x, const char *list, size_t *n);
/* The tenant @slug of @x, NULL when out of the scope. */
struct pbx_state_routing_tenant *pbx_state_find(struct pbx_state_routing *x, const char *slug);
/* Each object from its query result (slug first): -1 on no memory (state-dids.c, ...). */
int pbx_state_fill_dids(struct pbx_state_routing *x, PGresult *res);
int pbx_state_fill_policies(struct pbx_state_routing *x, PGresult *res, PGresult *rules);
/* The users (not deleted) with their own policy. */
int pbx_state_fill_assign(struct pbx_state_routing *x, PGresult *res);
/* 0, or a code when an out of memory or a secret fails to open. */
int pbx_state_fill_trunks(pbx_ctx *ctx, struct pbx_state_routing *x, PGresult *res,
			  const char *scope, bool open_secrets, pbx_error *err);

#endif
