/* SPDX-License-Identifier: MIT */
/*
 * Declarative bulk provisioning: a YAML (or JSON) file lists tenants with their users, the
 * users' devices, the tenants' phone numbers (DIDs), trunks and outbound policies, and
 * global trunks; import makes the database match it in one transaction and export writes
 * the same format. The keys are the keys of `-o json` output, taken from the entity schemas
 * (PBX_FIELD_EXPORT keys are written by export and read by import). Objects are matched by
 * natural key: tenant slug, username within its tenant, device label within its user, DID
 * number, trunk name, policy name within its tenant. The parser reads libyaml events and
 * refuses hostile input (deep nesting, huge values, anchors and aliases) in bounded memory.
 */
#ifndef PBX_BULK_H
#define PBX_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

/* Limits of the parser; a file beyond them is refused with an error saying which. */
#define PBX_BULK_MAX_INPUT (64u << 20)    /* bytes of input */
#define PBX_BULK_MAX_OBJECTS 300000       /* tenants, users and devices in one file */
#define PBX_BULK_MAX_DEPTH 32             /* nested collections */
#define PBX_BULK_MAX_VALUE 1024           /* bytes of one value */
#define PBX_BULK_MAX_GAP (1u << 20)       /* bytes between two YAML events */
#define PBX_BULK_MAX_PROBLEMS 1000        /* problems listed before giving up */

/* A parsed and checked file; opaque. */
typedef struct pbx_bulk_doc pbx_bulk_doc;

/*
 * Read the whole of @in (named @name in messages: the path, or "-" for stdin) and check
 * everything that needs no database: YAML syntax, structure, unknown keys, value types,
 * the field rules of each entity, duplicates and extensions against the file's own ranges.
 * Every problem is added to @diag with file, line, column and the YAML path as object
 * ("tenants[0].users[12].extension"); the function then returns PBX_EINVALID and sets
 * *@ret_doc to NULL. On success *@ret_doc is owned by the caller (pbx_bulk_doc_free).
 * PBX_EINVALID, PBX_ERROR (out of memory, read error: in @err).
 */
int pbx_bulk_parse(const char *name, FILE *in, pbx_bulk_doc **ret_doc, pbx_diag *diag,
		   pbx_error *err);
void pbx_bulk_doc_free(pbx_bulk_doc *doc);

/* How many objects of @entity ("tenant", "user", "device", "did", "trunk", "policy") the
 * file holds. */
size_t pbx_bulk_doc_count(const pbx_bulk_doc *doc, const char *entity);

/* Progress of a long import: @phase is "planning" or "writing". */
typedef void (*pbx_bulk_progress_fn)(void *userdata, const char *phase, size_t done,
				     size_t total);

struct pbx_bulk_import_opts {
	bool dry_run;             /* plan only: nothing is written, no file is created */
	bool prune;               /* delete what the file's tenants hold and it does not list */
	const char *secrets_out;  /* write new SIP credentials here (mode 0600, never
				   * overwritten), or NULL */
	pbx_bulk_progress_fn progress;
	void *progress_userdata;
};

#define PBX_BULK_IMPORT_OPTS_INIT { .dry_run = false }

/*
 * The summary of an import (pbx_schema_import, one row): result, file, dry_run, the counts
 * of tenants, users, devices, DIDs, trunks and policies created, updated, restored and
 * deleted, audit_rows, secrets_written and secrets_out, and "changes", a JSON array with
 * one object per change.
 */
extern const struct pbx_schema pbx_schema_import;

/* One line of the plan (pbx_schema_import_change): action, entity, tenant, name, detail. */
extern const struct pbx_schema pbx_schema_import_change;

/*
 * Make the database match @doc, in one transaction: create what is missing, update what
 * differs, restore soft-deleted users the file lists, and with @o->prune delete what the
 * file's tenants hold that the file does not list (users are soft-deleted, as `user delete`
 * does; global trunks are never pruned). Every change writes its audit row in the same transaction. Problems that need the
 * database (an extension taken by a user the file does not list, a range that is full,
 * a range that would leave users outside) are all added to @diag, with the position in
 * the file, and nothing is written (PBX_EINVALID). *@ret_summary gets one row and
 * *@ret_changes one row per change (both owned by the caller; free with pbx_rows_free);
 * *@ret_changed whether anything changed (with dry_run: whether a real run would).
 * New devices need the sealing key; the plaintext of their secrets only goes to
 * @o->secrets_out. PBX_EINVALID, PBX_ECONFLICT (secrets file exists, a concurrent change),
 * PBX_EPERM, PBX_EUNAVAILABLE, and the key loader's codes.
 */
int pbx_bulk_import(pbx_ctx *ctx, const pbx_bulk_doc *doc, const struct pbx_bulk_import_opts *o,
		    struct pbx_rows *ret_summary, struct pbx_rows *ret_changes, bool *ret_changed,
		    pbx_diag *diag, pbx_error *err);

typedef enum pbx_bulk_format { PBX_BULK_YAML, PBX_BULK_JSON } pbx_bulk_format;

struct pbx_bulk_export_opts {
	const char *tenant;       /* slug or id; NULL = every tenant */
	pbx_bulk_format format;
};

#define PBX_BULK_EXPORT_OPTS_INIT { .tenant = NULL, .format = PBX_BULK_YAML }

/*
 * Write the import format for one tenant or all of them to @out, from one consistent
 * snapshot: the global trunks, then every tenant with its PBX_FIELD_EXPORT keys, its
 * trunks, policies with their rules, DIDs, users (soft-deleted users are left out) and
 * their devices. Secrets and PINs are never written. PBX_ENOTFOUND (tenant),
 * PBX_ERROR (write error).
 */
int pbx_bulk_export(pbx_ctx *ctx, const struct pbx_bulk_export_opts *o, FILE *out,
		    pbx_error *err);

#endif
