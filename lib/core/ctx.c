/* SPDX-License-Identifier: MIT */
/*
 * The context: holds the configuration and opens each backend only when first asked.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"
#include "ctx.h"
#include "parallel.h"
#include "../store/pg.h"
#include "../store/sealing-key.h"

int pbx_ctx_new(const struct pbx_config *cfg, pbx_ctx **ret, pbx_error *err)
{
	pbx_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	ctx->cfg = cfg;
	ctx->connect_timeout = 10;
	*ret = ctx;
	return 0;
}

void pbx_ctx_free(pbx_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->pg)
		PQfinish(ctx->pg);
	if (ctx->lock_pg)
		PQfinish(ctx->lock_pg);
	pbx_realtime_close(ctx->rt);
	pbx_ami_close(ctx->ami);
	pbx_secret_key_free(ctx->key);
	pbx_secret_key_free(ctx->seal_key);
	for (size_t i = 0; i < sizeof(ctx->retired) / sizeof(ctx->retired[0]); i++)
		pbx_secret_key_free(ctx->retired[i]);
	free(ctx);
}

void pbx_ctx_set_log(pbx_ctx *ctx, pbx_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_ud = userdata;
}

const struct pbx_config *pbx_ctx_config(const pbx_ctx *ctx)
{
	return ctx->cfg;
}

void pbx_ctx_skip_schema_check(pbx_ctx *ctx)
{
	ctx->skip_schema_check = true;
}

void pbx_ctx_set_connect_timeout(pbx_ctx *ctx, int seconds)
{
	ctx->connect_timeout = seconds;
}

const char *pbx_ctx_source(pbx_ctx *ctx)
{
	if (!ctx->source[0]) {
		char host[256] = "localhost";
		struct passwd *pw = getpwuid(geteuid());

		gethostname(host, sizeof(host) - 1);
		snprintf(ctx->source, sizeof(ctx->source), "%s@%s",
			 pw ? pw->pw_name : "unknown", host);
	}
	return ctx->source;
}

void pbx_log(pbx_ctx *ctx, enum pbx_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!ctx || !ctx->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pbx_sanitize(buf);
	ctx->log_fn(ctx->log_ud, level, buf);
}

PGconn *pbx_ctx_pg(pbx_ctx *ctx, pbx_error *err)
{
	if (ctx->pg && PQstatus(ctx->pg) == CONNECTION_OK)
		return ctx->pg;
	if (ctx->pg) {
		PQfinish(ctx->pg);
		ctx->pg = NULL;
	}
	if (pbx_pg_connect(ctx, &ctx->pg, err) < 0)
		return NULL;
	if (!ctx->skip_schema_check && pbx_pg_check_schema(ctx->pg, err) < 0) {
		PQfinish(ctx->pg);
		ctx->pg = NULL;
		return NULL;
	}
	return ctx->pg;
}

struct pbx_realtime *pbx_ctx_realtime(pbx_ctx *ctx, pbx_error *err)
{
	struct pbx_realtime_config rc = {
		.host = ctx->cfg->rt_host,
		.port = ctx->cfg->rt_port,
		.socket = ctx->cfg->rt_socket,
		.user = ctx->cfg->rt_user,
		.password = ctx->cfg->rt_password,
		.database = ctx->cfg->rt_database,
		.ssl_ca = ctx->cfg->rt_ssl_ca,
		.ssl_verify = ctx->cfg->rt_ssl_verify,
		.timeout_ms = ctx->connect_timeout * 1000,
	};

	if (ctx->rt)
		return ctx->rt;
	if (pbx_realtime_connect(&rc, &ctx->rt, err) < 0)
		return NULL;
	return ctx->rt;
}

struct pbx_secret_key *pbx_ctx_key(pbx_ctx *ctx, pbx_error *err)
{
	if (!ctx->key && pbx_secret_key_load(ctx->cfg->key_file, &ctx->key, err) < 0)
		return NULL;
	return ctx->key;
}

bool pbx_ctx_key_absent(pbx_ctx *ctx, const pbx_error *e)
{
	/* A key file that exists but is open to others is a fault to report, not an absence. */
	return e->code == PBX_ENOTFOUND ||
	       (e->code == PBX_EPERM && access(ctx->cfg->key_file, R_OK) != 0);
}

struct pbx_secret_key *pbx_ctx_seal_key(pbx_ctx *ctx, pbx_error *err)
{
	pbx_error e = PBX_ERROR_INIT;
	struct pbx_secret_key *key;
	char text[PBX_SECRET_PUBLIC_BUFSZ];
	PGconn *pg;
	int r;

	if (ctx->seal_key)
		return ctx->seal_key;
	key = pbx_ctx_key(ctx, &e);
	if (key && !pbx_secret_key_is_legacy(key))
		return key;
	if (!key && !pbx_ctx_key_absent(ctx, &e)) {
		*err = e;
		return NULL;
	}
	if (!(pg = pbx_ctx_pg(ctx, err)))
		return NULL;
	r = pbx_sealing_key_read(pg, text, sizeof(text), err);
	if (r == PBX_ENOTFOUND) {
		if (key)
			pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				   "key file %s holds a legacy key (pbxctl-key-v1) and no public key is published; "
				   "run `pbxctl secrets rotate-key`", ctx->cfg->key_file);
		else {
			*err = e;
			/* Say both ways out: this operator's own key, or the published one. */
			if (e.code == PBX_ENOTFOUND)
				pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL,
					   "key file %s does not exist and no public key is published; "
					   "create it with `pbxctl secrets init` and publish it with "
					   "`pbxctl secrets publish`", ctx->cfg->key_file);
		}
		return NULL;
	}
	if (r < 0 || pbx_secret_key_from_public(text, &ctx->seal_key, err) < 0)
		return NULL;
	return ctx->seal_key;
}

/* The retired key named @id, loaded from "<key_file>.<id>" once; NULL when there is none. */
static struct pbx_secret_key *retired_key(pbx_ctx *ctx, const char *id, pbx_error *err)
{
	const size_t n = sizeof(ctx->retired) / sizeof(ctx->retired[0]);
	char path[4096];
	size_t i;

	for (i = 0; i < n && ctx->retired[i]; i++)
		if (!strcmp(pbx_secret_key_id(ctx->retired[i]), id))
			return ctx->retired[i];
	if (i == n || snprintf(path, sizeof(path), "%s.%s", ctx->cfg->key_file, id) >=
		      (int)sizeof(path))
		return NULL;
	if (pbx_secret_key_load(path, &ctx->retired[i], err) < 0)
		return NULL;
	if (strcmp(pbx_secret_key_id(ctx->retired[i]), id) != 0) {
		pbx_errorf(err, PBX_EINVALID, NULL, NULL, "key file %s holds key %s, not %s", path,
			   pbx_secret_key_id(ctx->retired[i]), id);
		pbx_secret_key_free(ctx->retired[i]);
		ctx->retired[i] = NULL;
		return NULL;
	}
	return ctx->retired[i];
}

struct pbx_secret_key *pbx_ctx_opening_key(pbx_ctx *ctx, pbx_error *err)
{
	pbx_error e = PBX_ERROR_INIT;
	struct pbx_secret_key *key = pbx_ctx_key(ctx, &e);

	if (key)
		return key;
	if (!pbx_ctx_key_absent(ctx, &e))
		*err = e;
	else
		pbx_errorf(err, PBX_EPERM, NULL, "secret",
			   "cannot open sealed secrets: the private key %s is not readable here; "
			   "only the privileged side (platform admins, the apply worker) holds it",
			   ctx->cfg->key_file);
	return NULL;
}

/* The key that opens @sealed: the key file's, or the retired key its id names. */
static struct pbx_secret_key *key_for(pbx_ctx *ctx, const char *sealed, pbx_error *err)
{
	pbx_error e = PBX_ERROR_INIT;
	struct pbx_secret_key *key, *old;
	char id[PBX_SECRET_KEY_ID_BUFSZ];

	if (!(key = pbx_ctx_opening_key(ctx, err)))
		return NULL;
	if (pbx_secret_sealed_key_id(sealed, id, sizeof(id), err) < 0)
		return NULL;
	if (strcmp(id, pbx_secret_key_id(key)) != 0 && (old = retired_key(ctx, id, &e)))
		key = old;
	return key;
}

int pbx_ctx_open_secret(pbx_ctx *ctx, const char *sealed, char **ret_plain, pbx_error *err)
{
	struct pbx_secret_key *key = key_for(ctx, sealed, err);

	return key ? pbx_secret_open(key, sealed, ret_plain, err) : err->code;
}

struct open_job {
	struct pbx_ctx_sealed *v;
	struct pbx_secret_key **keys;
};

static void open_one(void *arg, size_t i)
{
	struct open_job *job = arg;
	struct pbx_ctx_sealed *s = &job->v[i];
	pbx_error e = PBX_ERROR_INIT;

	if (!job->keys[i])
		return;   /* nothing sealed, or its key's error is already in s */
	s->r = pbx_secret_open(job->keys[i], s->sealed, &s->plain, &e);
	if (s->r < 0 && (s->err = malloc(sizeof(*s->err))))
		*s->err = e;
}

int pbx_ctx_open_secrets(pbx_ctx *ctx, struct pbx_ctx_sealed *v, size_t n, pbx_error *err)
{
	struct open_job job = { .v = v, .keys = calloc(n + 1, sizeof(*job.keys)) };

	if (!job.keys)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	/* The keys on this thread (a retired key is loaded on first use), then the opening,
	 * X25519 for each secret, on every core. */
	for (size_t i = 0; i < n; i++) {
		pbx_error e = PBX_ERROR_INIT;

		v[i].plain = NULL;
		v[i].err = NULL;
		v[i].r = 0;
		if (v[i].sealed && !(job.keys[i] = key_for(ctx, v[i].sealed, &e))) {
			v[i].r = e.code ? e.code : PBX_ERROR;
			if ((v[i].err = malloc(sizeof(*v[i].err))))
				*v[i].err = e;
		}
	}
	pbx_parallel_for(n, open_one, &job);
	free(job.keys);
	for (size_t i = 0; i < n; i++)
		if (v[i].r < 0 && !v[i].err)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return 0;
}

struct pbx_ami *pbx_ctx_ami(pbx_ctx *ctx, pbx_error *err)
{
	struct pbx_ami_config ac = {
		.host = ctx->cfg->ami_host,
		.port = ctx->cfg->ami_port,
		.username = ctx->cfg->ami_username,
		.secret = ctx->cfg->ami_secret,
		.timeout_ms = ctx->cfg->ami_timeout_ms,
		.md5 = ctx->cfg->ami_md5,
		.tls = ctx->cfg->ami_tls,
		.ca_file = ctx->cfg->ami_ca_file,
	};

	if (ctx->ami)
		return ctx->ami;
	if (pbx_ami_connect(&ac, &ctx->ami, err) < 0)
		return NULL;
	return ctx->ami;
}

void pbx_ctx_ami_reset(pbx_ctx *ctx)
{
	pbx_ami_close(ctx->ami);
	ctx->ami = NULL;
}
