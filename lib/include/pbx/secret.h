/* SPDX-License-Identifier: MIT */
/*
 * Secrets: the key file that opens SIP secrets sealed at rest (libsodium sealed boxes to an
 * X25519 public key, so that sealing needs only the public half), sealing and opening those
 * secrets as printable strings for PostgreSQL text columns, generating SIP
 * secrets and SIP usernames, checking PINs, and hashing PINs and passwords with argon2id.
 * Every function initialises libsodium itself (once, thread-safely), so callers need no
 * set-up. Plaintext secrets handed back to the caller must be released with
 * pbx_secret_free_str(), which wipes them before freeing.
 */
#ifndef PBX_SECRET_H
#define PBX_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbx/error.h"

/*
 * The first line of a private key file starts with this tag, followed by the base64 X25519
 * secret key (the public key is derived from it). Key files of the earlier scheme start
 * with PBX_SECRET_LEGACY_KEY_TAG and hold a secretbox key: they still load, and open the
 * values sealed with them ("v1:"), until `pbxctl secrets rotate-key` moves to sealed boxes.
 */
#define PBX_SECRET_KEY_TAG "pbxctl-key-v2:"
#define PBX_SECRET_LEGACY_KEY_TAG "pbxctl-key-v1:"
/* The printable public key (published in PostgreSQL): this tag and the base64 key. */
#define PBX_SECRET_PUBLIC_TAG "pbxctl-pub-v2:"
/* Room for the printable public key with its NUL. */
#define PBX_SECRET_PUBLIC_BUFSZ 64
/* Bytes of a key (crypto_box_SECRETKEYBYTES = crypto_box_PUBLICKEYBYTES = secretbox key). */
#define PBX_SECRET_KEY_BYTES 32
/* A key's id: 16 hex digits of a BLAKE2b hash of its public key; "v1" for a legacy key. */
#define PBX_SECRET_KEY_ID_LEN 16
#define PBX_SECRET_KEY_ID_BUFSZ (PBX_SECRET_KEY_ID_LEN + 1)
/*
 * Permission bits that make pbx_secret_key_load refuse a key file: any access for others
 * and group write. Group read stays allowed, since the security model lets the pbxctl
 * group read the key (mode 0640, group pbxctl); pbx_secret_key_init creates 0600.
 */
#define PBX_SECRET_KEY_FORBIDDEN_MODE 0027

/*
 * Sealed strings: "v2:<key id>:" base64(crypto_box_seal output), sealed to the public key
 * whose id is named; values of the earlier scheme are "v1:" base64(nonce || secretbox).
 */
#define PBX_SECRET_SEALED_TAG "v2:"
#define PBX_SECRET_LEGACY_SEALED_TAG "v1:"
/* Longest plaintext pbx_secret_seal accepts, in bytes. */
#define PBX_SECRET_PLAIN_MAX 1024

/* Generated SIP secrets: length and the buffer size (with the NUL) they need. */
#define PBX_SECRET_SIP_LEN 24
#define PBX_SECRET_SIP_BUFSZ (PBX_SECRET_SIP_LEN + 1)
/* Phone-friendly alphabet without look-alikes (0/O, 1/l/I) and without symbols. */
#define PBX_SECRET_SIP_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

/* Generated SIP usernames: "<slug>-" and this many random characters. */
#define PBX_SECRET_USERNAME_RANDOM_LEN 12
#define PBX_SECRET_USERNAME_ALPHABET "abcdefghijkmnpqrstuvwxyz23456789"
#define PBX_SECRET_SLUG_MAX 24
/* Longest username (an Asterisk endpoint id within a 40-character context) and its buffer. */
#define PBX_SECRET_USERNAME_MAX 40
#define PBX_SECRET_USERNAME_BUFSZ (PBX_SECRET_USERNAME_MAX + 1)

/* PIN length limits, in digits. */
#define PBX_SECRET_PIN_MIN 4
#define PBX_SECRET_PIN_MAX 10

/* argon2id parameters (OWASP minimum): passes, memory in KiB, lanes; salt and hash bytes. */
#define PBX_SECRET_ARGON2_T_COST 2
#define PBX_SECRET_ARGON2_M_COST 19456
#define PBX_SECRET_ARGON2_PARALLELISM 1
#define PBX_SECRET_ARGON2_SALT_BYTES 16
#define PBX_SECRET_ARGON2_HASH_BYTES 32
/* Room for an encoded hash ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" is 97 bytes). */
#define PBX_SECRET_HASH_BUFSZ 128
/* Longest password pbx_secret_hash_password accepts, in bytes. */
#define PBX_SECRET_PASSWORD_MAX 1024

/*
 * A loaded key; opaque. Kept in guarded, read-only memory (sodium_malloc). It is one of: a
 * private key (opens and seals), a public key only (seals; opening is PBX_EPERM), or a
 * legacy secretbox key of the earlier scheme (opens "v1:" values only; sealing with it is
 * PBX_EINVALID).
 */
typedef struct pbx_secret_key pbx_secret_key;

/*
 * Create a new private key file at @path holding a fresh random X25519 key pair, mode
 * 0600, written and fsync'd before returning. Never overwrites: the file is created with
 * O_EXCL|O_NOFOLLOW. Errors: PBX_ECONFLICT (the file exists), PBX_EINVALID (the directory
 * does not exist or is not a directory), PBX_EPERM (the directory is not writable),
 * PBX_ERROR (I/O).
 */
int pbx_secret_key_init(const char *path, pbx_error *err);

/*
 * Write the private key @key to a new file at @path as pbx_secret_key_init does (0600,
 * O_EXCL, fsync'd file and directory). Same errors; PBX_EINVALID for a key that is not
 * private.
 */
int pbx_secret_key_save(const pbx_secret_key *key, const char *path, pbx_error *err);

/*
 * Load the key file at @path into *@ret_key: a private key, or a legacy key. The file must
 * be a regular file whose mode has none of PBX_SECRET_KEY_FORBIDDEN_MODE. On success
 * *@ret_key is owned by the caller and released with pbx_secret_key_free(); on failure it
 * is left untouched. Errors: PBX_ENOTFOUND (no such file), PBX_EPERM (unreadable, or
 * readable by others), PBX_EINVALID (not a regular file, or not a pbxctl key).
 */
int pbx_secret_key_load(const char *path, pbx_secret_key **ret_key, pbx_error *err);

/*
 * Make a fresh random private key in memory (rotation writes it with
 * pbx_secret_key_save; tests use it directly). Ownership as for pbx_secret_key_load.
 * Errors: PBX_ERROR.
 */
int pbx_secret_key_generate(pbx_secret_key **ret_key, pbx_error *err);

/*
 * A public-only key from its printable form (PBX_SECRET_PUBLIC_TAG and base64), as
 * pbx_secret_key_public_text writes it. Ownership as for pbx_secret_key_load.
 * Errors: PBX_EINVALID (not a pbxctl public key), PBX_ERROR.
 */
int pbx_secret_key_from_public(const char *text, pbx_secret_key **ret_key, pbx_error *err);

/* The printable public key of a private or public key into @buf of @n bytes
 * (PBX_SECRET_PUBLIC_BUFSZ). Errors: PBX_EINVALID (legacy key, or @n too small). */
int pbx_secret_key_public_text(const pbx_secret_key *key, char *buf, size_t n,
			       pbx_error *err);

/* The key's id (PBX_SECRET_KEY_ID_LEN hex digits, or "v1" for a legacy key); owned by @key. */
const char *pbx_secret_key_id(const pbx_secret_key *key);

/* True when @key can open sealed values (a private or a legacy key). */
bool pbx_secret_key_can_open(const pbx_secret_key *key);

/* True for a legacy secretbox key (the earlier scheme). */
bool pbx_secret_key_is_legacy(const pbx_secret_key *key);

/*
 * Keep the key file @path also as @keep_path (a hard link: @path stays in place); an
 * existing @keep_path is left as it is. Errors: PBX_ERROR.
 */
int pbx_secret_key_keep(const char *path, const char *keep_path, pbx_error *err);

/* Move the key file @new_path over @path in one rename, made durable. Errors: PBX_ERROR. */
int pbx_secret_key_replace(const char *new_path, const char *path, pbx_error *err);

/* Wipe and free a key; NULL is allowed. */
void pbx_secret_key_free(pbx_secret_key *key);

/*
 * The id of the key that opens @sealed into @buf (PBX_SECRET_KEY_ID_BUFSZ bytes): 16 hex
 * digits for "v2:" values, "v1" for legacy values. Errors: PBX_EINVALID (malformed).
 */
int pbx_secret_sealed_key_id(const char *sealed, char *buf, size_t n, pbx_error *err);

/*
 * Seal @plain (a NUL-terminated string of at most PBX_SECRET_PLAIN_MAX bytes) to the
 * public half of @key (private or public) with crypto_box_seal into a printable string
 * "v2:<key id>:<base64>" for a text column. Each seal uses a fresh ephemeral key, so
 * sealing the same text twice gives different strings. *@ret_sealed is malloc'd and owned
 * by the caller (free(); it holds no secret). Errors: PBX_EINVALID (too long, or a legacy
 * key), PBX_ERROR (out of memory).
 */
int pbx_secret_seal(const pbx_secret_key *key, const char *plain, char **ret_sealed,
		    pbx_error *err);

/*
 * Open a string made by pbx_secret_seal with the private @key (or a "v1:" value of the
 * earlier scheme with its legacy key). On success *@ret_plain is a malloc'd NUL-terminated
 * plaintext owned by the caller, to be released with pbx_secret_free_str() (which wipes
 * it). On failure *@ret_plain is left untouched. Errors: PBX_EPERM when @key is a public
 * key only; PBX_EINVALID, with the message "sealed secret failed authentication: tampered,
 * or sealed with another key" when the ciphertext does not authenticate, "sealed secret
 * was sealed with another key (X), not with key Y" when the ids differ, or a message saying what is
 * wrong when the string is malformed; PBX_ERROR (out of memory).
 * The caller names the object (e.g. the device) in err->object.
 */
int pbx_secret_open(const pbx_secret_key *key, const char *sealed, char **ret_plain,
		    pbx_error *err);

/* Wipe (sodium_memzero over strlen) and free a string; NULL is allowed. */
void pbx_secret_free_str(char *s);

/* Wipe @n bytes at @p (sodium_memzero: not optimised away). */
void pbx_secret_wipe(void *p, size_t n);

/*
 * Write a new random SIP secret of PBX_SECRET_SIP_LEN characters from
 * PBX_SECRET_SIP_ALPHABET (each drawn uniformly) and a NUL into @buf of @n bytes
 * (at least PBX_SECRET_SIP_BUFSZ). Wipe the buffer when done with it.
 * Errors: PBX_EINVALID (buffer too small), PBX_ERROR (libsodium unusable).
 */
int pbx_secret_generate_sip(char *buf, size_t n, pbx_error *err);

/*
 * Write a new random SIP username "<tenant_slug>-" followed by
 * PBX_SECRET_USERNAME_RANDOM_LEN characters of PBX_SECRET_USERNAME_ALPHABET into @buf of
 * @n bytes (at least strlen(slug) + 14). It is random, so never derivable from an
 * extension. Errors: PBX_EINVALID, field "tenant" (slug not [a-z][a-z0-9-]* or longer
 * than PBX_SECRET_SLUG_MAX) or buffer too small; PBX_ERROR (libsodium unusable).
 */
int pbx_secret_generate_sip_username(const char *tenant_slug, char *buf, size_t n,
				     pbx_error *err);

/*
 * Check a voicemail/self-service PIN: PBX_SECRET_PIN_MIN to PBX_SECRET_PIN_MAX digits,
 * not all the same digit, not equal to @extension (which may be NULL), and not a
 * strictly monotone run of step 1 ("1234", "0123", "4321", "987654"; "7890" does not
 * wrap round, so it is allowed). Returns 0 or PBX_EINVALID with field "pin" and one of:
 * "pin must be 4 to 10 digits", "pin must not be all the same digit",
 * "pin must not equal the extension", "pin must not be a run like 1234".
 * The object is left empty for the caller to fill.
 */
int pbx_secret_pin_check(const char *pin, const char *extension, pbx_error *err);

/*
 * Hash @pin with argon2id (PBX_SECRET_ARGON2_* parameters, random 16-byte salt) into the
 * encoded form "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" in @ret_encoded of @n bytes
 * (PBX_SECRET_HASH_BUFSZ is enough). Does not apply pbx_secret_pin_check; call it first.
 * Errors: PBX_EINVALID (empty or longer than PBX_SECRET_PIN_MAX, buffer too small),
 * PBX_ERROR (argon2 failed, e.g. out of memory). The argon2 working memory is freed by
 * libargon2; callers wipe their own copy of the pin.
 */
int pbx_secret_pin_hash(const char *pin, char *ret_encoded, size_t n, pbx_error *err);

/*
 * Check @pin against an encoded argon2id hash. Returns 0 on match, PBX_EPERM on mismatch
 * ("pin does not match"), PBX_EINVALID when @encoded is not an argon2id hash, PBX_ERROR
 * when argon2 fails (e.g. out of memory).
 */
int pbx_secret_pin_verify(const char *encoded, const char *pin, pbx_error *err);

/*
 * The mailbox PIN verifier the dialplan checks (*98, pbx/dialplan.h): PBX_DP_PIN_SALT_LEN
 * random hex digits, then the 40 hex digits of SHA1(salt || @pin); NUL-terminated into
 * @ret of @n bytes (PBX_SECRET_VERIFIER_BUFSZ). A fast hash: whoever reads it finds the PIN
 * by trying them all, so it is kept sealed in PostgreSQL and only Asterisk's AstDB holds it
 * in the open. PBX_EINVALID (buffer), PBX_ERROR.
 */
#define PBX_SECRET_VERIFIER_BUFSZ 73
int pbx_secret_pin_verifier(const char *pin, char *ret, size_t n, pbx_error *err);

/* Does @pin match @verifier, computed exactly as the generated dialplan does? */
bool pbx_secret_pin_verifier_matches(const char *verifier, const char *pin);

/*
 * The same for passwords (field "password"): 1 to PBX_SECRET_PASSWORD_MAX bytes, no other
 * rule (strength policy belongs to the caller). Same encoding, parameters and codes;
 * a mismatch says "password does not match".
 */
int pbx_secret_hash_password(const char *password, char *ret_encoded, size_t n,
			     pbx_error *err);
int pbx_secret_verify_password(const char *encoded, const char *password, pbx_error *err);

#endif
