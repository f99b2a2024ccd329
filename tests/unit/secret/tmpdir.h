/* SPDX-License-Identifier: MIT */
/*
 * A private temporary directory per test (mkdtemp), removed with everything in it when
 * the test ends, so key files never leak between tests or runs.
 */
#ifndef TEST_SECRET_TMPDIR_H
#define TEST_SECRET_TMPDIR_H

#include <stddef.h>

/* Create a fresh directory and return its path (static storage, valid until removal). */
const char *test_tmpdir(void);
/* Write "<tmpdir>/<name>" into @buf. */
void test_path(char *buf, size_t n, const char *name);
/* Write @len bytes of @data to "<tmpdir>/<name>" with @mode; returns the path in @buf. */
void test_write_file(char *buf, size_t n, const char *name, const void *data, size_t len,
		     unsigned mode);
/* Remove the directory and what is in it (one level deep; the tests make no more). */
void test_tmpdir_remove(void);

#endif
