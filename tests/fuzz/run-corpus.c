/* SPDX-License-Identifier: MIT */
/*
 * A main() for the fuzz harnesses outside libFuzzer: runs LLVMFuzzerTestOneInput once on
 * every file named on the command line and every file inside a named directory, and prints
 * TAP, one line per file. A broken invariant aborts, which fails the test.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int count;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		printf("not ok %d - cannot read %s\n", ++count, path);
		exit(1);
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	printf("ok %d - %s\n", ++count, path);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;
		DIR *d;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			run_file(argv[i]);
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.') {
				names = realloc(names, (n + 1) * sizeof(*names));
				if (!names || asprintf(&names[n++], "%s/%s", argv[i], de->d_name) < 0)
					abort();
			}
		if (d)
			closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		for (size_t k = 0; k < n; k++) {
			run_file(names[k]);
			free(names[k]);
		}
		free(names);
	}
	printf("1..%d\n", count);
	return count > 0 ? 0 : 1;
}
