/* SPDX-License-Identifier: MIT */
/*
 * Sealing SIP secrets at rest: crypto_box_seal (an ephemeral X25519 key, XSalsa20-Poly1305)
 * to the public key, so whoever may create a device can seal and only the holder of the
 * private key opens. Stored as "v2:<key id>:" base64(sealed box) so the value fits a
 * PostgreSQL text column and names the key that opens it. Values of the earlier scheme,
 * "v1:" base64(nonce || secretbox), still open with their legacy key until re-sealed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

#define TAG_LEN (sizeof(PBX_SECRET_SEALED_TAG) - 1)
_Static_assert(sizeof(PBX_SECRET_SEALED_TAG) == sizeof(PBX_SECRET_LEGACY_SEALED_TAG),
	       "sealed tags have one length");
/* "v2:" and the key id and ':' */
#define HEAD_LEN (TAG_LEN + PBX_SECRET_KEY_ID_LEN + 1)
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL
#define NONCE_LEN crypto_secretbox_NONCEBYTES
#define MAC_LEN crypto_secretbox_MACBYTES
#define BOX_LEN crypto_box_SEALBYTES
/* The binary of the longest sealed value, and a bound on its text. */
#define SEALED_BIN_MAX (NONCE_LEN + MAC_LEN + BOX_LEN + PBX_SECRET_PLAIN_MAX)
#define SEALED_TEXT_MAX (HEAD_LEN + sodium_base64_ENCODED_LEN(SEALED_BIN_MAX, B64_VARIANT))

static int oom(pbx_error *err)
{
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory sealing a secret");
}

int pbx_secret_seal(const pbx_secret_key *key, const char *plain, char **ret_sealed,
		    pbx_error *err)
{
	unsigned char *bin = NULL;
	char *text = NULL;
	size_t plain_len, bin_len, text_size;
	int r;

	if (!key || !plain)
		PBX_BUG("pbx_secret_seal: key and plain are required");
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;
	if (key->kind == PBX_KEY_LEGACY)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "the key file holds a legacy key (pbxctl-key-v1) that no longer seals; "
				  "run `pbxctl secrets rotate-key` to move to sealed boxes");
	plain_len = strlen(plain);
	if (plain_len > PBX_SECRET_PLAIN_MAX)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "secret is too long to seal (%zu bytes, at most %d)",
				  plain_len, PBX_SECRET_PLAIN_MAX);

	bin_len = BOX_LEN + plain_len;
	text_size = HEAD_LEN + sodium_base64_ENCODED_LEN(bin_len, B64_VARIANT);
	bin = malloc(bin_len);
	text = malloc(text_size);
	if (!bin || !text) {
		r = oom(err);
		goto cleanup;
	}
	if (crypto_box_seal(bin, (const unsigned char *)plain, plain_len, key->pk) != 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "sealing a secret failed");
		goto cleanup;
	}
	snprintf(text, text_size, "%s%s:", PBX_SECRET_SEALED_TAG, key->id);
	sodium_bin2base64(text + HEAD_LEN, text_size - HEAD_LEN, bin, bin_len, B64_VARIANT);
	*ret_sealed = text;
	text = NULL;
	r = 0;

cleanup:
	free(bin);
	free(text);
	return r;
}

static int malformed(const char *why, pbx_error *err)
{
	return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "sealed secret is malformed: %s", why);
}

static bool is_key_id(const char *s)
{
	for (int i = 0; i < PBX_SECRET_KEY_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int pbx_secret_sealed_key_id(const char *sealed, char *buf, size_t n, pbx_error *err)
{
	size_t len = strlen(sealed);

	if (n < PBX_SECRET_KEY_ID_BUFSZ)
		PBX_BUG("pbx_secret_sealed_key_id: buffer too small");
	if (len >= TAG_LEN && !memcmp(sealed, PBX_SECRET_LEGACY_SEALED_TAG, TAG_LEN)) {
		snprintf(buf, n, "v1");
		return 0;
	}
	if (len < TAG_LEN || memcmp(sealed, PBX_SECRET_SEALED_TAG, TAG_LEN) != 0)
		return malformed("it does not start with " PBX_SECRET_SEALED_TAG " or "
				 PBX_SECRET_LEGACY_SEALED_TAG, err);
	if (len < HEAD_LEN || !is_key_id(sealed + TAG_LEN) || sealed[HEAD_LEN - 1] != ':')
		return malformed("it does not name its key", err);
	memcpy(buf, sealed + TAG_LEN, PBX_SECRET_KEY_ID_LEN);
	buf[PBX_SECRET_KEY_ID_LEN] = '\0';
	return 0;
}

/* Decrypt @bin of @bin_len with @key into @plain (room for the plaintext); 0 or -1. */
static int decrypt(const pbx_secret_key *key, const unsigned char *bin, size_t bin_len,
		   unsigned char *plain)
{
	if (key->kind == PBX_KEY_LEGACY)
		return crypto_secretbox_open_easy(plain, bin + NONCE_LEN, bin_len - NONCE_LEN, bin,
						  key->bytes);
	return crypto_box_seal_open(plain, bin, bin_len, key->pk, key->bytes);
}

int pbx_secret_open(const pbx_secret_key *key, const char *sealed, char **ret_plain,
		    pbx_error *err)
{
	unsigned char *bin = NULL;
	char *plain = NULL, id[PBX_SECRET_KEY_ID_BUFSZ];
	const char *b64, *end = NULL;
	size_t text_len, b64_len, bin_len = 0, plain_len = 0, overhead;
	int r;

	if (!key || !sealed)
		PBX_BUG("pbx_secret_open: key and sealed are required");
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;
	if (key->kind == PBX_KEY_PUBLIC)
		return pbx_errorf(err, PBX_EPERM, NULL, NULL,
				  "opening a sealed secret needs the private key");
	if ((r = pbx_secret_sealed_key_id(sealed, id, sizeof(id), err)) < 0)
		return r;
	if (strcmp(id, key->id) != 0)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "sealed secret was sealed with another key (%s), not with key %s", id,
				  key->id);

	text_len = strlen(sealed);
	if (text_len > SEALED_TEXT_MAX)
		return malformed("it is too long", err);
	b64 = sealed + (key->kind == PBX_KEY_LEGACY ? TAG_LEN : HEAD_LEN);
	b64_len = text_len - (size_t)(b64 - sealed);
	overhead = key->kind == PBX_KEY_LEGACY ? NONCE_LEN + MAC_LEN : BOX_LEN;

	/* base64 never decodes to more bytes than it has characters. */
	bin = malloc(b64_len + 1);
	if (!bin) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory opening a secret");
		goto cleanup;
	}
	if (sodium_base642bin(bin, b64_len + 1, b64, b64_len, NULL, &bin_len, &end,
			      B64_VARIANT) != 0 || end != b64 + b64_len) {
		r = malformed("it is not valid base64", err);
		goto cleanup;
	}
	if (bin_len < overhead) {
		r = malformed("it is too short", err);
		goto cleanup;
	}
	plain_len = bin_len - overhead;
	plain = malloc(plain_len + 1);
	if (!plain) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory opening a secret");
		goto cleanup;
	}
	if (decrypt(key, bin, bin_len, (unsigned char *)plain) != 0) {
		r = pbx_errorf(err, PBX_EINVALID, NULL, NULL,
			       "sealed secret failed authentication: tampered, "
			       "or sealed with another key");
		goto cleanup;
	}
	plain[plain_len] = '\0';
	/* We only ever seal C strings; an inner NUL would silently truncate the secret. */
	if (memchr(plain, '\0', plain_len)) {
		r = malformed("its plaintext holds a NUL byte", err);
		goto cleanup;
	}
	*ret_plain = plain;
	plain = NULL;
	r = 0;

cleanup:
	if (plain) {
		sodium_memzero(plain, plain_len + 1);
		free(plain);
	}
	free(bin);
	return r;
}
