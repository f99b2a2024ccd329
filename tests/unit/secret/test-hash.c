/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/secret/hash.c: each PIN rule with its message and field, and argon2id
 * hashing and verification of PINs and passwords.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/secret.h"

static void assert_pin_refused(const char *pin, const char *ext, const char *message)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_secret_pin_check(pin, ext, &err), PBX_EINVALID),
		  "pin \"%s\" accepted", pin ? pin : "(null)");
	cr_assert(eq(str, err.field, "pin"));
	cr_assert(eq(str, err.message, (char *)message), "for pin \"%s\"", pin ? pin : "(null)");
}

Test(secret_pin, good_pins_are_accepted)
{
	static const char *const good[] = { "2580", "7890", "1357", "0987", "13579", "1123",
					    "9081726354", "0001", "1235" };
	pbx_error err = PBX_ERROR_INIT;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(eq(int, pbx_secret_pin_check(good[i], "1000", &err), 0), "%s: %s",
			  good[i], err.message);
	/* No extension to compare with. */
	cr_assert(eq(int, pbx_secret_pin_check("1000", NULL, &err), 0), "%s", err.message);
}

Test(secret_pin, wrong_length_or_non_digits_are_refused)
{
	static const char *const bad[] = { "", "1", "123", "12345678901", "12a4", " 2580",
					   "2580 ", "+2580", "25-80", "２５８０" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_pin_refused(bad[i], "1000", "pin must be 4 to 10 digits");
	assert_pin_refused(NULL, "1000", "pin must be 4 to 10 digits");
}

Test(secret_pin, same_digit_is_refused)
{
	assert_pin_refused("1111", "1000", "pin must not be all the same digit");
	assert_pin_refused("0000000000", "1000", "pin must not be all the same digit");
}

Test(secret_pin, extension_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;

	assert_pin_refused("2001", "2001", "pin must not equal the extension");
	assert_pin_refused("100042", "100042", "pin must not equal the extension");
	/* The partner: another extension's number is fine. */
	cr_assert(eq(int, pbx_secret_pin_check("2001", "2002", &err), 0), "%s", err.message);
}

Test(secret_pin, step_one_runs_are_refused)
{
	static const char *const runs[] = { "1234", "0123", "4321", "3210", "987654",
					    "0123456789", "9876543210", "56789" };

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		assert_pin_refused(runs[i], "1000", "pin must not be a run like 1234");
}

Test(secret_pin, hash_and_verify_round_trip)
{
	pbx_error err = PBX_ERROR_INIT;
	char encoded[PBX_SECRET_HASH_BUFSZ], prefix[64];

	cr_assert(eq(int, pbx_secret_pin_hash("2580", encoded, sizeof(encoded), &err), 0), "%s",
		  err.message);
	cr_assert_not_null(strstr(encoded, "$argon2id$"), "%s", encoded);
	snprintf(prefix, sizeof(prefix), "$argon2id$v=19$m=%d,t=%d,p=%d$",
		 PBX_SECRET_ARGON2_M_COST, PBX_SECRET_ARGON2_T_COST,
		 PBX_SECRET_ARGON2_PARALLELISM);
	cr_assert(eq(int, strncmp(encoded, prefix, strlen(prefix)), 0), "%s", encoded);
	cr_assert_null(strstr(encoded, "2580"), "the pin appears in %s", encoded);
	cr_assert(eq(int, pbx_secret_pin_verify(encoded, "2580", &err), 0), "%s", err.message);
}

Test(secret_pin, verify_mismatch_is_permission_denied)
{
	pbx_error err = PBX_ERROR_INIT;
	char encoded[PBX_SECRET_HASH_BUFSZ];

	cr_assert(eq(int, pbx_secret_pin_hash("2580", encoded, sizeof(encoded), &err), 0));
	cr_assert(eq(int, pbx_secret_pin_verify(encoded, "2581", &err), PBX_EPERM));
	cr_assert(eq(str, err.message, "pin does not match"));
	cr_assert(eq(str, err.field, "pin"));
	cr_assert(eq(int, pbx_secret_pin_verify(encoded, "25800", &err), PBX_EPERM));
	cr_assert(eq(int, pbx_secret_pin_verify(encoded, "", &err), PBX_EPERM));
}

Test(secret_pin, same_pin_hashes_differently)
{
	pbx_error err = PBX_ERROR_INIT;
	char a[PBX_SECRET_HASH_BUFSZ], b[PBX_SECRET_HASH_BUFSZ];

	cr_assert(eq(int, pbx_secret_pin_hash("2580", a, sizeof(a), &err), 0));
	cr_assert(eq(int, pbx_secret_pin_hash("2580", b, sizeof(b), &err), 0));
	cr_assert(ne(str, a, b), "no random salt: %s", a);
	cr_assert(eq(int, pbx_secret_pin_verify(b, "2580", &err), 0));
}

Test(secret_pin, verify_refuses_malformed_or_other_hashes)
{
	/* An argon2i hash (not id) of "password" from the reference implementation's tests. */
	static const char *const bad[] = {
		"",
		"2580",
		"$argon2id$",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!!$!!!!",
		"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
		"$2y$10$abcdefghijklmnopqrstuu5Vh3nJ3bYQ0nL5v6VXqJ1jR0mQ4mFHa",
	};
	pbx_error err = PBX_ERROR_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, pbx_secret_pin_verify(bad[i], "2580", &err), PBX_EINVALID),
			  "\"%s\" gave %d: %s", bad[i], err.code, err.message);
		cr_assert(eq(str, err.field, "pin"));
	}
	cr_assert(eq(int, pbx_secret_pin_verify(NULL, "2580", &err), PBX_EINVALID));
}

Test(secret_pin, hash_refuses_empty_pin_and_small_buffer)
{
	pbx_error err = PBX_ERROR_INIT;
	char encoded[PBX_SECRET_HASH_BUFSZ];

	cr_assert(eq(int, pbx_secret_pin_hash("", encoded, sizeof(encoded), &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "pin"));
	cr_assert(eq(int, pbx_secret_pin_hash(NULL, encoded, sizeof(encoded), &err),
		     PBX_EINVALID));
	cr_assert(eq(int, pbx_secret_pin_hash("2580", encoded, 64, &err), PBX_EINVALID));
	cr_assert_not_null(strstr(err.message, "buffer too small"), "%s", err.message);
}

Test(secret_password, hash_and_verify_round_trip_and_mismatch)
{
	pbx_error err = PBX_ERROR_INIT;
	char encoded[PBX_SECRET_HASH_BUFSZ];

	cr_assert(eq(int, pbx_secret_hash_password("correct horse battery staple", encoded,
						   sizeof(encoded), &err), 0), "%s", err.message);
	cr_assert(eq(int, strncmp(encoded, "$argon2id$", 10), 0), "%s", encoded);
	cr_assert_null(strstr(encoded, "horse"));
	cr_assert(eq(int, pbx_secret_verify_password(encoded, "correct horse battery staple",
						     &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_secret_verify_password(encoded, "correct horse battery stapler",
						     &err), PBX_EPERM));
	cr_assert(eq(str, err.message, "password does not match"));
	cr_assert(eq(str, err.field, "password"));
}

Test(secret_password, empty_and_overlong_are_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	char encoded[PBX_SECRET_HASH_BUFSZ], big[PBX_SECRET_PASSWORD_MAX + 2];

	cr_assert(eq(int, pbx_secret_hash_password("", encoded, sizeof(encoded), &err),
		     PBX_EINVALID));
	cr_assert(eq(str, err.field, "password"));
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert(eq(int, pbx_secret_hash_password(big, encoded, sizeof(encoded), &err),
		     PBX_EINVALID));
	big[PBX_SECRET_PASSWORD_MAX] = '\0';
	cr_assert(eq(int, pbx_secret_hash_password(big, encoded, sizeof(encoded), &err), 0),
		  "%s", err.message);
}
