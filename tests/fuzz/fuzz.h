/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer harnesses share: the entry point libFuzzer calls, and the check that
 * turns a broken invariant into a crash libFuzzer records (with the input that caused it).
 * The same harnesses also link run-corpus.c instead of libFuzzer in ordinary builds, so the
 * seed corpora run as a test with gcc and the sanitizers too.
 */
#ifndef PBX_FUZZ_H
#define PBX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                         \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ", __FILE__,  \
				__LINE__, #cond);                                      \
			fprintf(stderr, __VA_ARGS__);                                  \
			fputc('\n', stderr);                                           \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* Copy @data into a NUL-terminated string (embedded NULs end it early); free() it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

/* True when @s (@n bytes) has no byte below 0x20 other than tab, and no DEL. */
static inline int fuzz_one_line(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

#endif
