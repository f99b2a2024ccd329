/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/secret/generate.c: SIP secrets (length, alphabet, uniqueness, spread) and
 * SIP usernames (tenant prefix, length, charset, refusal of bad or long slugs).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/secret.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static bool is_letter_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* What an Asterisk endpoint id of ours may hold (apart from the '-' after the slug). */
static bool is_endpoint_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

Test(secret_generate, sip_secret_is_long_enough_and_from_the_alphabet)
{
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_SIP_BUFSZ];

	cr_assert(eq(int, pbx_secret_generate_sip(buf, sizeof(buf), &err), 0), "%s", err.message);
	cr_assert(ge(sz, strlen(buf), (size_t)20));
	cr_assert(eq(sz, strlen(buf), (size_t)PBX_SECRET_SIP_LEN));
	for (const char *p = buf; *p; p++)
		cr_assert_not_null(strchr(PBX_SECRET_SIP_ALPHABET, *p), "'%c' in %s", *p, buf);
	pbx_secret_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert(eq(chr, buf[i], '\0'));
}

Test(secret_generate, sip_alphabet_has_no_look_alikes_or_symbols)
{
	const char *a = PBX_SECRET_SIP_ALPHABET;

	for (const char *p = "0O1lI"; *p; p++)
		cr_assert_null(strchr(a, *p), "look-alike '%c' in the alphabet", *p);
	for (const char *p = a; *p; p++)
		cr_assert(is_letter_or_digit(*p), "'%c' in the alphabet", *p);
	cr_assert(eq(sz, strlen(a), (size_t)57));
}

Test(secret_generate, thousand_sip_secrets_are_distinct_and_spread)
{
	enum { N = 1000 };
	static char all[N][PBX_SECRET_SIP_BUFSZ];
	size_t alpha = strlen(PBX_SECRET_SIP_ALPHABET);
	unsigned counts[128] = { 0 };
	pbx_error err = PBX_ERROR_INIT;

	for (int i = 0; i < N; i++) {
		cr_assert(eq(int, pbx_secret_generate_sip(all[i], sizeof(all[i]), &err), 0));
		for (const char *p = all[i]; *p; p++)
			counts[(unsigned char)*p]++;
	}
	qsort(all, N, sizeof(all[0]), cmp_str);
	for (int i = 1; i < N; i++)
		cr_assert(ne(str, all[i - 1], all[i]), "duplicate secret %s", all[i]);
	/*
	 * 24 000 draws over 57 symbols: about 421 each, standard deviation about 20. Every
	 * symbol must appear, and none may be far off; the bounds are over 8 deviations wide.
	 */
	for (const char *p = PBX_SECRET_SIP_ALPHABET; *p; p++) {
		unsigned c = counts[(unsigned char)*p];

		cr_assert(c > 250 && c < 600, "'%c' drawn %u times of %u", *p, c,
			  (unsigned)(N * PBX_SECRET_SIP_LEN / alpha));
	}
}

Test(secret_generate, sip_secrets_show_no_modulo_bias)
{
	enum { N = 2000 };
	const char *a = PBX_SECRET_SIP_ALPHABET;
	size_t alpha = strlen(a), low = 256 % alpha;
	unsigned long in_low = 0, total = 0;
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_SIP_BUFSZ];

	/*
	 * A byte taken modulo 57 without rejection would favour the first 256 % 57 = 28
	 * symbols (5 chances in 256 each instead of 4): they would get 54.7 % of the draws
	 * instead of 28/57 = 49.1 %. Over 48 000 draws the standard deviation of that share is
	 * 0.23 points; the bound is 1.5 points either way.
	 */
	for (int i = 0; i < N; i++) {
		cr_assert(eq(int, pbx_secret_generate_sip(buf, sizeof(buf), &err), 0));
		for (const char *p = buf; *p; p++, total++)
			in_low += (size_t)(strchr(a, *p) - a) < low;
	}
	pbx_secret_wipe(buf, sizeof(buf));
	cr_assert(eq(sz, low, (size_t)28));
	cr_assert(eq(ulong, total, (unsigned long)N * PBX_SECRET_SIP_LEN));
	{
		double share = (double)in_low / (double)total, want = (double)low / (double)alpha;

		cr_assert(share > want - 0.015 && share < want + 0.015,
			  "the first %zu symbols got %.2f %% of the draws, %.2f %% expected", low,
			  100 * share, 100 * want);
	}
}

Test(secret_generate, sip_secret_refuses_small_buffer)
{
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_SIP_BUFSZ];

	cr_assert(eq(int, pbx_secret_generate_sip(buf, PBX_SECRET_SIP_BUFSZ - 1, &err),
		     PBX_EINVALID));
	cr_assert_not_null(strstr(err.message, "buffer too small"), "%s", err.message);
	cr_assert(eq(int, pbx_secret_generate_sip(NULL, 100, &err), PBX_EINVALID));
}

static void assert_username(const char *slug, const char *name)
{
	size_t slug_len = strlen(slug);

	cr_assert(eq(int, strncmp(name, slug, slug_len), 0), "%s", name);
	cr_assert(eq(chr, name[slug_len], '-'), "%s", name);
	cr_assert(eq(sz, strlen(name), slug_len + 1 + PBX_SECRET_USERNAME_RANDOM_LEN));
	cr_assert(le(sz, strlen(name), (size_t)PBX_SECRET_USERNAME_MAX));
	for (const char *p = name + slug_len + 1; *p; p++)
		cr_assert_not_null(strchr(PBX_SECRET_USERNAME_ALPHABET, *p), "'%c' in %s", *p,
				   name);
}

Test(secret_generate, username_has_prefix_length_and_charset)
{
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_USERNAME_BUFSZ];

	cr_assert(eq(int, pbx_secret_generate_sip_username("acme", buf, sizeof(buf), &err), 0),
		  "%s", err.message);
	assert_username("acme", buf);
	cr_assert(eq(int, pbx_secret_generate_sip_username("a", buf, sizeof(buf), &err), 0));
	assert_username("a", buf);
	cr_assert(eq(int, pbx_secret_generate_sip_username("big-co-2", buf, sizeof(buf), &err),
		     0));
	assert_username("big-co-2", buf);
	/* Endpoint ids are [a-z0-9-]: the alphabet must be lower case digits and letters. */
	for (const char *p = PBX_SECRET_USERNAME_ALPHABET; *p; p++)
		cr_assert(is_endpoint_char(*p), "'%c' in the alphabet", *p);
}

Test(secret_generate, username_with_longest_slug_fits_40)
{
	static const char slug[] = "abcdefghijklmnopqrstuvwx";
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_USERNAME_BUFSZ];

	cr_assert(eq(sz, strlen(slug), (size_t)PBX_SECRET_SLUG_MAX));
	cr_assert(eq(int, pbx_secret_generate_sip_username(slug, buf, sizeof(buf), &err), 0),
		  "%s", err.message);
	assert_username(slug, buf);
}

Test(secret_generate, username_refuses_too_long_slug)
{
	pbx_error err = PBX_ERROR_INIT;
	char buf[128] = "";

	cr_assert(eq(int, pbx_secret_generate_sip_username("abcdefghijklmnopqrstuvwxy", buf,
							   sizeof(buf), &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "tenant"));
	cr_assert_not_null(strstr(err.message, "at most 24"), "%s", err.message);
	cr_assert(eq(str, buf, ""));
}

Test(secret_generate, username_refuses_bad_slug)
{
	static const char *const bad[] = { "", "Acme", "1acme", "-acme", "ac_me", "acme.x",
					   "ac me", "acmé" };
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_USERNAME_BUFSZ];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, pbx_secret_generate_sip_username(bad[i], buf, sizeof(buf), &err),
			     PBX_EINVALID), "slug \"%s\" accepted", bad[i]);
		cr_assert(eq(str, err.field, "tenant"));
	}
	cr_assert(eq(int, pbx_secret_generate_sip_username(NULL, buf, sizeof(buf), &err),
		     PBX_EINVALID));
}

Test(secret_generate, username_refuses_small_buffer)
{
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_USERNAME_BUFSZ];

	/* "acme-" + 12 + NUL = 18 bytes. */
	cr_assert(eq(int, pbx_secret_generate_sip_username("acme", buf, 17, &err),
		     PBX_EINVALID));
	cr_assert_not_null(strstr(err.message, "buffer too small"), "%s", err.message);
	cr_assert(eq(int, pbx_secret_generate_sip_username("acme", buf, 18, &err), 0));
}

Test(secret_generate, thousand_usernames_are_spread_over_the_alphabet)
{
	enum { N = 1000 };
	size_t alpha = strlen(PBX_SECRET_USERNAME_ALPHABET);
	unsigned counts[128] = { 0 };
	pbx_error err = PBX_ERROR_INIT;
	char buf[PBX_SECRET_USERNAME_BUFSZ];

	for (int i = 0; i < N; i++) {
		cr_assert(eq(int, pbx_secret_generate_sip_username("acme", buf, sizeof(buf), &err),
			     0));
		for (const char *p = buf + strlen("acme-"); *p; p++)
			counts[(unsigned char)*p]++;
	}
	/*
	 * 12 000 draws over 32 symbols: 375 each, standard deviation about 19. Every symbol
	 * must appear and none may be far off (the bounds are over 6 deviations wide), and
	 * nothing outside the alphabet may appear at all.
	 */
	for (int c = 0; c < 128; c++) {
		if (strchr(PBX_SECRET_USERNAME_ALPHABET, c) && c)
			cr_assert(counts[c] > 250 && counts[c] < 500, "'%c' drawn %u times of %u", c,
				  counts[c], (unsigned)(N * PBX_SECRET_USERNAME_RANDOM_LEN / alpha));
		else
			cr_assert(eq(uint, counts[c], 0), "'%c' drawn %u times", c, counts[c]);
	}
}

Test(secret_generate, thousand_usernames_are_distinct)
{
	enum { N = 1000 };
	static char all[N][PBX_SECRET_USERNAME_BUFSZ];
	pbx_error err = PBX_ERROR_INIT;

	for (int i = 0; i < N; i++)
		cr_assert(eq(int, pbx_secret_generate_sip_username("acme", all[i], sizeof(all[i]),
								   &err), 0));
	qsort(all, N, sizeof(all[0]), cmp_str);
	for (int i = 1; i < N; i++)
		cr_assert(ne(str, all[i - 1], all[i]), "duplicate username %s", all[i]);
}
