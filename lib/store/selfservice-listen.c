/* SPDX-License-Identifier: MIT */
/*
 * The privileged side's ear on Asterisk for self-service (pbx/selfservice.h): an AMI
 * session with user events whose PbxctlSelfService UserEvents (a feature code dialled on a
 * phone) go to pbx_selfservice_event, so that the change reaches PostgreSQL and the audit
 * log within a poll of the apply worker's loop (about a second). Asterisk going away is
 * not the worker's failure: the session is opened again with a doubling backoff, and the
 * next apply reconciles whatever was missed meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/ami.h"
#include "pbx/config.h"
#include "pbx/dialplan.h"
#include "pbx/selfservice.h"
#include "ctx.h"

struct pbx_selfservice_listener {
	pbx_ctx *ctx;
	pbx_ami *ami;
	int backoff_ms;
	long long retry_at;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pbx_selfservice_consume(pbx_ctx *ctx, const struct pbx_ami_msg *event)
{
	const char *name = pbx_ami_msg_get(event, "UserEvent");
	pbx_error e = PBX_ERROR_INIT;
	bool changed = false;

	if (!name || strcmp(name, PBX_DP_SELFSERVICE_EVENT))
		return;
	if (pbx_selfservice_event(ctx, event, &changed, &e) < 0)
		pbx_log(ctx, PBX_LOG_WARN, "self-service event of %s/%s not taken: %s",
			pbx_ami_msg_get(event, "Tenant") ? pbx_ami_msg_get(event, "Tenant") : "?",
			pbx_ami_msg_get(event, "Extension") ? pbx_ami_msg_get(event, "Extension") : "?",
			e.message);
	else if (changed)
		pbx_log(ctx, PBX_LOG_INFO, "self-service change of %s/%s taken from the phone",
			pbx_ami_msg_get(event, "Tenant"), pbx_ami_msg_get(event, "Extension"));
}

static void on_event(const struct pbx_ami_msg *m, void *ud)
{
	struct pbx_selfservice_listener *l = ud;

	pbx_selfservice_consume(l->ctx, m);
}

struct pbx_selfservice_listener *pbx_selfservice_listen(pbx_ctx *ctx)
{
	struct pbx_selfservice_listener *l = calloc(1, sizeof(*l));

	if (l) {
		l->ctx = ctx;
		l->backoff_ms = 250;
	}
	return l;
}

static void drop(struct pbx_selfservice_listener *l, const char *why)
{
	pbx_log(l->ctx, PBX_LOG_WARN, "self-service events: %s; retrying in %d ms", why,
		l->backoff_ms);
	if (l->ami) {
		pbx_ami_set_event_cb(l->ami, NULL, NULL);
		pbx_ami_close(l->ami);
		l->ami = NULL;
	}
	l->retry_at = now_ms() + l->backoff_ms;
	l->backoff_ms = l->backoff_ms < 4000 ? l->backoff_ms * 2 : 8000;
}

void pbx_selfservice_listen_poll(struct pbx_selfservice_listener *l)
{
	pbx_error e = PBX_ERROR_INIT;

	if (!l)
		return;
	if (!l->ami) {
		const struct pbx_config *cfg = pbx_ctx_config(l->ctx);
		struct pbx_ami_config ac = {
			.host = cfg->ami_host, .port = cfg->ami_port, .username = cfg->ami_username,
			.secret = cfg->ami_secret, .timeout_ms = cfg->ami_timeout_ms,
			.md5 = cfg->ami_md5, .events = "user",
		};

		if (now_ms() < l->retry_at)
			return;
		if (pbx_ami_connect(&ac, &l->ami, &e) < 0) {
			l->ami = NULL;
			drop(l, e.message);
			return;
		}
		l->backoff_ms = 250;
		pbx_ami_set_event_cb(l->ami, on_event, l);
	}
	/* The answer to a Ping comes after whatever events arrived before it. */
	if (pbx_ami_ping(l->ami, &e) < 0)
		drop(l, e.message);
}

void pbx_selfservice_listen_close(struct pbx_selfservice_listener *l)
{
	if (!l)
		return;
	if (l->ami) {
		pbx_ami_set_event_cb(l->ami, NULL, NULL);
		pbx_ami_close(l->ami);
	}
	free(l);
}
