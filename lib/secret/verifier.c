/* SPDX-License-Identifier: MIT */
/*
 * The mailbox PIN verifier that Asterisk's dialplan can check: a random salt of
 * PBX_DP_PIN_SALT_LEN hex digits followed by the 40 hex digits of SHA1(salt || PIN).
 * Asterisk has SHA1() and MD5() as dialplan functions and nothing slower, and
 * app_voicemail compares PINs in clear text, so this is the strongest check a stock
 * Asterisk can run by itself. It is not a password hash: a 4 to 10 digit PIN is found from
 * it by trying every PIN (pbxctl-user(1), SECURITY). The argon2id hash stays the record.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "pbx/dialplan.h"
#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

/* Hex SHA1 of @salt followed by @pin into @out (41 bytes). */
static int sha1_hex(const char *salt, const char *pin, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) &&
		 EVP_DigestUpdate(c, salt, strlen(salt)) && EVP_DigestUpdate(c, pin, strlen(pin)) &&
		 EVP_DigestFinal_ex(c, md, &n) && n == 20;

	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	sodium_bin2hex(out, 41, md, 20);
	sodium_memzero(md, sizeof(md));
	return 0;
}

int pbx_secret_pin_verifier(const char *pin, char *ret, size_t n, pbx_error *err)
{
	unsigned char salt[PBX_DP_PIN_SALT_LEN / 2];
	char hex[PBX_DP_PIN_SALT_LEN + 1];

	if (n < PBX_SECRET_VERIFIER_BUFSZ)
		return pbx_errorf(err, PBX_EINVALID, NULL, "pin", "verifier buffer too small");
	if (pbx_secret_sodium_ready(err) < 0)
		return err->code;
	randombytes_buf(salt, sizeof(salt));
	sodium_bin2hex(hex, sizeof(hex), salt, sizeof(salt));
	memcpy(ret, hex, PBX_DP_PIN_SALT_LEN);
	if (sha1_hex(hex, pin, ret + PBX_DP_PIN_SALT_LEN) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, "pin", "SHA1 is not available");
	return 0;
}

bool pbx_secret_pin_verifier_matches(const char *verifier, const char *pin)
{
	char salt[PBX_DP_PIN_SALT_LEN + 1], hash[41];
	bool ok;

	if (!verifier || !pin || strlen(verifier) != PBX_DP_PIN_VERIFIER_LEN)
		return false;
	memcpy(salt, verifier, PBX_DP_PIN_SALT_LEN);
	salt[PBX_DP_PIN_SALT_LEN] = '\0';
	if (sha1_hex(salt, pin, hash) < 0)
		return false;
	ok = sodium_memcmp(hash, verifier + PBX_DP_PIN_SALT_LEN, 40) == 0;
	sodium_memzero(hash, sizeof(hash));
	return ok;
}
