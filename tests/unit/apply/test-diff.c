/* SPDX-License-Identifier: MIT */
/*
 * lib/apply/files.c: the unified diff that `apply --dry-run` prints. Besides fixed cases, a
 * property test applies the printed hunks to the old text and must get the new text back.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../lib/apply/files.h"

static char *diff(const char *a, const char *b)
{
	pbx_error err;
	char *out = NULL;

	cr_assert(eq(int, pbx_diff_append(&out, "x.conf", a, b, &err), 0));
	return out;
}

static char *numbered(int n, int changed_at, int changed_at2)
{
	char *s = calloc(1, (size_t)n * 16 + 1);

	for (int i = 1; i <= n; i++)
		sprintf(s + strlen(s), "%s%d\n", i == changed_at || i == changed_at2 ? "new" : "line", i);
	return s;
}

Test(diff, identical_texts_print_nothing)
{
	char *a = numbered(10, 0, 0);

	cr_assert(eq(ptr, diff(a, a), NULL));
	free(a);
}

Test(diff, one_change_is_one_hunk_with_three_lines_of_context)
{
	char *a = numbered(20, 0, 0), *b = numbered(20, 10, 0), *d = diff(a, b);

	cr_assert(eq(str, d, "--- a/x.conf\n+++ b/x.conf\n@@ -7,7 +7,7 @@\n line7\n line8\n line9\n"
			     "-line10\n+new10\n line11\n line12\n line13\n"));
	free(a);
	free(b);
	free(d);
}

Test(diff, distant_changes_are_separate_hunks)
{
	char *a = numbered(40, 0, 0), *b = numbered(40, 5, 35), *d = diff(a, b);
	int hunks = 0;

	for (const char *p = d; (p = strstr(p, "\n@@ ")); p++)
		hunks++;
	cr_assert(eq(int, hunks, 2), "%s", d);
	cr_assert(not(eq(ptr, strstr(d, "@@ -32,7 +32,7 @@"), NULL)), "%s", d);
	free(a);
	free(b);
	free(d);
}

Test(diff, new_and_removed_files)
{
	char *d = diff(NULL, "a\nb\n");

	cr_assert(eq(str, d, "--- /dev/null\n+++ b/x.conf\n@@ -0,0 +1,2 @@\n+a\n+b\n"));
	free(d);
	d = diff("a\n", NULL);
	cr_assert(eq(str, d, "--- a/x.conf\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a\n"));
	free(d);
}

/* Apply the hunks of @d to @a; returns the result (malloc'd). */
static char *patch(const char *a, const char *d)
{
	char *out = calloc(1, strlen(a) + strlen(d) + 1), *copy = strdup(a), *save = NULL;
	const char *lines[4096];
	size_t n = 0, at = 0;
	const char *p = d;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	p = strstr(p, "\n+++ ");
	p = strchr(p + 1, '\n') + 1;
	while (*p) {
		size_t from, len;
		const char *nl = strchr(p, '\n');

		if (sscanf(p, "@@ -%zu,%zu", &from, &len) == 2) {
			size_t start = len ? from - 1 : from;

			while (at < start)
				sprintf(out + strlen(out), "%s\n", lines[at++]);
			p = nl + 1;
			continue;
		}
		if (*p == ' ') {
			sprintf(out + strlen(out), "%.*s\n", (int)(nl - p - 1), p + 1);
			at++;
		} else if (*p == '-') {
			at++;
		} else if (*p == '+') {
			sprintf(out + strlen(out), "%.*s\n", (int)(nl - p - 1), p + 1);
		}
		p = nl + 1;
	}
	while (at < n)
		sprintf(out + strlen(out), "%s\n", lines[at++]);
	free(copy);
	return out;
}

Test(diff, hunks_turn_the_old_text_into_the_new_one)
{
	srand(7);
	for (int round = 0; round < 300; round++) {
		char a[8192] = "", b[8192] = "";
		int na = rand() % 60, nb = 0;
		char *d;

		for (int i = 0; i < na; i++) {
			int v = rand() % 8;

			sprintf(a + strlen(a), "l%d\n", v);
			switch (rand() % 6) {
			case 0:
				break;                                        /* deleted */
			case 1:
				sprintf(b + strlen(b), "n%d\n", rand() % 8);  /* replaced */
				nb++;
				break;
			case 2:
				sprintf(b + strlen(b), "l%d\ni%d\n", v, rand() % 8); /* inserted */
				nb += 2;
				break;
			default:
				sprintf(b + strlen(b), "l%d\n", v);
				nb++;
			}
		}
		d = diff(a, b);
		if (!d) {
			cr_assert(eq(str, a, b));
			continue;
		}
		{
			char *got = patch(a, d);

			cr_assert(eq(str, got, b), "round %d\nold:\n%s\nnew:\n%s\ndiff:\n%s", round, a, b, d);
			free(got);
		}
		free(d);
	}
}
