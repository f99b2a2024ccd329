/* SPDX-License-Identifier: MIT */
/*
 * SIP trunks to realtime rows: an endpoint and an AOR, plus an auth and an outbound
 * registration (with line support, so the calls the provider sends back are matched to the
 * trunk) or one ps_endpoint_id_ips row per provider address. Every field is checked against
 * a strict pattern and its column before anything is added. Errors name "trunk <id>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"
#include "pbx/realtime.h"
#include "pbx/trunk.h"

#include "realtime-internal.h"

static const char *const codec_names[] = { "ulaw", "alaw", "g722", "opus", "gsm", "g729" };

static bool valid_name(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static const char *transport_of(const char *t)
{
	if (!t)
		return NULL;
	if (!strcmp(t, "udp"))
		return "transport-udp";
	if (!strcmp(t, "tcp"))
		return "transport-tcp";
	if (!strcmp(t, "tls"))
		return "transport-tls";
	return NULL;
}

static int check(const struct pbx_rt_trunk *t, const char *object, pbx_error *err)
{
	size_t n;
	long len;

	if (!valid_name(t->id, 40))
		return pbx_errorf(err, PBX_EINVALID, object, "id",
				  "trunk id must be 1 to 40 characters of a-z 0-9 -");
	if (t->owner ? (!rt_valid_slug(t->owner) || strncmp(t->id, t->owner, strlen(t->owner)) ||
			t->id[strlen(t->owner)] != '-') : strncmp(t->id, "trunk-", 6))
		return pbx_errorf(err, PBX_EINVALID, object, "id",
				  "trunk id must start with %s-", t->owner ? t->owner : "trunk");
	if (!valid_name(t->context, 40))
		return pbx_errorf(err, PBX_EINVALID, object, "context",
				  "context must be 1 to 40 characters of a-z 0-9 -");
	if (pbx_trunk_check_host(object, t->host, err) < 0)
		return err->code;
	if (t->port < 1 || t->port > 65535)
		return pbx_errorf(err, PBX_EINVALID, object, "port", "port must be 1 to 65535");
	if (!transport_of(t->transport))
		return pbx_errorf(err, PBX_EINVALID, object, "transport",
				  "transport must be udp, tcp or tls");
	if (!t->n_codecs || !t->codecs)
		return pbx_errorf(err, PBX_EINVALID, object, "codecs", "a trunk needs a codec");
	for (size_t i = 0; i < t->n_codecs; i++) {
		bool known = false;

		for (size_t k = 0; k < sizeof(codec_names) / sizeof(codec_names[0]); k++)
			known = known || (t->codecs[i] && !strcmp(t->codecs[i], codec_names[k]));
		for (size_t j = 0; known && j < i; j++)
			known = strcmp(t->codecs[i], t->codecs[j]) != 0;
		if (!known)
			return pbx_errorf(err, PBX_EINVALID, object, "codecs",
					  "codec list must hold known codecs once each "
					  "(ulaw alaw g722 opus gsm g729)");
	}
	if (t->registration) {
		n = t->username ? strlen(t->username) : 0;
		if (n < 1 || n > 40 || strspn(t->username, "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") != n)
			return pbx_errorf(err, PBX_EINVALID, object, "username",
					  "username must be 1 to 40 of A-Z a-z 0-9 . _ + -");
		len = t->password ? rt_utf8_len(t->password) : -1;
		if (len < 1 || len > 80 || rt_has_control(t->password))
			return pbx_errorf(err, PBX_EINVALID, object, "password",
					  "password must be 1 to 80 printable characters");
	} else {
		if (!t->n_match || !t->match)
			return pbx_errorf(err, PBX_EINVALID, object, "match",
					  "a trunk identified by address needs at least one address");
		for (size_t i = 0; i < t->n_match; i++)
			if (pbx_trunk_check_match(object, t->match[i], err) < 0)
				return err->code;
	}
	return 0;
}

/* "host:port", with an IPv6 address in brackets. */
static void hostport(const struct pbx_rt_trunk *t, char *buf, size_t n)
{
	if (strchr(t->host, ':'))
		snprintf(buf, n, "[%s]:%d", t->host, t->port);
	else
		snprintf(buf, n, "%s:%d", t->host, t->port);
}

int pbx_rt_rowset_add_trunk(pbx_rt_rowset *set, const struct pbx_rt_trunk *t, pbx_error *err)
{
	static const char *const ep_cols[] = {
		"transport", "aors", "context", "disallow", "allow", "direct_media", "dtmf_mode",
		"force_rport", "rewrite_contact", "rtp_symmetric", "outbound_auth", "from_user",
		"from_domain", "identify_by",
	};
	static const char *const aor_cols[] = { "qualify_frequency", "contact" };
	static const char *const auth_cols[] = { "auth_type", "password", "username" };
	static const char *const reg_cols[] = {
		"auth_rejection_permanent", "client_uri", "contact_user", "expiration",
		"max_retries", "outbound_auth", "retry_interval", "forbidden_retry_interval",
		"server_uri", "transport", "line", "endpoint",
	};
	static const char *const ip_cols[] = { "endpoint", "match" };
	const char *owner = t->owner ? t->owner : PBX_RT_OWNER_GLOBAL;
	char object[PBX_ERR_OBJECT], hp[300], server[320], client[380], contact[320];
	char *allow = NULL;
	size_t len = 0;
	int r;

	snprintf(object, sizeof(object), "trunk %s", t->id ? t->id : "(null)");
	if ((r = check(t, object, err)) < 0)
		return r;
	for (size_t i = 0; i < rt_n_tables; i++)
		if (rt_rowset_lookup(set, &rt_tables[i], t->id))
			return pbx_errorf(err, PBX_ECONFLICT, object, "id",
					  "trunk id %s is used twice", t->id);
	for (size_t i = 0; i < t->n_codecs; i++)
		len += strlen(t->codecs[i]) + 1;
	if (!(allow = calloc(1, len + 1)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < t->n_codecs; i++) {
		if (i)
			strcat(allow, ",");
		strcat(allow, t->codecs[i]);
	}
	hostport(t, hp, sizeof(hp));
	snprintf(server, sizeof(server), "sip:%s", hp);
	snprintf(contact, sizeof(contact), "sip:%s", hp);
	{
		bool reg = t->registration;
		const char *ep_vals[] = {
			transport_of(t->transport), t->id, t->context, "all", allow, "no", "rfc4733",
			"yes", "yes", "yes", reg ? t->id : NULL, reg ? t->username : NULL,
			reg && strlen(t->host) <= 40 ? t->host : NULL, reg ? NULL : "ip",
		};
		const char *aor_vals[] = { "60", contact };

		r = pbx_rt_rowset_add(set, "ps_endpoints", t->id, owner, ep_cols, ep_vals,
				      sizeof(ep_cols) / sizeof(ep_cols[0]), err);
		if (r >= 0)
			r = pbx_rt_rowset_add(set, "ps_aors", t->id, owner, aor_cols, aor_vals,
					      sizeof(aor_cols) / sizeof(aor_cols[0]), err);
	}
	snprintf(client, sizeof(client), "sip:%s@%s", t->registration ? t->username : "", hp);
	if (r >= 0 && t->registration) {
		const char *auth_vals[] = { "userpass", t->password, t->username };
		const char *reg_vals[] = {
			"no", client, t->username, "3600", "10000", t->id, "60", "300", server,
			transport_of(t->transport), "yes", t->id,
		};

		r = pbx_rt_rowset_add(set, "ps_auths", t->id, owner, auth_cols, auth_vals,
				      sizeof(auth_cols) / sizeof(auth_cols[0]), err);
		if (r >= 0)
			r = pbx_rt_rowset_add(set, "ps_registrations", t->id, owner, reg_cols,
					      reg_vals, sizeof(reg_cols) / sizeof(reg_cols[0]), err);
	}
	for (size_t i = 0; r >= 0 && !t->registration && i < t->n_match; i++) {
		const char *ip_vals[] = { t->id, t->match[i] };
		char id[64];

		snprintf(id, sizeof(id), "%s-%zu", t->id, i + 1);
		r = pbx_rt_rowset_add(set, "ps_endpoint_id_ips", id, owner, ip_cols, ip_vals,
				      sizeof(ip_cols) / sizeof(ip_cols[0]), err);
	}
	free(allow);
	return r < 0 ? r : 0;
}
