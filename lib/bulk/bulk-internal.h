/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/bulk: the parsed file (tenants holding users holding devices, each value
 * stored under its schema field with its position), an arena that owns every string of
 * it, a small string map, the problem reporter that caps and positions problems, and the
 * functions the files of the module share.
 */
#ifndef PBX_BULK_INTERNAL_H
#define PBX_BULK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbx/bulk.h"
#include "pbx/error.h"
#include "pbx/schema.h"

/* ---- arena: many small allocations freed at once ------------------------------------ */

struct bulk_arena {
	struct bulk_block *head;
};

void *bulk_alloc(struct bulk_arena *a, size_t n);          /* zeroed; NULL when out of memory */
char *bulk_strndup(struct bulk_arena *a, const char *s, size_t n);
char *bulk_strdup(struct bulk_arena *a, const char *s);
char *bulk_printf(struct bulk_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bulk_arena_free(struct bulk_arena *a);

/* ---- string map: key → size_t, keys owned by the caller ----------------------------- */

struct bulk_map {
	const char **keys;
	size_t *vals;
	size_t n, cap;
};

/* Returns 0, or -1 when out of memory. An existing key keeps its first value. */
int bulk_map_put(struct bulk_map *m, const char *key, size_t val);
/* The value of @key, or SIZE_MAX. */
size_t bulk_map_get(const struct bulk_map *m, const char *key);
void bulk_map_free(struct bulk_map *m);

/* ---- the parsed file ---------------------------------------------------------------- */

struct bulk_pos {
	uint32_t line, col;      /* 1-based; 0 when unknown */
};

/* One mapping of the file: a tenant, a user or a device. */
struct bulk_obj {
	const struct pbx_schema *schema;
	struct bulk_pos pos;     /* of the mapping */
	uint32_t set;            /* bit i: schema field i was given */
	uint32_t bad;            /* bit i: given, but refused while reading (reported) */
	bool broken;             /* not a mapping at all (reported) */
	const char **val;        /* [n_fields], normalised; NULL = null */
	struct bulk_pos *vpos;   /* [n_fields] */
};

struct bulk_device {
	struct bulk_obj o;
};

struct bulk_user {
	struct bulk_obj o;
	const char *pin;         /* write-only; NULL when not given, "" clears */
	struct bulk_pos pin_pos;
	struct bulk_device *devices;
	size_t n_devices, cap_devices;
	bool devices_given;
};

/* A phone number of a tenant. */
struct bulk_did {
	struct bulk_obj o;
};

/* A trunk: a tenant's own, or global (listed at the top of the file). */
struct bulk_trunk {
	struct bulk_obj o;
	const char *secret;      /* write-only registration secret; NULL when not given */
	struct bulk_pos secret_pos;
};

/* One rule of an outbound policy (pbx_schema_policy_rule). */
struct bulk_rule {
	struct bulk_obj o;
};

struct bulk_policy {
	struct bulk_obj o;
	struct bulk_rule *rules;
	size_t n_rules, cap_rules;
	bool rules_given;
	struct bulk_pos rules_pos;
};

struct bulk_tenant {
	struct bulk_obj o;
	struct bulk_user *users;
	size_t n_users, cap_users;
	bool users_given;
	struct bulk_did *dids;
	size_t n_dids, cap_dids;
	bool dids_given;
	struct bulk_trunk *trunks;
	size_t n_trunks, cap_trunks;
	bool trunks_given;
	struct bulk_policy *policies;
	size_t n_policies, cap_policies;
	bool policies_given;
	int ext_min, ext_max;    /* from "extensions" when given and valid, else 0 */
};

struct pbx_bulk_doc {
	struct bulk_arena arena;
	const char *name;        /* for messages */
	struct bulk_tenant *tenants;
	size_t n_tenants, cap_tenants;
	struct bulk_trunk *trunks;   /* global trunks */
	size_t n_trunks, cap_trunks;
	size_t n_users, n_devices, n_dids, n_policies, n_all_trunks;
};

static inline bool bulk_has(const struct bulk_obj *o, int field)
{
	return field >= 0 && (o->set & (1u << field));
}

/* The value of field @key, or NULL (null or not given). */
const char *bulk_get(const struct bulk_obj *o, const char *key);
bool bulk_given(const struct bulk_obj *o, const char *key);
struct bulk_pos bulk_vpos(const struct bulk_obj *o, const char *key);

/* ---- problems ------------------------------------------------------------------------ */

/* Collects problems into a pbx_diag, at most PBX_BULK_MAX_PROBLEMS of them. */
struct bulk_report {
	pbx_diag *diag;
	const char *file;
	size_t dropped;          /* problems beyond the cap */
	bool force;              /* add even beyond the cap (the line that stops reading) */
	bool oom;
};

/*
 * Add a problem at @pos: object = @path (may be NULL), message from @fmt. Returns the
 * code. Once the cap is reached further problems are only counted.
 */
int bulk_problem(struct bulk_report *rep, int code, struct bulk_pos pos, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Add @e (from a lib field check) at @pos, with @path as its object. */
int bulk_problem_err(struct bulk_report *rep, struct bulk_pos pos, const char *path,
		     const pbx_error *e);
bool bulk_full(const struct bulk_report *rep);
/* Close the report: one more line when problems were dropped. */
void bulk_report_end(struct bulk_report *rep);

/*
 * The YAML path of a field: "tenants[1].users[4].devices[0].label". @ui and @di are
 * SIZE_MAX when the path stops above them; @key may be NULL.
 */
void bulk_path(char *buf, size_t n, size_t ti, size_t ui, size_t di, const char *key);

/* ---- shared between parse.c and check-users.c ------------------------------------------- */

/*
 * Field checks that need no database, and duplicates (check-users.c, check-routing.c).
 */
void bulk_check_doc(struct pbx_bulk_doc *doc, struct bulk_report *rep);
void bulk_check_routing(struct pbx_bulk_doc *doc, struct bulk_report *rep);

/* ---- the routing checks: check-routing.c and one file an object ------------------- */

/* One routing object being checked, and where it is in the file. */
struct bulk_ex {
	struct bulk_report *rep;
	struct bulk_obj *o;
	char at[96];             /* "tenants[0].dids[1]" */
};

/* Helpers of check-routing.c: the path of @key, problems at it, its value, common rules. */
void bulk_ex_where(const struct bulk_ex *x, const char *key, char *buf, size_t n);
void bulk_ex_problem(const struct bulk_ex *x, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void bulk_ex_lib_problem(const struct bulk_ex *x, const char *key, const pbx_error *e);
const char *bulk_ex_value(const struct bulk_ex *x, const char *key);
void bulk_ex_required(const struct bulk_ex *x, const char *key, const char *what);
void bulk_ex_empty_is_null(const struct bulk_ex *x, const char *key);
void bulk_ex_one_of(const struct bulk_ex *x, const char *key, const char *const *words,
		    const char *say);
void bulk_ex_text(const struct bulk_ex *x, const char *key, size_t max);
/* The "tenant" key of an object listed under a tenant: when given, that tenant's slug. */
void bulk_ex_owner(const struct bulk_ex *x, const char *slug);

/* One object's checks (check-dids.c, check-trunks.c, check-policies.c). */
void bulk_check_did(struct bulk_ex *x, const char *slug);
void bulk_check_trunk(struct bulk_ex *x, const struct bulk_trunk *k, const char *slug);
void bulk_check_policy(struct bulk_ex *x, struct bulk_policy *p);

/* Whether @key of @schema may be null in the file. */
bool bulk_nullable(const struct pbx_schema *schema, const char *key);

/* ---- emitter: one writer for yaml and json (emit.c) --------------------------------- */

struct bulk_emitter;

int bulk_emit_open(struct bulk_emitter **ret, FILE *out, pbx_bulk_format format);
/* Flush and free; returns 0 or PBX_ERROR when anything failed to write. */
int bulk_emit_close(struct bulk_emitter *em);
void bulk_emit_map_start(struct bulk_emitter *em);
void bulk_emit_map_end(struct bulk_emitter *em);
void bulk_emit_seq_start(struct bulk_emitter *em, bool flow);
void bulk_emit_seq_end(struct bulk_emitter *em);
void bulk_emit_key(struct bulk_emitter *em, const char *key);
/* A value of @type: NULL is null; INT and BOOL plain when they are; LIST a flow sequence. */
void bulk_emit_value(struct bulk_emitter *em, pbx_field_type type, const char *s);

/* ---- secrets out (secrets.c) ------------------------------------------------------- */

struct bulk_secret {
	const char *tenant, *user, *extension, *label, *sip_username;
	char *secret;            /* plaintext, wiped by bulk_secrets_wipe */
};

/* Create @path 0600, never overwriting: PBX_ECONFLICT when it exists. */
int bulk_secrets_create(const char *path, FILE **ret, pbx_error *err);
/* Whether @path exists (for the dry run): PBX_ECONFLICT then, else 0. */
int bulk_secrets_check(const char *path, pbx_error *err);
/* Write @n credentials as yaml and fsync. PBX_ERROR on a write error. */
int bulk_secrets_write(FILE *f, const char *path, const struct bulk_secret *s, size_t n,
		       pbx_error *err);
void bulk_secrets_wipe(struct bulk_secret *s, size_t n);

/* ---- PINs (pin.c) ------------------------------------------------------------------ */

struct bulk_pin_job {
	const char *pin;         /* plaintext, or the extension to test against @stored */
	const char *stored;      /* the stored hash, or NULL */
	bool hash;               /* hash @pin unless @stored already matches it */
	bool match;              /* out: @stored matches @pin */
	char out[128];           /* out: the new hash, when one was made */
	int r;                   /* out: 0 or a code, with @err */
	pbx_error err;
};

/* Verify and hash every job, on a few threads (argon2id is slow by design). */
int bulk_pin_run(struct bulk_pin_job *jobs, size_t n, pbx_error *err);

#endif
