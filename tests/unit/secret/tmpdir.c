/* SPDX-License-Identifier: MIT */
/*
 * Temporary directory helpers for the secret tests: one mkdtemp directory per test
 * process (Criterion runs each test in its own process), cleaned up by the fini hook.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tmpdir.h"

static char dir[256];

const char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s/pbx-secret-test-XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
	return dir;
}

void test_path(char *buf, size_t n, const char *name)
{
	int len = snprintf(buf, n, "%s/%s", test_tmpdir(), name);

	cr_assert(len > 0 && (size_t)len < n, "path too long");
}

void test_write_file(char *buf, size_t n, const char *name, const void *data, size_t len,
		     unsigned mode)
{
	int fd;

	test_path(buf, n, name);
	fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0, "cannot create %s", buf);
	cr_assert(write(fd, data, len) == (ssize_t)len, "cannot write %s", buf);
	close(fd);
	cr_assert(chmod(buf, mode) == 0);
}

void test_tmpdir_remove(void)
{
	struct dirent *de;
	DIR *d;

	if (!dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			char p[512];

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(dir);
	dir[0] = '\0';
}
