/* SPDX-License-Identifier: MIT */
/*
 * Device and trunk status against the real PostgreSQL and MariaDB and the AMI peer: state
 * from the contacts' expiry, one AMI round trip for many devices, the 30 s cache shared by
 * invocations (file, mode, invalidation by apply), and refused input.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbx/apply.h"
#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/diag.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "diag-itest.h"
#include "testenv.h"

static struct diag_env env;

static void setup(void)
{
	diag_env_setup(&env);
}

static void teardown(void)
{
	diag_env_teardown(&env);
}

TestSuite(diag_status, .init = setup, .fini = teardown, .timeout = 60);

/* The row of @label in @rows. */
static size_t row_of(const struct pbx_rows *rows, const char *label)
{
	for (size_t i = 0; i < rows->n_rows; i++)
		if (!strcmp(pbx_rows_get(rows, i, "label"), label))
			return i;
	cr_fatal("no row for %s", label);
	return 0;
}

static void devices(const struct pbx_diag_device_query *q, struct pbx_rows *rows)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_diag_devices(env.ctx, q, rows, &err), 0), "%s", err.message);
}

Test(diag_status, registered_with_address_and_unregistered_without_contact)
{
	struct pbx_diag_device_query q = { .tenant = env.slug, .refresh = true };
	char line[512];
	struct pbx_rows rows;
	size_t a, b;

	diag_add_user(&env, "alice", 2);
	snprintf(line, sizeof(line), "%s sip:%s@192.0.2.10:5062 NonQualified N/A exp=%lld Yealink T46U\n",
		 diag_sip_username(&env, "alice", "phone 0"), diag_sip_username(&env, "alice", "phone 0"),
		 (long long)time(NULL) + 55);
	write_text(env.site.peer.contacts, line);
	devices(&q, &rows);
	cr_assert(eq(sz, rows.n_rows, 2));
	a = row_of(&rows, "phone 0");
	b = row_of(&rows, "phone 1");
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, a, "state"), "registered"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, a, "source_address"), "192.0.2.10"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, a, "source_port"), "5062"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, a, "user_agent"), "Yealink T46U"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, a, "reachability"), "NonQualified"));
	cr_assert(pbx_rows_get(&rows, a, "rtt_ms") == NULL);
	cr_assert_not_null(pbx_rows_get(&rows, a, "expires"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, b, "state"), "unregistered"));
	cr_assert(pbx_rows_get(&rows, b, "contact") == NULL);
	pbx_rows_free(&rows);
}

/* Asterisk keeps listing an expired contact until its periodic check prunes it: the expiry
 * decides, so an unplugged phone reads unregistered once its (at most 60 s) lease ends. */
Test(diag_status, unplugged_phone_is_unregistered_when_its_lease_ends)
{
	struct pbx_diag_device_query q = { .tenant = env.slug, .refresh = true };
	const char *id;
	char line[512];
	struct pbx_rows rows;

	diag_add_user(&env, "bob", 1);
	id = diag_sip_username(&env, "bob", "phone 0");
	snprintf(line, sizeof(line), "%s sip:%s@198.51.100.7 NonQualified N/A exp=%lld sipp\n", id, id,
		 (long long)time(NULL) - 1);
	write_text(env.site.peer.contacts, line);
	devices(&q, &rows);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "state"), "unregistered"));
	pbx_rows_free(&rows);
	/* registered while the lease runs, with the state filter */
	snprintf(line, sizeof(line), "%s sip:%s@198.51.100.7 NonQualified N/A exp=%lld sipp\n", id, id,
		 (long long)time(NULL) + 60);
	write_text(env.site.peer.contacts, line);
	q.state = "registered";
	devices(&q, &rows);
	cr_assert(eq(sz, rows.n_rows, 1));
	pbx_rows_free(&rows);
	q.state = "unregistered";
	devices(&q, &rows);
	cr_assert(eq(sz, rows.n_rows, 0));
	pbx_rows_free(&rows);
}

Test(diag_status, no_contacts_at_all_is_an_answer_not_an_error)
{
	struct pbx_diag_device_query q = { .tenant = env.slug, .refresh = true };
	struct pbx_rows rows;

	diag_add_user(&env, "carol", 1);
	write_text(env.site.peer.contacts, "");
	devices(&q, &rows);
	cr_assert(eq(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "state"), "unregistered"));
	pbx_rows_free(&rows);
}

Test(diag_status, many_devices_cost_one_round_trip_and_the_cache_is_shared)
{
	struct pbx_diag_device_query q = { .tenant = env.slug };
	struct pbx_rows rows;
	char path[4096];
	struct stat st;
	pbx_error err = PBX_ERROR_INIT;
	char *out = NULL, *errs = NULL;

	for (int i = 0; i < 6; i++) {
		char name[16];

		snprintf(name, sizeof(name), "u%d", i);
		diag_add_user(&env, name, 3);
	}
	devices(&q, &rows);
	cr_assert(eq(sz, rows.n_rows, 18));
	pbx_rows_free(&rows);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 1));
	/* the cache file: private, and read by a second call and by another process */
	cr_assert(eq(int, pbx_diag_cache_path(&env.cfg, path, sizeof(path), &err), 0));
	cr_assert(eq(int, stat(path, &st), 0), "no cache file %s", path);
	cr_assert(eq(int, st.st_mode & 0777, 0600));
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "devices", "--tenant", env.slug,
				   "-o", "json", NULL), 0), "%s", errs);
	cr_assert(strstr(out, "\"state\": \"unregistered\"") != NULL, "%s", out);
	free(out);
	free(errs);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 1),
		  "the second call and the CLI must use the cache");
	/* --refresh asks again */
	q.refresh = true;
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 2));
}

Test(diag_status, apply_invalidates_the_cache)
{
	struct pbx_diag_device_query q = { .tenant = env.slug };
	struct pbx_apply_opts o = { .tenant = env.slug };
	struct pbx_apply_result res;
	struct pbx_rows rows;
	char path[4096];
	pbx_error err = PBX_ERROR_INIT;

	diag_add_user(&env, "dave", 1);
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_diag_cache_path(&env.cfg, path, sizeof(path), &err), 0));
	cr_assert(eq(int, access(path, F_OK), 0));
	cr_assert(eq(int, pbx_apply(env.ctx, &o, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(ne(int, access(path, F_OK), 0), "apply left the status cache in place");
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 2));
}

Test(diag_status, a_cache_dir_others_can_write_is_never_trusted)
{
	struct pbx_diag_device_query q = { .tenant = env.slug };
	struct pbx_rows rows;

	diag_add_user(&env, "erin", 1);
	cr_assert(eq(int, chmod(env.cfg.cache_dir, 0777), 0));
	devices(&q, &rows);
	pbx_rows_free(&rows);
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 2));
}

/* Entries of @dir other than "." and ".." (temporary files included). */
static int entries(const char *dir)
{
	char cmd[600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert(eq(int, fscanf(p, "%d", &n), 1));
	pclose(p);
	return n;
}

/* The cache goes through apply's safe-path writer: a missing directory is made 0700, the
 * file is 0600 and no temporary file stays behind. */
Test(diag_status, the_cache_is_written_by_the_safe_path_writer)
{
	struct pbx_diag_device_query q = { .tenant = env.slug };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char path[4096];
	struct stat st;

	diag_add_user(&env, "gina", 1);
	free(env.cfg.cache_dir);
	env.cfg.cache_dir = strdup(diag_path(&env, "fresh/cache"));
	mkdir(diag_path(&env, "fresh"), 0755);
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, stat(env.cfg.cache_dir, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0700));
	cr_assert(eq(int, pbx_diag_cache_path(&env.cfg, path, sizeof(path), &err), 0), "%s",
		  err.message);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0600));
	cr_assert(eq(int, entries(env.cfg.cache_dir), 1));
	/* the second call is answered from it */
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 1));
}

/* A cache directory that is a symbolic link is refused: nothing is written through it, and
 * every call asks Asterisk again. */
Test(diag_status, a_cache_dir_that_is_a_link_is_not_written_through)
{
	struct pbx_diag_device_query q = { .tenant = env.slug };
	struct pbx_rows rows;

	diag_add_user(&env, "hugo", 1);
	cr_assert(eq(int, mkdir(diag_path(&env, "elsewhere"), 0700), 0));
	cr_assert(eq(int, symlink(diag_path(&env, "elsewhere"), diag_path(&env, "linked")), 0));
	free(env.cfg.cache_dir);
	env.cfg.cache_dir = strdup(diag_path(&env, "linked"));
	devices(&q, &rows);
	pbx_rows_free(&rows);
	devices(&q, &rows);
	pbx_rows_free(&rows);
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 2));
	cr_assert(eq(int, entries(diag_path(&env, "elsewhere")), 0));
}

Test(diag_status, refuses_a_bad_state_and_a_user_without_tenant)
{
	struct pbx_diag_device_query q = { .tenant = env.slug, .state = "online" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char *out = NULL, *errs = NULL;

	cr_assert(eq(int, pbx_diag_devices(env.ctx, &q, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "state"));
	cr_assert(strstr(err.message, "registered or unregistered") != NULL, "%s", err.message);
	q = (struct pbx_diag_device_query){ .user = "alice" };
	cr_assert(eq(int, pbx_diag_devices(env.ctx, &q, &rows, &err), PBX_EINVALID));
	cr_assert(eq(int, peer_count(&env.site.peer, "PJSIPShowContacts"), 0));
	cr_assert(eq(int, diag_run(&env, &out, &errs, "diag", "devices", "--state", "online", NULL), 2));
	cr_assert(strstr(errs, "state") != NULL, "%s", errs);
	free(out);
	free(errs);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "device", "status", "nobody", "--tenant",
				   env.slug, NULL), 4), "%s", errs);
	free(out);
	free(errs);
}

Test(diag_status, device_status_and_list_status_on_the_cli)
{
	const char *id;
	char line[512];
	char *out = NULL, *errs = NULL;

	diag_add_user(&env, "frank", 2);
	id = diag_sip_username(&env, "frank", "phone 1");
	snprintf(line, sizeof(line), "%s sip:%s@203.0.113.9:5080 Reachable 2500 exp=%lld Grandstream\n",
		 id, id, (long long)time(NULL) + 40);
	write_text(env.site.peer.contacts, line);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "device", "status", "frank", "phone 1",
				   "--tenant", env.slug, "-o", "json", NULL), 0), "%s", errs);
	cr_assert(strstr(out, "\"state\": \"registered\"") != NULL, "%s", out);
	cr_assert(strstr(out, "\"source_address\": \"203.0.113.9\"") != NULL, "%s", out);
	cr_assert(strstr(out, "\"source_port\": 5080") != NULL, "%s", out);
	cr_assert(strstr(out, "\"rtt_ms\": 2") != NULL, "%s", out);
	free(out);
	free(errs);
	cr_assert(eq(int, diag_run(&env, &out, &errs, "device", "list", "frank", "--status",
				   "--tenant", env.slug, NULL), 0), "%s", errs);
	cr_assert(strstr(out, "registered") != NULL, "%s", out);
	cr_assert(strstr(out, "unregistered") != NULL, "%s", out);
	free(out);
	free(errs);
}
