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
	PGconn *lock_pg;        /* holds the apply lock; never reconnected (apply-job.c) */
	int connect_timeout;
	bool skip_schema_check;
	pbx_log_fn log_fn;
	void *log_ud;
	char source[320];
	struct pbx_realtime *rt;
	struct pbx_ami *ami;
	struct pbx_secret_key *key;
	struct pbx_secret_key *seal_key;        /* the published key, when key_file cannot seal */
	struct pbx_secret_key *retired[4];      /* "<key_file>.<id>" files opened so far */
};

/* The PostgreSQL connection, opened on first use (PBX_EUNAVAILABLE when unreachable). */
PGconn *pbx_ctx_pg(pbx_ctx *ctx, pbx_error *err);

/* The MariaDB realtime connection, opened on first use. */
struct pbx_realtime *pbx_ctx_realtime(pbx_ctx *ctx, pbx_error *err);

/* The AMI connection, opened on first use. */
struct pbx_ami *pbx_ctx_ami(pbx_ctx *ctx, pbx_error *err);

/* Close the AMI connection so that the next pbx_ctx_ami opens a new one. */
void pbx_ctx_ami_reset(pbx_ctx *ctx);

/* The private key from cfg->key_file, loaded on first use. */
struct pbx_secret_key *pbx_ctx_key(pbx_ctx *ctx, pbx_error *err);

/*
 * The key new secrets are sealed to: the key file's own public half when this operator
 * holds a private key, else the public key published in PostgreSQL (table sealing_key).
 * With neither, the key file's error (e.g. PBX_ENOTFOUND "create it with `pbxctl secrets
 * init`"). Owned by the context.
 */
struct pbx_secret_key *pbx_ctx_seal_key(pbx_ctx *ctx, pbx_error *err);

/*
 * The private key that opens sealed secrets, or NULL with one clear error: PBX_EPERM
 * ("the private key FILE is not readable here; only the privileged side holds it") when
 * this operator has none, else the key file's own error (open to others, malformed).
 * Owned by the context.
 */
struct pbx_secret_key *pbx_ctx_opening_key(pbx_ctx *ctx, pbx_error *err);

/*
 * Open @sealed with the key its id names: the key file, or a retired key kept next to it
 * as "<key_file>.<id>" ("<key_file>.v1" for the legacy key). PBX_EPERM with a one-line
 * message when this operator cannot read the private key; otherwise as pbx_secret_open.
 * *@ret_plain is released with pbx_secret_free_str.
 */
int pbx_ctx_open_secret(pbx_ctx *ctx, const char *sealed, char **ret_plain, pbx_error *err);

/* One secret of pbx_ctx_open_secrets: @sealed in (NULL: nothing to open, @plain stays NULL);
 * @plain (pbx_secret_free_str) or, when @r < 0, @err (free()) out. */
struct pbx_ctx_sealed {
	const char *sealed;
	char *plain;
	int r;
	pbx_error *err;
};

/*
 * pbx_ctx_open_secret for each of @v[0..@n), the openings spread over the machine's cores
 * (pbx_parallel_for). Each item gets its own result; the call itself fails only when
 * memory runs out (the items' results are then to be freed all the same).
 */
int pbx_ctx_open_secrets(pbx_ctx *ctx, struct pbx_ctx_sealed *v, size_t n, pbx_error *err);

/* True when @e (from loading the key file) means "not this operator's to read". */
bool pbx_ctx_key_absent(pbx_ctx *ctx, const pbx_error *e);

void pbx_log(pbx_ctx *ctx, enum pbx_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
