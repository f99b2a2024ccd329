/* SPDX-License-Identifier: MIT */
/*
 * Schema migrations: the numbered SQL files of migrations/ are embedded in the binary and
 * applied in order, each in its own transaction, under an advisory lock, and recorded
 * with a checksum. An applied migration whose file changed is an error.
 */
#ifndef PBX_DB_H
#define PBX_DB_H

#include "pbx/pbx.h"
#include "pbx/schema.h"

/*
 * Apply every pending PostgreSQL migration. @ret (pbx_schema_migration rows) receives one
 * row per migration with its status after the run (applied, already). Expected codes:
 * PBX_EINVALID (an applied migration was changed, or the database is newer),
 * PBX_EUNAVAILABLE.
 */
int pbx_db_migrate(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

/* List applied and pending migrations (status applied, pending or changed). */
int pbx_db_status(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

/*
 * Create Asterisk's PJSIP Realtime tables in MariaDB when missing (existing tables are
 * kept untouched). PBX_EUNAVAILABLE, PBX_EPERM, PBX_EINVALID.
 */
int pbx_db_migrate_realtime(pbx_ctx *ctx, pbx_error *err);

#endif
