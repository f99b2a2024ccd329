/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/realtime/snapshot.c (files only, no database): a snapshot survives a
 * save and load unchanged, including NULLs and values with tabs, newlines and backslashes;
 * the file is mode 0600; SIP secrets are sealed in it, never in clear, and open only with
 * the key that sealed them; and broken files are refused with their line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"
#include "pbx/secret.h"

#include "realtime-internal.h"

static char dir[64];
static pbx_secret_key *key;

static void make_dir(void)
{
	pbx_error err = PBX_ERROR_INIT;

	snprintf(dir, sizeof(dir), "/tmp/pbx-rt-snap-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	cr_assert(eq(int, pbx_secret_key_generate(&key, &err), 0), "%s", err.message);
}

static void remove_dir(void)
{
	char cmd[128];

	pbx_secret_key_free(key);
	key = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert(eq(int, system(cmd), 0));
}

TestSuite(snapshot, .init = make_dir, .fini = remove_dir);

static struct pbx_rt_snapshot *sample(void)
{
	static const char *const codecs[] = { "ulaw" };
	struct pbx_rt_device dev = {
		.id = "acme-1", .tenant = "acme", .context = "acme-internal", .password = "p\\w",
		.transport = "udp", .codecs = codecs, .n_codecs = 1,
	};
	static const char *const cols[] = { "context", "callerid" };
	const char *odd[] = { "acme-x", "tab\there" };
	struct pbx_rt_snapshot *snap = calloc(1, sizeof(*snap));
	pbx_error err = PBX_ERROR_INIT;
	const char *values[32] = { NULL };
	const struct rt_table *t = rt_table_find("ps_endpoints");

	cr_assert(snap != NULL);
	snap->scope = strdup("acme");
	cr_assert(eq(int, pbx_rt_rowset_new(&snap->rows, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add_device(snap->rows, &dev, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add(snap->rows, "ps_endpoints", "acme-odd", "acme", cols,
					    odd, 2, &err), PBX_EINVALID));  /* tab refused */
	/* a raw row, as read back from MariaDB, may hold anything */
	values[rt_column_index(t, "callerid")] = "line\nbreak\\ and \\N and\ttab";
	values[rt_column_index(t, "context")] = "";
	cr_assert(eq(int, rt_rowset_add_raw(snap->rows, t, "acme-odd", "acme", values, false,
					    &err), 0));
	return snap;
}

static void assert_same(const struct pbx_rt_snapshot *a, const struct pbx_rt_snapshot *b)
{
	cr_assert(eq(str, a->scope ? a->scope : "*", b->scope ? b->scope : "*"));
	cr_assert(eq(sz, pbx_rt_rowset_count(a->rows), pbx_rt_rowset_count(b->rows)));
	for (size_t i = 0; i < pbx_rt_rowset_count(a->rows); i++) {
		const struct pbx_rt_row *x = pbx_rt_rowset_row(a->rows, i);
		const struct pbx_rt_row *y = pbx_rt_rowset_find(b->rows, x->table, x->id);

		cr_assert(y != NULL, "%s %s missing", x->table, x->id);
		cr_assert(eq(str, x->owner, y->owner));
		for (size_t c = 0; c < x->n_values; c++) {
			if (!x->values[c])
				cr_assert(y->values[c] == NULL, "%s should be NULL", x->columns[c]);
			else
				cr_assert(eq(str, x->values[c], y->values[c]));
		}
	}
}

Test(snapshot, save_and_load_round_trip_with_mode_0600)
{
	struct pbx_rt_snapshot *snap = sample(), *back = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/realtime.snap", dir);
	cr_assert(eq(int, pbx_rt_snapshot_save(snap, key, path, &err), 0), "%s", err.message);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600));
	cr_assert(eq(int, pbx_rt_snapshot_load(path, key, &back, &err), 0), "%s", err.message);
	assert_same(snap, back);
	cr_assert(eq(str, (char *)pbx_rt_row_value(pbx_rt_rowset_find(back->rows, "ps_endpoints",
								       "acme-odd"), "callerid"),
		     "line\nbreak\\ and \\N and\ttab"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(pbx_rt_rowset_find(back->rows, "ps_auths",
								       "acme-1"), "password"), "p\\w"));
	pbx_rt_snapshot_free(snap);
	pbx_rt_snapshot_free(back);
}

Test(snapshot, empty_snapshot_of_every_owner_round_trips)
{
	struct pbx_rt_snapshot snap = { .scope = NULL }, *back = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char path[128];

	cr_assert(eq(int, pbx_rt_rowset_new(&snap.rows, &err), 0));
	snprintf(path, sizeof(path), "%s/empty.snap", dir);
	cr_assert(eq(int, pbx_rt_snapshot_save(&snap, key, path, &err), 0));
	cr_assert(eq(int, pbx_rt_snapshot_load(path, key, &back, &err), 0), "%s", err.message);
	cr_assert(back->scope == NULL);
	cr_assert(eq(sz, pbx_rt_rowset_count(back->rows), 0));
	pbx_rt_rowset_free(snap.rows);
	pbx_rt_snapshot_free(back);
}

/* Write @text to a file and expect pbx_rt_snapshot_load to refuse it at @line. */
static void expect_refused(const char *text, int line)
{
	struct pbx_rt_snapshot *back = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bad.snap", dir);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(text, f);
	fclose(f);
	cr_assert(eq(int, pbx_rt_snapshot_load(path, key, &back, &err), PBX_EINVALID), "%s", text);
	cr_assert(eq(int, err.line, line), "%s: %s", text, err.message);
	cr_assert(back == NULL);
}

Test(snapshot, refuses_broken_files)
{
	expect_refused("", 0);
	expect_refused("hello\n", 1);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tNot Valid\n", 2);
	/* truncated: the end line is missing */
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tacme\n"
		       "row\tps_aors\tacme-1\tacme\tmax_contacts=1\n", 3);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tacme\n"
		       "row\tps_aors\tacme-1\tacme\tmax_contacts=1\nend\t2\n", 4);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tacme\n"
		       "row\tps_nothing\tacme-1\tacme\nend\t1\n", 3);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tacme\n"
		       "row\tps_aors\tacme-1\tacme\toutbound_proxy=sip:x\nend\t1\n", 3);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tacme\n"
		       "row\tps_aors\tacme-1\tacme\tmax_contacts=\\q\nend\t1\n", 3);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\tacme\n"
		       "row\tps_aors\tacme-1\tacme\nrow\tps_aors\tacme-1\tacme\nend\t2\n", 4);
	expect_refused("pbxctl-realtime-snapshot 1\nscope\t*\nend\t0\nextra\n", 4);
}

Test(snapshot, missing_file_is_not_found)
{
	struct pbx_rt_snapshot *back = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char path[128];

	snprintf(path, sizeof(path), "%s/none.snap", dir);
	cr_assert(eq(int, pbx_rt_snapshot_load(path, key, &back, &err), PBX_ENOTFOUND));
}

Test(snapshot, save_into_a_missing_directory_fails_cleanly)
{
	struct pbx_rt_snapshot *snap = sample();
	pbx_error err = PBX_ERROR_INIT;
	char path[128];

	snprintf(path, sizeof(path), "%s/no/such/dir.snap", dir);
	cr_assert(eq(int, pbx_rt_snapshot_save(snap, key, path, &err), PBX_ERROR));
	cr_assert(access(path, F_OK) != 0);
	pbx_rt_snapshot_free(snap);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	cr_assert(f != NULL);
	if (fread(buf, 1, 65535, f) == 0)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

Test(snapshot, secrets_are_sealed_in_the_file_and_open_only_with_the_key)
{
	struct pbx_rt_snapshot *snap = sample(), *back = NULL;
	pbx_secret_key *other = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char path[128], *text;

	snprintf(path, sizeof(path), "%s/sealed.snap", dir);
	cr_assert(eq(int, pbx_rt_snapshot_save(snap, key, path, &err), 0), "%s", err.message);
	text = slurp(path);
	cr_assert(eq(ptr, strstr(text, "p\\\\w"), NULL), "a secret in clear: %s", text);
	cr_assert(not(eq(ptr, strstr(text, "password=" PBX_SECRET_SEALED_TAG), NULL)), "%s", text);
	free(text);
	/* another key, or none, cannot open it: refused with the line, nothing returned */
	cr_assert(eq(int, pbx_secret_key_generate(&other, &err), 0));
	cr_assert(eq(int, pbx_rt_snapshot_load(path, other, &back, &err), PBX_EINVALID));
	cr_assert(not(eq(ptr, strstr(err.message, "password"), NULL)), "%s", err.message);
	cr_assert(gt(int, err.line, 2));
	cr_assert(back == NULL);
	cr_assert(eq(int, pbx_rt_snapshot_load(path, NULL, &back, &err), PBX_EINVALID));
	cr_assert(not(eq(ptr, strstr(err.message, "no key"), NULL)), "%s", err.message);
	pbx_secret_key_free(other);
	pbx_rt_snapshot_free(snap);
}

Test(snapshot, clear_format_1_files_are_still_read)
{
	struct pbx_rt_snapshot *back = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/old.snap", dir);
	f = fopen(path, "w");
	fputs("pbxctl-realtime-snapshot 1\nscope\tacme\n"
	      "row\tps_auths\tacme-1\tacme\tpassword=old-clear\nend\t1\n", f);
	fclose(f);
	cr_assert(eq(int, pbx_rt_snapshot_load(path, NULL, &back, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rt_row_value(pbx_rt_rowset_find(back->rows, "ps_auths",
								       "acme-1"), "password"), "old-clear"));
	pbx_rt_snapshot_free(back);
}
