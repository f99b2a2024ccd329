/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: the context's lazy connections and the log helper, shared by modules.
 */
#ifndef PBX_CORE_CTX_H
#define PBX_CORE_CTX_H

#include <libpq-fe.h>

#include "pbx/pbx.h"

struct pbx_ctx {
	const struct pbx_config *cfg;
	PGconn *pg;
	PGconn *lock_pg;        /* holds the apply lock; never reconnected (apply_job.c) */
	int connect_timeout;
	bool skip_schema_check;
	pbx_log_fn log_fn;
	void *log_ud;
	char source[320];
	struct pbx_realtime *rt;
	struct pbx_ami *ami;
	struct pbx_secret_key *key;
};

/* The PostgreSQL connection, opened on first use (PBX_EUNAVAILABLE when unreachable). */
PGconn *pbx_ctx_pg(pbx_ctx *ctx, pbx_error *err);

/* The MariaDB realtime connection, opened on first use. */
struct pbx_realtime *pbx_ctx_realtime(pbx_ctx *ctx, pbx_error *err);

/* The AMI connection, opened on first use. */
struct pbx_ami *pbx_ctx_ami(pbx_ctx *ctx, pbx_error *err);

/* Close the AMI connection so that the next pbx_ctx_ami opens a new one. */
void pbx_ctx_ami_reset(pbx_ctx *ctx);

/* The sealing key from cfg->key_file, loaded on first use. */
struct pbx_secret_key *pbx_ctx_key(pbx_ctx *ctx, pbx_error *err);

void pbx_log(pbx_ctx *ctx, enum pbx_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
