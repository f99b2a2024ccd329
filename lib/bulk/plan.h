/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/bulk: the plan of an import, what plan-users.c computes from the parsed file and the
 * database state (which object to create, update, restore or delete, with the final value
 * of every column, extensions allocated), and what exec-users.c writes from it.
 */
#ifndef PBX_BULK_PLAN_H
#define PBX_BULK_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "bulk-internal.h"
#include "bulk-store.h"

enum bulk_op { OP_NONE, OP_CREATE, OP_UPDATE, OP_RESTORE, OP_DELETE };

/* Final values are indexed by the entity schema's field index; NULL = null. */
struct plan_tenant {
	size_t fi;               /* index in the file */
	int row;                 /* row of the state, -1 when new */
	char id[24];             /* database id (set by exec for a new tenant) */
	const char *slug;
	const char **v;          /* final values, pbx_schema_tenant order */
	long ext_min, ext_max, ext_next;
	enum bulk_op op;
	bool next_moved;         /* ext_next differs, nothing else */
	const char *changed;     /* "name, status" for an update */
};

struct plan_user {
	size_t pt;               /* index of its plan_tenant */
	size_t ui;               /* index in the file tenant's users, SIZE_MAX when not listed */
	int row;                 /* row of the state, -1 when new */
	char id[24];             /* database id (drawn by exec for a new user) */
	const char **v;          /* final values, pbx_schema_user order */
	const char *pin_hash;    /* final stored hash (NULL = none) */
	const char *pin_sealed;  /* a changed PIN's sealed dialplan verifier (NULL = none) */
	enum bulk_op op;
	bool auto_ext;           /* extension to allocate */
	bool pin_changed;
	const char *changed;
};

struct plan_device {
	size_t pu;               /* index of its plan_user */
	size_t di;               /* index in the file user's devices, SIZE_MAX when not listed */
	int row;                 /* row of the state, -1 when new */
	const char **v;          /* final values, pbx_schema_device order */
	enum bulk_op op;
	const char *changed;
	char *sip_username;      /* new devices, set by import */
	char *sealed;
	char *secret;            /* plaintext, wiped after use */
};

/* A DID, trunk or policy of the plan. */
struct plan_routing {
	size_t pt;               /* its plan tenant; SIZE_MAX for a global trunk */
	size_t fi;               /* index in its list in the file, SIZE_MAX when not listed */
	int row;                 /* row of its state result, -1 when new */
	char id[24];             /* database id (set by exec when new) */
	const char **v;          /* final values, schema order */
	enum bulk_op op;
	const char *changed;
	const char *secret;      /* trunk: a secret to seal */
	char *sealed;            /* trunk: the final sealed secret when it changes */
	bool rules;              /* policy: its rules are written */
};

enum { ROUTING_DID, ROUTING_TRUNK, ROUTING_POLICY, ROUTING_N };

struct bulk_plan {
	struct bulk_arena arena;
	const struct pbx_bulk_doc *doc;
	struct pbx_store_bulk_state st;
	struct plan_tenant *tenants;
	size_t n_tenants;
	struct plan_user *users;
	size_t n_users, cap_users;
	struct plan_device *devices;
	size_t n_devices, cap_devices;
	/* column numbers in the state results, by schema field index */
	int tcol[32], ucol[32], dcol[32];
	int t_min, t_max, t_next, u_tenant, u_pin, d_user;
	size_t counts[3][5];     /* [tenant, user, device][op] */
	struct pbx_store_bulk_routing xst;
	struct plan_routing *routing[ROUTING_N];
	size_t n_routing[ROUTING_N], cap_routing[ROUTING_N];
	int xcol[ROUTING_N][32];
	bool *xseen[ROUTING_N];  /* state rows the file lists */
	struct bulk_map policy_ids;   /* "<plan tenant>\x1f<name>" -> id (arena string) */
	size_t xcounts[ROUTING_N][5]; /* [did, trunk, policy][op] */
	struct pbx_store_bulk_audit *audit;   /* audit rows of what exec creates */
};

/* The index of @key in the entity schemas (a programming error when missing). */
int bulk_field(const struct pbx_schema *s, const char *key);

/*
 * Compute the plan of @doc against the state already in @plan->st (loaded by the caller).
 * Problems go to @rep with their position in the file. Returns 0, or PBX_ERROR when out of
 * memory; problems alone do not fail it.
 */
int bulk_plan_build(struct bulk_plan *plan, const struct pbx_bulk_doc *doc, bool prune,
		    struct bulk_report *rep);

/*
 * The sealed *98 verifier (pbx_secret_pin_verifier, sealed to the published key) of every
 * PIN the plan changes, as `user update --pin` makes it; written by exec with the users.
 * Without any sealing key the PINs are still saved, with a warning, as there.
 */
int bulk_plan_pin_verifiers(struct bulk_plan *plan, pbx_ctx *ctx, pbx_error *err);

/*
 * PINs of the file: check them against the final extensions, keep a stored PIN the file
 * repeats (argon2id verify), hash new ones; and refuse a move onto an extension equal to
 * the user's stored PIN, as `user update` does. Problems go to @rep.
 */
int bulk_plan_pins(struct bulk_plan *plan, struct bulk_report *rep, pbx_error *err);

/* Helpers plan-users.c shares with plan-routing.c and the files of each routing object. */
void bulk_columns(const PGresult *res, const struct pbx_schema *s, int *cols);
const char **bulk_finals(struct bulk_plan *p, const struct bulk_obj *o, const PGresult *res,
			 int row, const int *cols, const char *const *defaults);
/* The export keys (but those in the comma-separated @skip) whose final value differs. */
const char *bulk_diff(struct bulk_plan *p, const struct pbx_schema *s, const char **v,
		      const PGresult *res, int row, const int *cols, const char *skip);
const char *bulk_key2(struct bulk_plan *p, const char *a, const char *b);
void *bulk_push(void **vec, size_t *n, size_t *cap, size_t size);

/*
 * The plan of the routing objects (DIDs, trunks and policies), and the policies users and
 * tenants name (plan-routing.c), against p->xst. A trunk secret the file repeats
 * is compared with the stored one, opened with the key of @ctx. Returns 0 or PBX_ERROR;
 * problems go to @rep.
 */
int bulk_plan_routing(struct bulk_plan *p, pbx_ctx *ctx, bool prune, struct bulk_report *rep,
		      pbx_error *err);

/* What plan-routing.c shares with plan-trunks.c, plan-policies.c and plan-dids.c. */
/* A new plan_routing of @kind (ROUTING_*) in the plan, or NULL when out of memory. */
struct plan_routing *bulk_xadd(struct bulk_plan *p, int kind, size_t pt, size_t fi, int row);
/* The plan tenant of tenant id @id, or SIZE_MAX. */
size_t bulk_xtenant(const struct bulk_plan *p, const char *id);
/* A problem at @key (NULL: the object) of listed plan_routing @x of @kind. */
void bulk_xproblem(struct bulk_report *rep, const struct bulk_plan *p, int kind,
		   const struct plan_routing *x, const char *key, const char *msg);
/* Mark state row @row of @kind as listed in the file. */
void bulk_xmentioned(struct bulk_plan *p, int kind, int row);
/* The final value of @key of @x of @kind. */
const char *bulk_xval(const struct plan_routing *x, int kind, const char *key);

/* Each object's plan, matched against the state rows in @rows (plan-trunks.c, ...). */
int bulk_plan_trunk(struct bulk_plan *p, pbx_ctx *ctx, size_t pt, size_t fi,
		    const struct bulk_trunk *k, struct bulk_map *rows, struct bulk_report *rep,
		    pbx_error *err);
int bulk_plan_policy(struct bulk_plan *p, size_t pt, size_t fi, const struct bulk_policy *fp,
		     struct bulk_map *rows, pbx_error *err);
int bulk_plan_did(struct bulk_plan *p, size_t pt, size_t fi, const struct bulk_did *fd,
		  struct bulk_map *rows, pbx_error *err);
/* Whether plan tenant @pt will have policy @name (plan-policies.c). */
bool bulk_plan_has_policy(const struct bulk_plan *p, size_t pt, const char *name);
/* Whether a trunk @name exists in the final state for plan tenant @pt (its own or global). */
bool bulk_plan_has_trunk(const struct bulk_plan *p, size_t pt, const char *name);
/* A DID's destination must name what its tenant will have (plan-dids.c). */
int bulk_plan_destinations(struct bulk_plan *p, struct bulk_report *rep, pbx_error *err);

/* Write them (exec-routing.c): before users (trunks, policies), after (the rest). */
int bulk_exec_routing_before(struct bulk_plan *p, PGconn *pg, pbx_error *err);
int bulk_exec_routing_after(struct bulk_plan *p, PGconn *pg, pbx_error *err);
/* The id of policy @name of plan tenant @pt, after bulk_exec_routing_before; NULL if none. */
const char *bulk_policy_id(struct bulk_plan *p, size_t pt, const char *name);

/* What exec-routing.c shares with exec-trunks.c, exec-policies.c and exec-dids.c. */
/* The final value of @key of @x, whose schema is @s. */
const char *bulk_xget(const struct plan_routing *x, const struct pbx_schema *s, const char *key);
/* The id of plan tenant @pt, NULL for SIZE_MAX (global). */
const char *bulk_xtenant_id(const struct bulk_plan *p, size_t pt);
/* Each object's writes (exec-trunks.c, exec-policies.c, exec-dids.c). */
int bulk_exec_trunks(struct bulk_plan *p, PGconn *pg, pbx_error *err);
int bulk_exec_policies(struct bulk_plan *p, PGconn *pg, pbx_error *err);
/* The ids of every policy of the file's tenants, for the users' policy_id. */
int bulk_exec_policy_ids(struct bulk_plan *p, PGconn *pg, pbx_error *err);
int bulk_exec_dids(struct bulk_plan *p, PGconn *pg, pbx_error *err);

/* Frees everything, wiping plaintext secrets; the state results are cleared too. */
void bulk_plan_free(struct bulk_plan *plan);

/* The YAML path of user @u of the plan (and of its device @di unless SIZE_MAX). */
void bulk_plan_path(char *buf, size_t n, const struct bulk_plan *p, const struct plan_user *u,
		    size_t di, const char *key);

/* A state cell: the value of column @col of @row, NULL when SQL null. */
const char *bulk_cell(const PGresult *res, int row, int col);

/* Write the plan (exec-users.c); progress through @o. */
int bulk_exec(struct bulk_plan *plan, PGconn *pg, const struct pbx_bulk_import_opts *o,
	      pbx_error *err);

#endif
