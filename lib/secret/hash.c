/* SPDX-License-Identifier: MIT */
/*
 * PINs and passwords: the PIN rules (length, no repeated digit, not the extension, no
 * step-1 run) and argon2id hashing in the standard encoded form, with the OWASP minimum
 * parameters (t=2, m=19 MiB, p=1) and a random 16-byte salt from libsodium.
 */
#include <stdbool.h>
#include <string.h>

#include <argon2.h>
#include <sodium.h>

#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

/* Each digit is the previous one plus @step (+1 ascending, -1 descending). */
static bool is_run(const char *pin, size_t len, int step)
{
	for (size_t i = 1; i < len; i++)
		if (pin[i] - pin[i - 1] != step)
			return false;
	return true;
}

int pbx_secret_pin_check(const char *pin, const char *extension, pbx_error *err)
{
	size_t len = pin ? strlen(pin) : 0;
	bool same = true;

	if (len < PBX_SECRET_PIN_MIN || len > PBX_SECRET_PIN_MAX)
		goto bad_length;
	for (size_t i = 0; i < len; i++) {
		if (pin[i] < '0' || pin[i] > '9')
			goto bad_length;
		if (pin[i] != pin[0])
			same = false;
	}
	if (same)
		return pbx_errorf(err, PBX_EINVALID, NULL, "pin",
				  "pin must not be all the same digit");
	if (extension && strcmp(pin, extension) == 0)
		return pbx_errorf(err, PBX_EINVALID, NULL, "pin",
				  "pin must not equal the extension");
	if (is_run(pin, len, 1) || is_run(pin, len, -1))
		return pbx_errorf(err, PBX_EINVALID, NULL, "pin",
				  "pin must not be a run like 1234");
	return 0;

bad_length:
	return pbx_errorf(err, PBX_EINVALID, NULL, "pin", "pin must be %d to %d digits",
			  PBX_SECRET_PIN_MIN, PBX_SECRET_PIN_MAX);
}

static int hash_encoded(const char *what, const char *value, size_t max, char *ret_encoded,
			size_t n, pbx_error *err)
{
	unsigned char salt[PBX_SECRET_ARGON2_SALT_BYTES];
	size_t len = value ? strlen(value) : 0;
	int r, a;

	if (len == 0)
		return pbx_errorf(err, PBX_EINVALID, NULL, what, "%s is empty", what);
	if (len > max)
		return pbx_errorf(err, PBX_EINVALID, NULL, what, "%s is longer than %zu bytes",
				  what, max);
	if (!ret_encoded || n < PBX_SECRET_HASH_BUFSZ)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "buffer too small for a %s hash (%zu bytes, need %d)", what,
				  ret_encoded ? n : 0, PBX_SECRET_HASH_BUFSZ);
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;
	randombytes_buf(salt, sizeof(salt));
	a = argon2id_hash_encoded(PBX_SECRET_ARGON2_T_COST, PBX_SECRET_ARGON2_M_COST,
				  PBX_SECRET_ARGON2_PARALLELISM, value, len, salt, sizeof(salt),
				  PBX_SECRET_ARGON2_HASH_BYTES, ret_encoded, n);
	if (a != ARGON2_OK) {
		ret_encoded[0] = '\0';
		return pbx_errorf(err, PBX_ERROR, NULL, what, "hashing the %s failed: %s", what,
				  argon2_error_message(a));
	}
	return 0;
}

static int verify_encoded(const char *what, const char *encoded, const char *value,
			  pbx_error *err)
{
	static const char prefix[] = "$argon2id$";
	int a;

	if (!encoded || strncmp(encoded, prefix, sizeof(prefix) - 1) != 0)
		return pbx_errorf(err, PBX_EINVALID, NULL, what,
				  "stored %s hash is not an argon2id hash", what);
	if (!value)
		return pbx_errorf(err, PBX_EPERM, NULL, what, "%s does not match", what);
	a = argon2id_verify(encoded, value, strlen(value));
	switch (a) {
	case ARGON2_OK:
		return 0;
	case ARGON2_VERIFY_MISMATCH:
		return pbx_errorf(err, PBX_EPERM, NULL, what, "%s does not match", what);
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return pbx_errorf(err, PBX_ERROR, NULL, what, "checking the %s failed: %s", what,
				  argon2_error_message(a));
	default:
		/* Decoding failures and out-of-range parameters: the stored value is bad. */
		return pbx_errorf(err, PBX_EINVALID, NULL, what,
				  "stored %s hash is malformed: %s", what, argon2_error_message(a));
	}
}

int pbx_secret_pin_hash(const char *pin, char *ret_encoded, size_t n, pbx_error *err)
{
	return hash_encoded("pin", pin, PBX_SECRET_PIN_MAX, ret_encoded, n, err);
}

int pbx_secret_pin_verify(const char *encoded, const char *pin, pbx_error *err)
{
	return verify_encoded("pin", encoded, pin, err);
}

int pbx_secret_hash_password(const char *password, char *ret_encoded, size_t n,
			     pbx_error *err)
{
	return hash_encoded("password", password, PBX_SECRET_PASSWORD_MAX, ret_encoded, n, err);
}

int pbx_secret_verify_password(const char *encoded, const char *password, pbx_error *err)
{
	return verify_encoded("password", encoded, password, err);
}
