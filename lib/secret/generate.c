/* SPDX-License-Identifier: MIT */
/*
 * Random SIP credentials. Secrets use a phone-friendly alphabet without look-alikes or
 * symbols (nothing that breaks SIP digest, provisioning files or a reading over the
 * phone); usernames are the tenant slug and a random lower-case tail, so they match
 * Asterisk endpoint ids ([a-z0-9-]) and cannot be guessed from an extension.
 * Every character is drawn with randombytes_uniform, so there is no modulo bias.
 */
#include <string.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

static void fill_random(char *out, size_t len, const char *alphabet)
{
	uint32_t n = (uint32_t)strlen(alphabet);

	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[randombytes_uniform(n)];
	out[len] = '\0';
}

int pbx_secret_generate_sip(char *buf, size_t n, pbx_error *err)
{
	int r;

	if (!buf || n < PBX_SECRET_SIP_BUFSZ)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "buffer too small for a SIP secret (%zu bytes, need %d)",
				  buf ? n : 0, PBX_SECRET_SIP_BUFSZ);
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;
	fill_random(buf, PBX_SECRET_SIP_LEN, PBX_SECRET_SIP_ALPHABET);
	return 0;
}

/* The DESIGN.md slug rule: [a-z][a-z0-9-]*, at most PBX_SECRET_SLUG_MAX characters. */
static int slug_ok(const char *s, size_t len)
{
	if (len == 0 || len > PBX_SECRET_SLUG_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int pbx_secret_generate_sip_username(const char *tenant_slug, char *buf, size_t n,
				     pbx_error *err)
{
	size_t slug_len, need;
	int r;

	if (!tenant_slug)
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant", "tenant slug is missing");
	slug_len = strlen(tenant_slug);
	if (slug_len > PBX_SECRET_SLUG_MAX)
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant slug is %zu characters; a SIP username needs it to be "
				  "at most %d", slug_len, PBX_SECRET_SLUG_MAX);
	if (!slug_ok(tenant_slug, slug_len))
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant slug \"%s\" is not [a-z][a-z0-9-]*", tenant_slug);
	need = slug_len + 1 + PBX_SECRET_USERNAME_RANDOM_LEN + 1;
	if (!buf || n < need)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "buffer too small for a SIP username (%zu bytes, need %zu)",
				  buf ? n : 0, need);
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;
	memcpy(buf, tenant_slug, slug_len);
	buf[slug_len] = '-';
	fill_random(buf + slug_len + 1, PBX_SECRET_USERNAME_RANDOM_LEN,
		    PBX_SECRET_USERNAME_ALPHABET);
	return 0;
}
