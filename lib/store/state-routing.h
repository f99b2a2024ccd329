/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: the routing part of apply's desired-state snapshot (DIDs, trunks,
 * policies and their rules, policy assignments), read in the same REPEATABLE READ snapshot
 * as the tenants and users by pbx_state_load. Strings point into the query results the
 * struct keeps, and live until pbx_state_free; opened trunk secrets are wiped then.
 */
#ifndef PBX_STORE_STATE_ROUTING_H
#define PBX_STORE_STATE_ROUTING_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pbx/policy.h"
#include "state.h"

struct pbx_state_did {
	const char *number, *label, *destination;   /* destination NULL: none */
	bool enabled;
};

struct pbx_state_policy {
	long id;
	const char *name;
	struct pbx_policy_rule *rules;
	size_t n_rules;
};

struct pbx_state_assign {
	const char *username, *policy;
};

/* One tenant in the scope, in the order of pbx_state.tenants. */
struct pbx_state_routing_tenant {
	const char *slug;
	const char *default_inbound;   /* NULL: none */
	const char *default_policy;    /* policy name, NULL: none */
	const char *emergency_trunk;   /* trunk name, NULL: none */
	const char *emergency_callerid; /* NULL: none */
	struct pbx_state_did *dids;
	size_t n_dids;
	struct pbx_state_policy *policies;
	size_t n_policies;
	struct pbx_state_assign *assign;   /* users (not deleted) with their own policy */
	size_t n_assign;
};

struct pbx_state_trunk {
	const char *name;
	const char *owner;             /* tenant slug, NULL: global */
	const char *host, *transport, *username, *callerid;
	char *password;                /* opened secret (registration, trunks to sync) */
	char endpoint[48];
	int port;
	bool registration, enabled, force_callerid;
	bool sync;                     /* its rows belong to this apply's scope */
	const char **codecs, **match;
	size_t n_codecs, n_match;
};

struct pbx_state_routing {
	const char **slugs;            /* every tenant, whatever the scope (the router) */
	size_t n_slugs;
	struct pbx_state_routing_tenant *tenants;
	size_t n_tenants;
	struct pbx_state_trunk *trunks; /* the scope's own and global ones, and any a rule names */
	size_t n_trunks;
	/* storage */
	PGresult *res[8];
	char **bufs;
	size_t n_bufs;
};

#endif
