/* SPDX-License-Identifier: MIT */
/*
 * Sealing SIP secrets at rest: crypto_secretbox_easy (XSalsa20-Poly1305) with a fresh
 * random nonce per seal, stored as "v1:" base64(nonce || ciphertext) so the value fits a
 * PostgreSQL text column and the version tag leaves room for another scheme later.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

#define TAG_LEN (sizeof(PBX_SECRET_SEALED_TAG) - 1)
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL
#define NONCE_LEN crypto_secretbox_NONCEBYTES
#define MAC_LEN crypto_secretbox_MACBYTES
/* The binary of the longest sealed value, and a bound on its text. */
#define SEALED_BIN_MAX (NONCE_LEN + MAC_LEN + PBX_SECRET_PLAIN_MAX)
#define SEALED_TEXT_MAX (TAG_LEN + sodium_base64_ENCODED_LEN(SEALED_BIN_MAX, B64_VARIANT))

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
	plain_len = strlen(plain);
	if (plain_len > PBX_SECRET_PLAIN_MAX)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "secret is too long to seal (%zu bytes, at most %d)",
				  plain_len, PBX_SECRET_PLAIN_MAX);

	bin_len = NONCE_LEN + MAC_LEN + plain_len;
	text_size = TAG_LEN + sodium_base64_ENCODED_LEN(bin_len, B64_VARIANT);
	bin = malloc(bin_len);
	text = malloc(text_size);
	if (!bin || !text) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory sealing a secret");
		goto cleanup;
	}
	randombytes_buf(bin, NONCE_LEN);
	if (crypto_secretbox_easy(bin + NONCE_LEN, (const unsigned char *)plain, plain_len,
				  bin, key->bytes) != 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "sealing a secret failed");
		goto cleanup;
	}
	memcpy(text, PBX_SECRET_SEALED_TAG, TAG_LEN);
	sodium_bin2base64(text + TAG_LEN, text_size - TAG_LEN, bin, bin_len, B64_VARIANT);
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

int pbx_secret_open(const pbx_secret_key *key, const char *sealed, char **ret_plain,
		    pbx_error *err)
{
	unsigned char *bin = NULL;
	char *plain = NULL;
	const char *b64, *end = NULL;
	size_t text_len, b64_len, bin_len = 0, plain_len = 0;
	int r;

	if (!key || !sealed)
		PBX_BUG("pbx_secret_open: key and sealed are required");
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;

	text_len = strlen(sealed);
	if (text_len < TAG_LEN || memcmp(sealed, PBX_SECRET_SEALED_TAG, TAG_LEN) != 0)
		return malformed("it does not start with " PBX_SECRET_SEALED_TAG, err);
	if (text_len > SEALED_TEXT_MAX)
		return malformed("it is too long", err);
	b64 = sealed + TAG_LEN;
	b64_len = text_len - TAG_LEN;

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
	if (bin_len < NONCE_LEN + MAC_LEN) {
		r = malformed("it is too short", err);
		goto cleanup;
	}
	plain_len = bin_len - NONCE_LEN - MAC_LEN;
	plain = malloc(plain_len + 1);
	if (!plain) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory opening a secret");
		goto cleanup;
	}
	if (crypto_secretbox_open_easy((unsigned char *)plain, bin + NONCE_LEN,
				       bin_len - NONCE_LEN, bin, key->bytes) != 0) {
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
