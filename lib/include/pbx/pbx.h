/* SPDX-License-Identifier: MIT */
/*
 * The libpbx context: configuration plus connections that open lazily the first time a
 * function needs them, so a command that needs only PostgreSQL never touches MariaDB or
 * AMI. lib never prints; it reports through an optional log callback.
 */
#ifndef PBX_PBX_H
#define PBX_PBX_H

#include "pbx/config.h"
#include "pbx/error.h"

typedef struct pbx_ctx pbx_ctx;

enum pbx_log_level { PBX_LOG_ERROR, PBX_LOG_WARN, PBX_LOG_INFO, PBX_LOG_DEBUG };
typedef void (*pbx_log_fn)(void *userdata, enum pbx_log_level level, const char *msg);

/*
 * Create a context over @cfg, which the caller keeps alive and unchanged until
 * pbx_ctx_free. Opens nothing. Free with pbx_ctx_free.
 */
int pbx_ctx_new(const struct pbx_config *cfg, pbx_ctx **ret, pbx_error *err);
void pbx_ctx_free(pbx_ctx *ctx);
void pbx_ctx_set_log(pbx_ctx *ctx, pbx_log_fn fn, void *userdata);
const struct pbx_config *pbx_ctx_config(const pbx_ctx *ctx);

/*
 * Skip the check that the database schema is current (for `db migrate` and `db status`,
 * which run before migrations exist).
 */
void pbx_ctx_skip_schema_check(pbx_ctx *ctx);

/* Bounded connect timeout in seconds for all backends (completion uses 1). */
void pbx_ctx_set_connect_timeout(pbx_ctx *ctx, int seconds);

/* The audit "source" of this process: OS user@host. */
const char *pbx_ctx_source(pbx_ctx *ctx);

#endif
