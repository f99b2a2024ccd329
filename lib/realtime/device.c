/* SPDX-License-Identifier: MIT */
/*
 * SIP devices to realtime rows: every field is checked against a strict pattern and the
 * length of its column before anything is added, the caller ID name (hostile free text)
 * is cleaned and quoted, and each device becomes one ps_endpoints, one ps_auths and one
 * ps_aors row sharing the device id. Errors name "device <id>" and the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "realtime-internal.h"

#define CALLERID_MAX 40     /* ps_endpoints.callerid varchar(40) */
#define CONTEXT_MAX 40      /* ps_endpoints.context varchar(40) */
#define ID_MAX 40           /* ps_auths.username varchar(40) holds the id */
#define PASSWORD_MAX 80     /* ps_auths.password varchar(80) */
#define MAILBOXES_MAX 40    /* ps_endpoints.mailboxes varchar(40) */

static const char *const codec_names[] = { "ulaw", "alaw", "g722", "opus", "gsm", "g729" };

/* The transports pjsip.conf must define, by the name a device gives. */
static const struct {
	const char *name, *transport;
} transports[] = {
	{ "udp", "transport-udp" },
	{ "tcp", "transport-tcp" },
	{ "tls", "transport-tls" },
	{ "wss", "transport-wss" },
};

static const char *transport_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof(transports) / sizeof(transports[0]); i++)
		if (strcmp(transports[i].name, name) == 0)
			return transports[i].transport;
	return NULL;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* [a-z0-9-]{1,max} */
static bool valid_name(const char *s, size_t max)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!is_name_char(s[n]))
			return false;
	return n >= 1 && n <= max;
}

static bool has_tenant_prefix(const char *s, const char *tenant)
{
	size_t n = strlen(tenant);

	return strncmp(s, tenant, n) == 0 && s[n] == '-';
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

/*
 * The caller ID name with quotes, angle brackets, backslashes, semicolons and control
 * characters gone and runs of spaces collapsed: what is left can sit between double quotes
 * in Asterisk's "Name" <number> form. @out holds at least strlen(name) + 1 bytes.
 */
static void clean_name(const char *name, char *out)
{
	const unsigned char *p = (const unsigned char *)name;
	char *o = out;
	bool space = false;

	for (; *p; p++) {
		bool drop = *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == ';';
		bool blank = *p == ' ' || *p < 0x20 || *p == 0x7f;

		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* a C1 control character, two bytes */
			p++;
			blank = true;
		}
		if (drop)
			continue;
		if (blank) {
			space = o != out;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = (char)*p;
	}
	*o = '\0';
}

/*
 * Cut valid UTF-8 @s to at most @max characters, at a character boundary, and drop the
 * blank the cut may leave at the end.
 */
static void utf8_cut(char *s, long max)
{
	unsigned char *p = (unsigned char *)s;
	long n = 0;

	for (; *p && n < max; n++)
		do
			p++;
		while ((*p & 0xc0) == 0x80);
	*p = '\0';
	while (p > (unsigned char *)s && p[-1] == ' ')
		*--p = '\0';
}

static int build_callerid(const struct pbx_rt_device *dev, const char *object, char **ret,
			  pbx_error *err)
{
	const char *num = dev->callerid_num;
	char *name = NULL, *cid = NULL;
	size_t size;
	long len;
	int r = 0;

	*ret = NULL;
	if (dev->callerid_name && rt_utf8_len(dev->callerid_name) < 0)
		return pbx_errorf(err, PBX_EINVALID, object, "callerid_name",
				  "caller ID name is not valid UTF-8");
	if (num) {
		size_t n = strlen(num);

		if (n < 1 || n > 20 || strspn(num, "0123456789+*#") != n)
			return pbx_errorf(err, PBX_EINVALID, object, "callerid_num",
					  "caller ID number must be 1 to 20 of 0-9 + * #");
	}
	if (dev->callerid_name) {
		name = malloc(strlen(dev->callerid_name) + 1);
		if (!name)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		clean_name(dev->callerid_name, name);
	}
	/* A display name is kept whole in PostgreSQL; the caller ID shows as much of it as
	 * "<name>" <number> leaves of the column: 40 less the quotes, the brackets, the blank
	 * and the number (at most 20), so at least 15 characters. */
	if (name)
		utf8_cut(name, CALLERID_MAX - (num ? (long)strlen(num) + 5 : 2));
	if ((!name || !*name) && !num)
		goto cleanup;
	size = (name ? strlen(name) : 0) + (num ? strlen(num) : 0) + 8;
	cid = malloc(size);
	if (!cid) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	if (name && *name && num)
		snprintf(cid, size, "\"%s\" <%s>", name, num);
	else if (name && *name)
		snprintf(cid, size, "\"%s\"", name);
	else
		snprintf(cid, size, "<%s>", num);
	len = rt_utf8_len(cid);
	if (len > CALLERID_MAX) {
		r = pbx_errorf(err, PBX_EINVALID, object, "callerid",
			       "caller ID %s is %ld characters long; ps_endpoints.callerid holds "
			       "at most %d", cid, len, CALLERID_MAX);
		goto cleanup;
	}
	*ret = cid;
	cid = NULL;
cleanup:
	free(name);
	free(cid);
	return r;
}

static int check_mailboxes(const struct pbx_rt_device *dev, const char *object, pbx_error *err)
{
	const char *m = dev->mailboxes, *at;
	size_t digits;

	if (!m)
		return 0;
	at = strchr(m, '@');
	digits = at ? (size_t)(at - m) : 0;
	if (!at || digits < 1 || digits > 20 || strspn(m, "0123456789") != digits ||
	    !valid_name(at + 1, MAILBOXES_MAX) ||
	    (strcmp(at + 1, dev->tenant) != 0 && !has_tenant_prefix(at + 1, dev->tenant)))
		return pbx_errorf(err, PBX_EINVALID, object, "mailboxes",
				  "mailbox must be <digits>@%s (the tenant's voicemail context)",
				  dev->tenant);
	if (strlen(m) > MAILBOXES_MAX)
		return pbx_errorf(err, PBX_EINVALID, object, "mailboxes",
				  "mailbox %s is %zu characters long; ps_endpoints.mailboxes holds "
				  "at most %d", m, strlen(m), MAILBOXES_MAX);
	return 0;
}

static int check_codecs(const struct pbx_rt_device *dev, const char *object, char **ret,
			pbx_error *err)
{
	char *allow;
	size_t len = 0;

	if (dev->n_codecs == 0 || !dev->codecs)
		return pbx_errorf(err, PBX_EINVALID, object, "codecs",
				  "a device needs at least one codec");
	for (size_t i = 0; i < dev->n_codecs; i++) {
		bool known = false;

		for (size_t k = 0; k < sizeof(codec_names) / sizeof(codec_names[0]); k++)
			known = known || (dev->codecs[i] && strcmp(dev->codecs[i], codec_names[k]) == 0);
		if (!known)
			return pbx_errorf(err, PBX_EINVALID, object, "codecs",
					  "unknown codec %s; known: ulaw alaw g722 opus gsm g729",
					  dev->codecs[i] ? dev->codecs[i] : "(null)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(dev->codecs[i], dev->codecs[j]) == 0)
				return pbx_errorf(err, PBX_EINVALID, object, "codecs",
						  "codec %s is listed twice", dev->codecs[i]);
		len += strlen(dev->codecs[i]) + 1;
	}
	allow = malloc(len);
	if (!allow)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	allow[0] = '\0';
	for (size_t i = 0; i < dev->n_codecs; i++) {
		if (i)
			strcat(allow, ",");
		strcat(allow, dev->codecs[i]);
	}
	*ret = allow;
	return 0;
}

static int check_device(const struct pbx_rt_device *dev, const char *object, pbx_error *err)
{
	long len;

	if (!valid_name(dev->id, ID_MAX))
		return pbx_errorf(err, PBX_EINVALID, object, "id",
				  "device id must be 1 to %d characters of a-z 0-9 -", ID_MAX);
	if (!rt_valid_slug(dev->tenant))
		return pbx_errorf(err, PBX_EINVALID, object, "tenant",
				  "tenant must be a slug of a-z 0-9 - (at most 24)");
	if (!has_tenant_prefix(dev->id, dev->tenant))
		return pbx_errorf(err, PBX_EINVALID, object, "id",
				  "device id must start with %s-", dev->tenant);
	if (!dev->context || !*dev->context)
		return pbx_errorf(err, PBX_EINVALID, object, "context", "context is missing");
	if (strlen(dev->context) > CONTEXT_MAX)
		return pbx_errorf(err, PBX_EINVALID, object, "context",
				  "context %s is %zu characters long; ps_endpoints.context holds "
				  "at most %d", dev->context, strlen(dev->context), CONTEXT_MAX);
	if (!valid_name(dev->context, CONTEXT_MAX) || !has_tenant_prefix(dev->context, dev->tenant))
		return pbx_errorf(err, PBX_EINVALID, object, "context",
				  "context must be %s-... of a-z 0-9 -", dev->tenant);
	len = dev->password ? rt_utf8_len(dev->password) : -1;
	if (len < 1 || rt_has_control(dev->password))
		return pbx_errorf(err, PBX_EINVALID, object, "password",
				  "SIP password must be 1 to %d printable characters", PASSWORD_MAX);
	if (len > PASSWORD_MAX)
		return pbx_errorf(err, PBX_EINVALID, object, "password",
				  "SIP password is %ld characters long; ps_auths.password holds at "
				  "most %d", len, PASSWORD_MAX);
	if (!transport_of(dev->transport))
		return pbx_errorf(err, PBX_EINVALID, object, "transport",
				  "transport must be udp, tcp, tls or wss");
	return check_mailboxes(dev, object, err);
}

int pbx_rt_rowset_add_device(pbx_rt_rowset *set, const struct pbx_rt_device *dev,
			     pbx_error *err)
{
	static const char *const ep_cols[] = {
		"transport", "aors", "auth", "context", "disallow", "allow", "direct_media",
		"dtmf_mode", "force_rport", "mailboxes", "rewrite_contact", "rtp_symmetric",
		"callerid", "webrtc",
	};
	static const char *const auth_cols[] = { "auth_type", "password", "username" };
	/* Realtime AORs are never qualified (reference/ami/events-contact-status: contacts stay
	 * NonQualified), so an unplugged phone's contact lives until it expires: a registration
	 * of at most 60 s makes it "unregistered" within a minute (diag status). */
	static const char *const aor_cols[] = { "max_contacts", "remove_existing",
						"qualify_frequency", "minimum_expiration",
						"default_expiration", "maximum_expiration" };
	char object[PBX_ERR_OBJECT];
	char *allow = NULL, *callerid = NULL;
	bool wss;
	int r;

	snprintf(object, sizeof(object), "device %s", dev->id ? dev->id : "(null)");
	r = check_device(dev, object, err);
	if (r < 0)
		return r;
	r = check_codecs(dev, object, &allow, err);
	if (r < 0)
		return r;
	r = build_callerid(dev, object, &callerid, err);
	if (r < 0)
		goto cleanup;
	for (size_t i = 0; i < rt_n_tables; i++) {
		if (rt_rowset_lookup(set, &rt_tables[i], dev->id)) {
			r = pbx_errorf(err, PBX_ECONFLICT, object, "id",
				       "device id %s is used twice", dev->id);
			goto cleanup;
		}
	}
	wss = strcmp(dev->transport, "wss") == 0;
	{
		const char *ep_vals[] = {
			transport_of(dev->transport), dev->id, dev->id, dev->context, "all",
			allow, yesno(dev->direct_media && !wss), "rfc4733",
			yesno(dev->force_rport), dev->mailboxes, yesno(dev->rewrite_contact),
			yesno(dev->rtp_symmetric), callerid, wss ? "yes" : NULL,
		};
		const char *auth_vals[] = { "userpass", dev->password, dev->id };
		const char *aor_vals[] = { "1", "yes", "60", PBX_RT_AOR_MIN_EXPIRATION,
					   PBX_RT_AOR_EXPIRATION, PBX_RT_AOR_EXPIRATION };

		r = pbx_rt_rowset_add(set, "ps_endpoints", dev->id, dev->tenant, ep_cols, ep_vals,
				      sizeof(ep_cols) / sizeof(ep_cols[0]), err);
		if (r >= 0)
			r = pbx_rt_rowset_add(set, "ps_auths", dev->id, dev->tenant, auth_cols,
					      auth_vals, sizeof(auth_cols) / sizeof(auth_cols[0]),
					      err);
		if (r >= 0)
			r = pbx_rt_rowset_add(set, "ps_aors", dev->id, dev->tenant, aor_cols,
					      aor_vals, sizeof(aor_cols) / sizeof(aor_cols[0]), err);
	}
cleanup:
	free(allow);
	free(callerid);
	return r;
}
