/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/secret/seal.c: round trips, fresh nonces, tamper and wrong-key detection,
 * and refusal of malformed sealed strings.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <sodium.h>

#include "pbx/secret.h"

#include "tmpdir.h"

TestSuite(secret_seal, .fini = test_tmpdir_remove);

#define TAMPERED "sealed secret failed authentication: tampered, or sealed with another key"
/* "v2:", 16 hex digits of key id, ":" */
#define HEAD 20

static pbx_secret_key *new_key(void)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;

	cr_assert(eq(int, pbx_secret_key_generate(&key, &err), 0), "%s", err.message);
	cr_assert_not_null(key);
	return key;
}

static char *seal(const pbx_secret_key *key, const char *plain)
{
	pbx_error err = PBX_ERROR_INIT;
	char *sealed = NULL;

	cr_assert(eq(int, pbx_secret_seal(key, plain, &sealed, &err), 0), "%s", err.message);
	cr_assert_not_null(sealed);
	return sealed;
}

/* Open @sealed expecting failure with @code; the output must stay untouched. */
static void assert_open_fails(const pbx_secret_key *key, const char *sealed, int code,
			      const char *message)
{
	pbx_error err = PBX_ERROR_INIT;
	char *plain = (char *)"untouched";

	cr_assert(eq(int, pbx_secret_open(key, sealed, &plain, &err), code),
		  "opening \"%s\" gave %d (%s)", sealed, err.code, err.message);
	cr_assert(eq(str, plain, "untouched"));
	if (message)
		cr_assert(eq(str, err.message, (char *)message), "for \"%s\"", sealed);
}

Test(secret_seal, round_trip)
{
	static const char *const texts[] = { "Xq7pRt9mKv2NwZbc4HsYe3Ju", "", "a",
					     "with spaces, \"quotes\" and ; semicolons",
					     "ünïcödé" };
	pbx_secret_key *key = new_key();
	pbx_error err = PBX_ERROR_INIT;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *sealed = seal(key, texts[i]), *plain = NULL;

		cr_assert(eq(int, pbx_secret_open(key, sealed, &plain, &err), 0), "%s",
			  err.message);
		cr_assert(eq(str, plain, (char *)texts[i]));
		pbx_secret_free_str(plain);
		free(sealed);
	}
	pbx_secret_key_free(key);
}

/* Printable, and nothing a careless SQL or shell quoting would trip over. */
static bool safe_in_text_column(char c)
{
	return isgraph((unsigned char)c) && c != '\'' && c != '\\' && c != '"';
}

Test(secret_seal, sealed_form_is_printable_and_hides_the_text)
{
	pbx_secret_key *key = new_key();
	char *sealed = seal(key, "Xq7pRt9mKv2NwZbc4HsYe3Ju");

	char head[64];

	snprintf(head, sizeof(head), "v2:%s:", pbx_secret_key_id(key));
	cr_assert(eq(int, strncmp(sealed, head, strlen(head)), 0), "%s", sealed);
	for (const char *p = sealed; *p; p++)
		cr_assert(safe_in_text_column(*p), "character 0x%02x in %s", (unsigned char)*p,
			  sealed);
	cr_assert_null(strstr(sealed, "Xq7pRt9m"));
	free(sealed);
	pbx_secret_key_free(key);
}

Test(secret_seal, round_trip_with_key_from_file)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *a = NULL, *b = NULL;
	char path[512], *sealed, *plain = NULL;

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_secret_key_load(path, &a, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_secret_key_load(path, &b, &err), 0), "%s", err.message);
	/* Sealed under one load, opened under another: the key survives the file. */
	sealed = seal(a, "s3cretPassw0rdXYZabcdefg");
	cr_assert(eq(int, pbx_secret_open(b, sealed, &plain, &err), 0), "%s", err.message);
	cr_assert(eq(str, plain, "s3cretPassw0rdXYZabcdefg"));
	pbx_secret_free_str(plain);
	free(sealed);
	pbx_secret_key_free(a);
	pbx_secret_key_free(b);
}

Test(secret_seal, same_text_seals_differently)
{
	pbx_secret_key *key = new_key();
	char *a = seal(key, "same secret"), *b = seal(key, "same secret");

	cr_assert(ne(str, a, b), "two seals gave %s", a);
	/* The ephemeral public key is the first 32 bytes after "v2:<id>:". */
	cr_assert(ne(int, strncmp(a + HEAD, b + HEAD, 40), 0));
	free(a);
	free(b);
	pbx_secret_key_free(key);
}

Test(secret_seal, longest_text_seals_and_longer_is_refused)
{
	pbx_secret_key *key = new_key();
	pbx_error err = PBX_ERROR_INIT;
	char text[PBX_SECRET_PLAIN_MAX + 2], *sealed = NULL, *plain = NULL;

	memset(text, 'x', PBX_SECRET_PLAIN_MAX);
	text[PBX_SECRET_PLAIN_MAX] = '\0';
	sealed = seal(key, text);
	cr_assert(eq(int, pbx_secret_open(key, sealed, &plain, &err), 0), "%s", err.message);
	cr_assert(eq(str, plain, text));
	pbx_secret_free_str(plain);
	free(sealed);
	sealed = NULL;

	text[PBX_SECRET_PLAIN_MAX] = 'x';
	text[PBX_SECRET_PLAIN_MAX + 1] = '\0';
	cr_assert(eq(int, pbx_secret_seal(key, text, &sealed, &err), PBX_EINVALID));
	cr_assert_null(sealed);
	cr_assert_not_null(strstr(err.message, "too long"), "%s", err.message);
	pbx_secret_key_free(key);
}

/* Re-encode a sealed string after flipping one bit of byte @i of its binary. */
static char *flip_byte(const char *sealed, size_t i, size_t *ret_len)
{
	unsigned char bin[256];
	size_t len = 0;
	char *out;

	cr_assert(eq(int, sodium_base642bin(bin, sizeof(bin), sealed + HEAD, strlen(sealed) - HEAD,
					     NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0));
	*ret_len = len;
	if (i >= len)
		return NULL;
	bin[i] ^= 0x01;
	out = malloc(strlen(sealed) + 1);
	cr_assert_not_null(out);
	memcpy(out, sealed, HEAD);
	sodium_bin2base64(out + HEAD, strlen(sealed) + 1 - HEAD, bin, len,
			  sodium_base64_VARIANT_ORIGINAL);
	cr_assert(eq(sz, strlen(out), strlen(sealed)));
	return out;
}

Test(secret_seal, every_flipped_byte_is_detected)
{
	pbx_secret_key *key = new_key();
	char *sealed = seal(key, "Xq7pRt9mKv2NwZbc4HsYe3Ju");
	size_t len = 0;

	/* Ephemeral key, MAC and ciphertext: every byte is covered by the authentication. */
	for (size_t i = 0;; i++) {
		char *bad = flip_byte(sealed, i, &len);

		if (!bad)
			break;
		assert_open_fails(key, bad, PBX_EINVALID, TAMPERED);
		free(bad);
	}
	cr_assert(eq(sz, len, (size_t)(32 + 16 + 24)));
	free(sealed);
	pbx_secret_key_free(key);
}

Test(secret_seal, changed_character_in_the_string_is_detected)
{
	pbx_secret_key *key = new_key();
	char *sealed = seal(key, "Xq7pRt9mKv2NwZbc4HsYe3Ju");
	size_t mid = strlen(sealed) / 2;

	sealed[mid] = sealed[mid] == 'A' ? 'B' : 'A';
	assert_open_fails(key, sealed, PBX_EINVALID, TAMPERED);
	free(sealed);
	pbx_secret_key_free(key);
}

Test(secret_seal, other_key_is_refused)
{
	pbx_secret_key *a = new_key(), *b = new_key();
	pbx_error err = PBX_ERROR_INIT;
	char *sealed = seal(a, "Xq7pRt9mKv2NwZbc4HsYe3Ju"), *plain = NULL;

	char want[128], *forged = strdup(sealed);

	snprintf(want, sizeof(want), "sealed secret was sealed with another key (%s), not with key %s",
		 pbx_secret_key_id(a), pbx_secret_key_id(b));
	assert_open_fails(b, sealed, PBX_EINVALID, want);
	/* Naming the other key's id does not help: the box does not open. */
	memcpy(forged + 3, pbx_secret_key_id(b), 16);
	assert_open_fails(b, forged, PBX_EINVALID, TAMPERED);
	free(forged);
	/* The partner: the right key still opens it. */
	cr_assert(eq(int, pbx_secret_open(a, sealed, &plain, &err), 0), "%s", err.message);
	pbx_secret_free_str(plain);
	free(sealed);
	pbx_secret_key_free(a);
	pbx_secret_key_free(b);
}

Test(secret_seal, malformed_strings_are_refused)
{
	/* Appended to "v2:<the key's id>:" unless they start with '!'. */
	static const char *const bad[] = {
		"!", "!v2:", "!v2", "!V2:0123456789abcdef:AAAA", "!v3:0123456789abcdef:AAAA",
		"!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
		"!v2:0123456789ABCDEF:AAAA", "!v2:0123456789abcdefAAAA", "!v2:0123:AAAA",
		"!!!!",
		"AAAA AAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		"AAAAAAAAAAAAAA==",          /* 10 bytes: shorter than key and MAC */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* 47 bytes */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* no padding */
	};
	pbx_secret_key *key = new_key();
	pbx_error err = PBX_ERROR_INIT;
	char *plain = NULL, s[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i][0] == '!')
			snprintf(s, sizeof(s), "%s", bad[i] + 1);
		else
			snprintf(s, sizeof(s), "v2:%s:%s", pbx_secret_key_id(key), bad[i]);
		assert_open_fails(key, s, PBX_EINVALID, NULL);
		(void)pbx_secret_open(key, s, &plain, &err);
		cr_assert(eq(int, strncmp(err.message, "sealed secret is malformed: ", 28), 0),
			  "for \"%s\": %s", s, err.message);
		cr_assert(eq(str, err.field, ""));
	}
	pbx_secret_key_free(key);
}

Test(secret_seal, overlong_string_is_refused_before_decoding)
{
	pbx_secret_key *key = new_key();
	size_t n = 64 * 1024;
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	snprintf(s, n, "v2:%s:", pbx_secret_key_id(key));
	memset(s + HEAD, 'A', n - HEAD);
	s[n] = '\0';
	assert_open_fails(key, s, PBX_EINVALID, "sealed secret is malformed: it is too long");
	free(s);
	pbx_secret_key_free(key);
}

/* A sealed value holding an inner NUL (never made by us) must not open as a shorter text. */
Test(secret_seal, inner_nul_is_refused)
{
	static const char raw[] = { 'a', 'b', '\0', 'c' };
	unsigned char key_bytes[32], bin[24 + 16 + sizeof(raw)];
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], text[128], sealed[128];
	size_t tag = strlen(PBX_SECRET_KEY_TAG);

	/* Build a legacy key file ourselves so the test knows the key bytes. */
	randombytes_buf(key_bytes, sizeof(key_bytes));
	memcpy(text, PBX_SECRET_LEGACY_KEY_TAG, tag);
	sodium_bin2base64(text + tag, sizeof(text) - tag, key_bytes, sizeof(key_bytes),
			  sodium_base64_VARIANT_ORIGINAL);
	test_write_file(path, sizeof(path), "known.key", text, strlen(text), 0600);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0), "%s", err.message);

	randombytes_buf(bin, 24);
	crypto_secretbox_easy(bin + 24, (const unsigned char *)raw, sizeof(raw), bin, key_bytes);
	memcpy(sealed, "v1:", 3);
	sodium_bin2base64(sealed + 3, sizeof(sealed) - 3, bin, sizeof(bin),
			  sodium_base64_VARIANT_ORIGINAL);
	assert_open_fails(key, sealed, PBX_EINVALID,
			  "sealed secret is malformed: its plaintext holds a NUL byte");
	pbx_secret_key_free(key);
}

/* Values of the earlier scheme keep opening with their legacy key until re-sealed. */
Test(secret_seal, legacy_value_opens_with_its_legacy_key_which_no_longer_seals)
{
	static const char raw[] = "Xq7pRt9mKv2NwZbc4HsYe3Ju";
	unsigned char key_bytes[32], bin[24 + 16 + sizeof(raw) - 1];
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *legacy = NULL, *box = new_key();
	char path[512], text[128], sealed[128], id[PBX_SECRET_KEY_ID_BUFSZ], *plain = NULL;
	char *out = NULL;
	size_t tag = strlen(PBX_SECRET_LEGACY_KEY_TAG);

	randombytes_buf(key_bytes, sizeof(key_bytes));
	memcpy(text, PBX_SECRET_LEGACY_KEY_TAG, tag);
	sodium_bin2base64(text + tag, sizeof(text) - tag, key_bytes, sizeof(key_bytes),
			  sodium_base64_VARIANT_ORIGINAL);
	test_write_file(path, sizeof(path), "legacy.key", text, strlen(text), 0600);
	cr_assert(eq(int, pbx_secret_key_load(path, &legacy, &err), 0), "%s", err.message);
	cr_assert(pbx_secret_key_is_legacy(legacy));
	cr_assert(eq(str, (char *)pbx_secret_key_id(legacy), "v1"));

	randombytes_buf(bin, 24);
	crypto_secretbox_easy(bin + 24, (const unsigned char *)raw, sizeof(raw) - 1, bin, key_bytes);
	memcpy(sealed, "v1:", 3);
	sodium_bin2base64(sealed + 3, sizeof(sealed) - 3, bin, sizeof(bin),
			  sodium_base64_VARIANT_ORIGINAL);
	cr_assert(eq(int, pbx_secret_sealed_key_id(sealed, id, sizeof(id), &err), 0));
	cr_assert(eq(str, id, "v1"));
	cr_assert(eq(int, pbx_secret_open(legacy, sealed, &plain, &err), 0), "%s", err.message);
	cr_assert(eq(str, plain, (char *)raw));
	pbx_secret_free_str(plain);
	/* A box key does not open it, and says which key would. */
	assert_open_fails(box, sealed, PBX_EINVALID, NULL);
	cr_assert(eq(int, pbx_secret_seal(legacy, "x", &out, &err), PBX_EINVALID));
	cr_assert_null(out);
	cr_assert_not_null(strstr(err.message, "pbxctl secrets rotate-key"), "%s", err.message);
	pbx_secret_key_free(legacy);
	pbx_secret_key_free(box);
}

/* The published half seals; only the private half opens. */
Test(secret_seal, public_key_seals_but_only_the_private_key_opens)
{
	pbx_secret_key *priv = new_key(), *pub = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char text[PBX_SECRET_PUBLIC_BUFSZ], id[PBX_SECRET_KEY_ID_BUFSZ], *sealed, *plain = NULL;

	cr_assert(eq(int, pbx_secret_key_public_text(priv, text, sizeof(text), &err), 0));
	cr_assert(eq(int, strncmp(text, PBX_SECRET_PUBLIC_TAG, 14), 0), "%s", text);
	cr_assert(eq(int, pbx_secret_key_from_public(text, &pub, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_secret_key_id(pub), (char *)pbx_secret_key_id(priv)));
	cr_assert(not(pbx_secret_key_can_open(pub)));
	cr_assert(pbx_secret_key_can_open(priv));
	sealed = seal(pub, "Xq7pRt9mKv2NwZbc4HsYe3Ju");
	cr_assert(eq(int, pbx_secret_sealed_key_id(sealed, id, sizeof(id), &err), 0));
	cr_assert(eq(str, id, (char *)pbx_secret_key_id(priv)));
	assert_open_fails(pub, sealed, PBX_EPERM, "opening a sealed secret needs the private key");
	cr_assert(eq(int, pbx_secret_open(priv, sealed, &plain, &err), 0), "%s", err.message);
	cr_assert(eq(str, plain, "Xq7pRt9mKv2NwZbc4HsYe3Ju"));
	pbx_secret_free_str(plain);
	free(sealed);
	pbx_secret_key_free(pub);
	pbx_secret_key_free(priv);
}

Test(secret_seal, malformed_public_keys_are_refused)
{
	static const char *const bad[] = {
		"", "pbxctl-pub-v2:", "pbxctl-key-v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"pbxctl-pub-v2:AAAA", "pbxctl-pub-v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"pbxctl-pub-v2:!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *pub = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, pbx_secret_key_from_public(bad[i], &pub, &err), PBX_EINVALID),
			  "\"%s\" was accepted", bad[i]);
		cr_assert_null(pub);
	}
	/* The partner: the well-formed text is a key. */
	cr_assert(eq(int, pbx_secret_key_from_public(
				  "pbxctl-pub-v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &pub, &err),
		     0), "%s", err.message);
	pbx_secret_key_free(pub);
}
