/* SPDX-License-Identifier: MIT */
/*
 * Random SIP credentials. Secrets use a phone-friendly alphabet without look-alikes or
 * symbols (nothing that breaks SIP digest, provisioning files or a reading over the
 * phone); usernames are the tenant slug and a random lower-case tail, so they match
 * Asterisk endpoint ids ([a-z0-9-]) and cannot be guessed from an extension.
 * The random bytes of a whole secret or username come from one randombytes_buf call (one
 * getrandom(2)), and each byte becomes a character by rejection sampling, so every
 * character of the alphabet is equally likely (no modulo bias).
 */
#include <string.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

/*
 * Fill @out with @len characters of @alphabet (2 to 256 symbols) and a NUL. A random byte b
 * is used only when it is below the largest multiple of the alphabet's size that a byte
 * holds, and then gives alphabet[b % size]: uniform, as randombytes_uniform is. The bytes
 * are fetched a pool at a time (a pool of 64 covers the 24 characters of a secret with
 * overwhelming probability; when it runs out, another is fetched) and wiped afterwards.
 */
static void fill_random(char *out, size_t len, const char *alphabet)
{
	unsigned char pool[64];
	size_t n = strlen(alphabet), limit = 256 - 256 % n, used = sizeof(pool);

	for (size_t i = 0; i < len;) {
		if (used == sizeof(pool)) {
			randombytes_buf(pool, sizeof(pool));
			used = 0;
		}
		if (pool[used] < limit)
			out[i++] = alphabet[pool[used] % n];
		used++;
	}
	out[len] = '\0';
	sodium_memzero(pool, sizeof(pool));
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
