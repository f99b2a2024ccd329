/* SPDX-License-Identifier: MIT */
/*
 * SIP trunks to providers. A trunk belongs to one tenant, or is global (usable by every
 * tenant's policies). Its name is unique across both, and gives its Asterisk endpoint id:
 * "trunk-<name>" for a global trunk, "<slug>-trunk-<name>" for a tenant's (at most 40
 * characters; device ids never hold a second '-', so the two cannot collide). A trunk
 * authenticates by registration (username and a secret sealed at rest like device secrets,
 * synced as a ps_registrations row with line support, so calls it delivers are recognised)
 * or by IP (ps_endpoint_id_ips rows with the provider's addresses or CIDRs). Outbound
 * caller ID is the calling user's (callerid_mode pass, falling back to the trunk's number
 * when set) or always the trunk's number (force). Calls a trunk delivers start in the
 * inbound router context. The secret is never printed except by an audited reveal.
 */
#ifndef PBX_TRUNK_H
#define PBX_TRUNK_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

extern const struct pbx_schema pbx_schema_trunk;
extern const struct pbx_schema pbx_schema_trunk_status;

#define PBX_TRUNK_ENDPOINT_MAX 40
#define PBX_TRUNK_MATCH_MAX 16
/* Longest host: "sip:" + a 40-character user + "@[" host "]:65535" fits 255 characters. */
#define PBX_TRUNK_HOST_MAX 200
#define PBX_TRUNK_SECRET_MAX 80
#define PBX_TRUNK_SECRET_MASK "********"

/* What create sets or update changes. NULL / 0 / -1 = leave alone (create: default). */
struct pbx_trunk_spec {
	const char *name;           /* create: required */
	const char *tenant;         /* create: owner slug; NULL with global = 1 */
	int global;                 /* create: 1 for a global trunk */
	const char *host;           /* create: required; a DNS name, IPv4 or IPv6 address */
	int port;                   /* 1..65535, default 5060 */
	const char *transport;      /* udp (default), tcp, tls */
	const char *auth;           /* registration or ip_auth; create: required */
	const char *username;       /* registration: required */
	const char *secret;         /* registration: required; 1..80 printable characters */
	const char *match;          /* ip_auth: comma-separated addresses or CIDRs, required */
	const char *codecs;         /* ordered, default "ulaw,alaw" */
	const char *callerid_mode;  /* pass (default) or force */
	const char *callerid;       /* [+]digits, 2..20; required for force; "" clears */
	int enabled;                /* -1, 0, 1 */
};

#define PBX_TRUNK_SPEC_INIT { .global = -1, .enabled = -1 }

/* Field rules: 0 or PBX_EINVALID naming @object and the field. */
int pbx_trunk_check_name(const char *object, const char *name, pbx_error *err);
int pbx_trunk_check_host(const char *object, const char *host, pbx_error *err);
/* One address or CIDR: IPv4 or IPv6, with an optional /prefix. */
int pbx_trunk_check_match(const char *object, const char *match, pbx_error *err);

/*
 * The endpoint id of trunk @name of tenant @slug (NULL: global) into @buf (@n bytes).
 * PBX_EINVALID when it would be longer than PBX_TRUNK_ENDPOINT_MAX.
 */
int pbx_trunk_endpoint(const char *slug, const char *name, char *buf, size_t n,
		       pbx_error *err);

/*
 * Create. Needs the key file for a registration trunk (its secret is sealed before anything
 * is written). PBX_EINVALID, PBX_ECONFLICT (name taken), PBX_ENOTFOUND (tenant).
 */
int pbx_trunk_create(pbx_ctx *ctx, const struct pbx_trunk_spec *spec, struct pbx_rows *ret,
		     pbx_error *err);

/*
 * Update the fields set in @spec (the owner and the name cannot change: they name the
 * Asterisk objects). Switching to registration needs username and secret unless they are
 * already set. PBX_EINVALID, PBX_ENOTFOUND.
 */
int pbx_trunk_update(pbx_ctx *ctx, const char *trunk, const struct pbx_trunk_spec *spec,
		     struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

/* Delete. Refused (PBX_ECONFLICT, naming the policy) while a policy rule names it. */
int pbx_trunk_delete(pbx_ctx *ctx, const char *trunk, struct pbx_rows *ret, pbx_error *err);

/*
 * Trunks of @tenant together with the global ones (@tenant NULL: every trunk; @global_only:
 * only global trunks), by name.
 */
int pbx_trunk_list(pbx_ctx *ctx, const char *tenant, bool global_only, struct pbx_rows *ret,
		   pbx_error *err);

/*
 * One trunk by name or id. With @reveal the secret is opened with the key and an audit row
 * (action "reveal") is written first; free @ret with pbx_trunk_rows_free. PBX_ENOTFOUND.
 */
int pbx_trunk_show(pbx_ctx *ctx, const char *trunk, bool reveal, struct pbx_rows *ret,
		   pbx_error *err);

/* pbx_rows_free that first wipes every "secret" cell. */
void pbx_trunk_rows_free(struct pbx_rows *rows);

/*
 * Registration and reachability of trunks over AMI (PJSIPShowRegistrationsOutbound and
 * PJSIPShowContacts): one pbx_schema_trunk_status row per trunk (@trunk, or those of
 * @tenant and the global ones, or all). PBX_EUNAVAILABLE when Asterisk is unreachable.
 */
int pbx_trunk_status(pbx_ctx *ctx, const char *tenant, const char *trunk, struct pbx_rows *ret,
		     pbx_error *err);

#endif
