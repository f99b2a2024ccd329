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
#include "../store/pg.h"

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
	pbx_realtime_close(ctx->rt);
	pbx_ami_close(ctx->ami);
	pbx_secret_key_free(ctx->key);
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
