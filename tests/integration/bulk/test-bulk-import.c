/* SPDX-License-Identifier: MIT */
/*
 * pbx_bulk_import against the real PostgreSQL: create, idempotence, updates, prune,
 * restore of soft-deleted users, extension allocation by the rules of `user create`,
 * swaps, problems that need the database (each with its place in the file), the single
 * transaction, audit rows and their chain, and PINs.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "pbx/device.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "bulk-itest.h"

TestSuite(bulk_import, .init = bi_setup, .fini = bi_teardown);

#define ACME \
	"tenants:\n" \
	"- slug: %s\n" \
	"  name: Acme\n" \
	"  extensions: 1000-1999\n" \
	"  users:\n" \
	"  - username: alice\n" \
	"    extension: 1001\n" \
	"    devices:\n" \
	"    - label: desk\n" \
	"    - label: soft\n" \
	"      transport: tls\n" \
	"  - username: bob\n" \
	"    email: bob@example.com\n" \
	"    devices:\n" \
	"    - label: desk\n"

static long audit_rows(const char *slug)
{
	return bi_sql_long("SELECT count(*) FROM audit_log WHERE tenant = $1", slug, NULL);
}

static char *ext_of(const char *slug, const char *user)
{
	return bi_sql("SELECT u.extension FROM users u JOIN tenants t ON t.id = u.tenant_id "
		      "WHERE t.slug = $1 AND u.username = $2", slug, user);
}

static void assert_ext(const char *slug, const char *user, const char *want)
{
	char *e = ext_of(slug, user);

	cr_assert(eq(str, e, (char *)want), "%s's extension", user);
	free(e);
}

static void import_ok(struct bi_result *res)
{
	if (res->r < 0)
		for (size_t i = 0; i < res->diag.n; i++)
			fprintf(stderr, "  %s: %s\n", res->diag.items[i].object, res->diag.items[i].message);
	cr_assert(eq(int, res->r, 0), "%s: %s", res->diag.n ? res->diag.items[0].object : "",
		  res->diag.n ? res->diag.items[0].message : "");
}

Test(bulk_import, creates_everything_then_a_second_import_changes_nothing)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "idem");
	bi_import(&res, false, false, NULL, ACME, slug);
	import_ok(&res);
	cr_assert(res.changed);
	cr_assert(eq(long, bi_count(&res, "tenants_created"), 1));
	cr_assert(eq(long, bi_count(&res, "users_created"), 2));
	cr_assert(eq(long, bi_count(&res, "devices_created"), 3));
	cr_assert(eq(long, bi_count(&res, "audit_rows"), 6));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.summary, 0, "result"), "changed"));
	bi_free(&res);
	assert_ext(slug, "alice", "1001");
	assert_ext(slug, "bob", "1000");
	cr_assert(eq(long, audit_rows(slug), 6));

	bi_import(&res, false, false, NULL, ACME, slug);
	import_ok(&res);
	cr_assert_not(res.changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.summary, 0, "result"), "nothing to change"));
	cr_assert(eq(sz, res.changes.n_rows, 0));
	cr_assert(eq(long, bi_count(&res, "audit_rows"), 0));
	bi_free(&res);
	cr_assert(eq(long, audit_rows(slug), 6));
}

Test(bulk_import, audit_rows_carry_masked_images_and_the_chain_verifies)
{
	struct bi_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *img;

	bi_slug(slug, "audit");
	bi_import(&res, false, false, NULL, ACME, slug);
	import_ok(&res);
	bi_free(&res);
	img = bi_sql("SELECT after::text FROM audit_log WHERE tenant = $1 AND entity = 'device' "
		     "ORDER BY id LIMIT 1", slug, NULL);
	cr_assert_not_null(strstr(img, "\"secret\": \"********\""));
	cr_assert_null(strstr(img, "v2:"), "the sealed secret reached the audit log");
	free(img);
	img = bi_sql("SELECT after->>'username' FROM audit_log WHERE tenant = $1 AND entity = 'user' "
		     "AND action = 'create' ORDER BY id LIMIT 1", slug, NULL);
	cr_assert(eq(str, img, "alice"));
	free(img);
	cr_assert(eq(int, pbx_audit_verify(bi_ctx, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "ok"));
	pbx_rows_free(&rows);
}

Test(bulk_import, dry_run_plans_and_writes_nothing)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "dry");
	bi_import(&res, true, false, NULL, ACME, slug);
	import_ok(&res);
	cr_assert(res.changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.summary, 0, "result"), "would change"));
	cr_assert(eq(sz, res.changes.n_rows, 6));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 0, "action"), "create"));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 0, "entity"), "tenant"));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 1, "detail"), "extension 1001"));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 2, "detail"), "extension 1000"));
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug = $1", slug, NULL), 0));
	cr_assert(eq(long, audit_rows(slug), 0));
}

Test(bulk_import, updates_only_what_differs_and_audits_before_and_after)
{
	struct bi_result res;
	char slug[32], *v;

	bi_slug(slug, "upd");
	bi_import(&res, false, false, NULL, ACME, slug);
	import_ok(&res);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: alice\n    name: Alice Archer\n"
		  "    devices:\n    - label: soft\n      codecs: [opus]\n", slug);
	import_ok(&res);
	cr_assert(res.changed);
	cr_assert(eq(long, bi_count(&res, "users_updated"), 1));
	cr_assert(eq(long, bi_count(&res, "devices_updated"), 1));
	cr_assert(eq(long, bi_count(&res, "devices_deleted"), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 0, "detail"), "name"));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 1, "detail"), "codecs"));
	bi_free(&res);
	v = bi_sql("SELECT before->>'name' || ' -> ' || (after->>'name') FROM audit_log "
		   "WHERE tenant = $1 AND entity = 'user' AND action = 'update'", slug, NULL);
	cr_assert(eq(str, v, "alice -> Alice Archer"));
	free(v);
	/* Keys left out keep their values: bob and the desk phones are untouched. */
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM devices d JOIN tenants t ON "
				       "t.id = d.tenant_id WHERE t.slug = $1", slug, NULL), 3));
	v = bi_sql("SELECT email FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1 "
		   "AND username = 'bob'", slug, NULL);
	cr_assert(eq(str, v, "bob@example.com"));
	free(v);
}

Test(bulk_import, explicit_null_clears_an_optional_value)
{
	struct bi_result res;
	char slug[32], *v;

	bi_slug(slug, "null");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: bob\n    email: null\n", slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_updated"), 1));
	bi_free(&res);
	v = bi_sql("SELECT coalesce(email, 'NULL') FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1 AND username = 'bob'", slug, NULL);
	cr_assert(eq(str, v, "NULL"));
	free(v);
}

Test(bulk_import, prune_deletes_what_the_file_does_not_list)
{
	struct bi_result res;
	char slug[32], *v;

	bi_slug(slug, "prune");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, true, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: alice\n    devices:\n"
		  "    - label: desk\n", slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_deleted"), 1));
	cr_assert(eq(long, bi_count(&res, "devices_deleted"), 2));
	bi_free(&res);
	/* bob is soft-deleted, as `user delete` does: the row stays, its devices go. */
	v = bi_sql("SELECT u.status FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1 AND username = 'bob'", slug, NULL);
	cr_assert(eq(str, v, "deleted"));
	free(v);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM devices d JOIN tenants t ON "
				       "t.id = d.tenant_id WHERE t.slug = $1", slug, NULL), 1));
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM audit_log WHERE tenant = $1 AND "
				       "action = 'delete'", slug, NULL), 3));
}

Test(bulk_import, without_prune_nothing_is_deleted)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "keep");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: alice\n    devices: []\n", slug);
	import_ok(&res);
	cr_assert_not(res.changed);
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM devices d JOIN tenants t ON "
				       "t.id = d.tenant_id WHERE t.slug = $1", slug, NULL), 3));
}

Test(bulk_import, a_listed_soft_deleted_user_is_restored_on_its_extension)
{
	struct bi_result res;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32];
	bool changed;

	bi_slug(slug, "restore");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	cr_assert(eq(int, pbx_user_delete(bi_ctx, slug, "alice", false, NULL, &changed, &err), 0));
	bi_import(&res, false, false, NULL, ACME, slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_restored"), 1));
	/* `user delete` removed alice's devices; the file lists them, so they come back new. */
	cr_assert(eq(long, bi_count(&res, "devices_created"), 2));
	bi_free(&res);
	assert_ext(slug, "alice", "1001");
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM audit_log WHERE tenant = $1 AND "
				       "action = 'restore'", slug, NULL), 1));
}

Test(bulk_import, a_restored_user_whose_extension_was_taken_gets_a_new_one)
{
	struct bi_result res;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32];
	bool changed;

	bi_slug(slug, "retake");
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-105\n  users:\n"
		  "  - username: a\n  - username: b\n", slug);
	import_ok(&res);
	bi_free(&res);
	assert_ext(slug, "a", "100");
	cr_assert(eq(int, pbx_user_delete(bi_ctx, slug, "a", false, NULL, &changed, &err), 0));
	/* c takes 100 explicitly, so a cannot have it back. */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: c\n    extension: 100\n"
		  "  - username: a\n", slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_restored"), 1));
	bi_free(&res);
	assert_ext(slug, "c", "100");
	assert_ext(slug, "a", "102");
}

Test(bulk_import, allocation_follows_the_rules_of_user_create)
{
	struct bi_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32];
	bool changed;

	bi_slug(slug, "alloc");
	/* Pointer at 10; 11 is taken explicitly; d gets deleted so 13 stays taken. */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 10-15\n  users:\n"
		  "  - username: a\n  - username: b\n    extension: 11\n  - username: c\n"
		  "  - username: d\n", slug);
	import_ok(&res);
	bi_free(&res);
	assert_ext(slug, "a", "10");
	assert_ext(slug, "b", "11");
	assert_ext(slug, "c", "12");
	assert_ext(slug, "d", "13");
	cr_assert(eq(int, pbx_user_delete(bi_ctx, slug, "d", false, NULL, &changed, &err), 0));
	cr_assert(eq(int, pbx_user_delete(bi_ctx, slug, "a", false, NULL, &changed, &err), 0));
	/* The pointer (14) skips nothing free; then, at the end, the lowest free: 10, then 13. */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: e\n  - username: f\n"
		  "  - username: g\n  - username: h\n", slug);
	import_ok(&res);
	bi_free(&res);
	assert_ext(slug, "e", "14");
	assert_ext(slug, "f", "15");
	assert_ext(slug, "g", "10");
	assert_ext(slug, "h", "13");
	cr_assert(eq(int, pbx_tenant_show(bi_ctx, slug, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "ext_next"), "16"));
	pbx_rows_free(&rows);
}

Test(bulk_import, a_full_range_is_an_error_naming_the_range_and_nothing_is_written)
{
	struct bi_result res;
	const pbx_error *e;
	char slug[32];

	bi_slug(slug, "full");
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 10-11\n  users:\n"
		  "  - username: a\n  - username: b\n  - username: c\n  - username: d\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "no free extension is left");
	cr_assert_not_null(e);
	cr_assert_not_null(strstr(e->message, "range 10-11 for 2 user(s)"));
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[2]"));
	cr_assert(eq(int, e->line, 7));
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug = $1", slug, NULL), 0));
}

Test(bulk_import, an_extension_held_by_an_unlisted_user_is_reported_where_the_file_gives_it)
{
	struct bi_result res;
	const pbx_error *e;
	char slug[32];

	bi_slug(slug, "taken");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: carol\n    extension: 1001\n"
		  "  - username: dave\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "extension 1001 is already alice's");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[0].extension"));
	cr_assert(eq(int, e->line, 5));
	cr_assert(eq(int, e->column, 16));
	cr_assert(eq(str, (char *)e->file, "t.yaml"));
	bi_free(&res);
	/* One transaction: dave, who was fine, was not created either. */
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM users u JOIN tenants t ON "
				       "t.id = u.tenant_id WHERE t.slug = $1", slug, NULL), 2));
}

Test(bulk_import, an_extension_outside_the_stored_range_is_reported)
{
	struct bi_result res;
	const pbx_error *e;
	char slug[32];

	char want[96];

	bi_slug(slug, "range");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: alice\n    extension: 2050\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "is outside");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[0].extension"));
	snprintf(want, sizeof(want), "2050 is outside %s's range 1000-1999", slug);
	cr_assert(eq(str, (char *)e->message, want));
	bi_free(&res);
}

Test(bulk_import, extensions_can_be_swapped_in_one_import)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "swap");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  users:\n  - username: alice\n    extension: 1000\n"
		  "  - username: bob\n    extension: 1001\n", slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_updated"), 2));
	bi_free(&res);
	assert_ext(slug, "alice", "1000");
	assert_ext(slug, "bob", "1001");
}

Test(bulk_import, a_narrower_range_that_leaves_users_outside_is_refused)
{
	struct bi_result res;
	const pbx_error *e;
	char slug[32];

	bi_slug(slug, "narrow");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 1000-1000\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	bi_free(&res);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 1001-1100\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "would leave 1 assigned extension(s) outside (1000..1000)");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].extensions"));
	bi_free(&res);
	/* Moving bob in the same file makes the same range fine. */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 1001-1100\n  users:\n  - username: bob\n"
		  "    extension: 1002\n", slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "tenants_updated"), 1));
	bi_free(&res);
}

Test(bulk_import, a_new_tenant_needs_a_range)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "norange");
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  users:\n  - username: a\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "give its extensions range"));
	bi_free(&res);
}

Test(bulk_import, pins_are_hashed_kept_when_repeated_and_changed_when_different)
{
	struct bi_result res;
	char slug[32], *h1, *h2;
	const char *q = "SELECT pin_hash FROM users u JOIN tenants t ON t.id = u.tenant_id "
			"WHERE t.slug = $1 AND username = 'alice'";

	bi_slug(slug, "pin");
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  extensions: 1000-1999\n"
		  "  users:\n  - username: alice\n    pin: \"80417\"\n", slug);
	import_ok(&res);
	bi_free(&res);
	h1 = bi_sql(q, slug, NULL);
	cr_assert_not_null(strstr(h1, "$argon2id$"));
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  users:\n  - username: alice\n"
		  "    pin: \"80417\"\n", slug);
	import_ok(&res);
	cr_assert_not(res.changed);
	bi_free(&res);
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  users:\n  - username: alice\n"
		  "    pin: \"52913\"\n", slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_updated"), 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 0, "detail"), "pin"));
	bi_free(&res);
	h2 = bi_sql(q, slug, NULL);
	cr_assert(ne(str, h1, h2));
	free(h1);
	free(h2);
	h1 = bi_sql("SELECT after::text FROM audit_log WHERE tenant = $1 AND action = 'update'",
		    slug, NULL);
	cr_assert_null(strstr(h1, "argon2"), "the PIN hash reached the audit log");
	free(h1);
}

Test(bulk_import, a_pin_equal_to_an_allocated_extension_is_refused)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "pinext");
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  extensions: 8041-8049\n"
		  "  users:\n  - username: alice\n    pin: \"8041\"\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "pin must not equal the extension"));
	bi_free(&res);
}

Test(bulk_import, new_devices_without_a_key_fail_and_write_nothing)
{
	struct bi_result res;
	char slug[32];
	char *saved = bi_cfg.key_file;

	bi_slug(slug, "nokey");
	bi_cfg.key_file = strdup("/nonexistent/pbxctl.key");
	bi_import(&res, false, false, NULL, ACME, slug);
	cr_assert(eq(int, res.r, PBX_ENOTFOUND));
	bi_free(&res);
	free(bi_cfg.key_file);
	bi_cfg.key_file = saved;
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug = $1", slug, NULL), 0));
}

Test(bulk_import, several_tenants_with_overlapping_ranges_stay_apart)
{
	struct bi_result res;
	char a[32], b[32];

	bi_slug(a, "ova");
	bi_slug(b, "ovb");
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  users:\n  - username: x\n"
		  "    extension: 100\n  - username: y\n- slug: %s\n  extensions: 100-199\n"
		  "  users:\n  - username: x\n    extension: 100\n  - username: y\n", a, b);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "users_created"), 4));
	bi_free(&res);
	assert_ext(a, "y", "101");
	assert_ext(b, "x", "100");
	assert_ext(b, "y", "101");
}

Test(bulk_import, audit_images_of_created_rows_have_the_keys_and_values_of_the_cli_ones)
{
	struct pbx_user_spec us = PBX_USER_SPEC_INIT;
	struct pbx_device_spec ds = PBX_DEVICE_SPEC_INIT;
	struct bi_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], *same;

	bi_slug(slug, "image");
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 1000-1999\n  users:\n  - username: alice\n"
		  "    name: Same Name\n    email: same@example.com\n    pin: \"80417\"\n"
		  "    devices:\n    - label: desk\n", slug);
	import_ok(&res);
	bi_free(&res);
	us.username = "bob";
	us.name = "Same Name";
	us.email = "same@example.com";
	us.pin = "80417";
	cr_assert(eq(int, pbx_user_create(bi_ctx, slug, &us, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	ds.label = "desk";
	cr_assert(eq(int, pbx_device_create(bi_ctx, slug, "bob", &ds, &rows, &err), 0), "%s",
		  err.message);
	pbx_device_rows_free(&rows);
	/* The same objects, one imported and one made by the CLI's functions, have images
	 * that differ only in what names them and when. */
	same = bi_sql("SELECT (a.after - '{id,username,extension,created_at,updated_at}'::text[]) = "
		      "(b.after - '{id,username,extension,created_at,updated_at}'::text[]) "
		      "FROM audit_log a, audit_log b WHERE a.tenant = $1 AND b.tenant = $1 "
		      "AND a.entity = 'user' AND b.entity = 'user' AND a.after->>'username' = 'alice' "
		      "AND b.after->>'username' = 'bob'", slug, NULL);
	cr_assert(eq(str, same, "t"), "user images differ");
	free(same);
	same = bi_sql("SELECT (a.after - '{id,user,sip_username,created_at,updated_at}'::text[]) = "
		      "(b.after - '{id,user,sip_username,created_at,updated_at}'::text[]) "
		      "FROM audit_log a, audit_log b WHERE a.tenant = $1 AND b.tenant = $1 "
		      "AND a.entity = 'device' AND b.entity = 'device' AND a.after->>'user' = 'alice' "
		      "AND b.after->>'user' = 'bob'", slug, NULL);
	cr_assert(eq(str, same, "t"), "device images differ");
	free(same);
	same = bi_sql("SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(a.after) k)::text "
		      "FROM audit_log a WHERE a.tenant = $1 AND a.entity = 'user' "
		      "AND a.after->>'username' = 'alice'", slug, NULL);
	cr_assert_not_null(strstr(same, "pin"), "%s", same);
	free(same);
}

Test(bulk_import, a_mixed_import_keeps_the_audit_chain_whole)
{
	struct bi_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32];

	bi_slug(slug, "mixed");
	bi_import(&res, false, false, NULL, ACME, slug);
	bi_free(&res);
	/* An update, a prune, a restore-free create and new devices, all in one run. */
	bi_import(&res, false, true, NULL,
		  "tenants:\n- slug: %s\n  name: Acme Two\n  users:\n  - username: alice\n"
		  "    name: Alice Two\n    devices:\n    - label: soft\n      enabled: false\n"
		  "    - label: tablet\n  - username: erin\n    devices:\n    - label: desk\n",
		  slug);
	import_ok(&res);
	cr_assert(eq(long, bi_count(&res, "tenants_updated"), 1));
	cr_assert(eq(long, bi_count(&res, "users_deleted"), 1));
	cr_assert(eq(long, bi_count(&res, "users_created"), 1));
	cr_assert(eq(long, bi_count(&res, "devices_created"), 2));
	cr_assert(eq(long, bi_count(&res, "devices_updated"), 1));
	cr_assert(eq(long, bi_count(&res, "devices_deleted"), 2));
	cr_assert(eq(long, bi_count(&res, "audit_rows"), 9));
	bi_free(&res);
	cr_assert(eq(int, pbx_audit_verify(bi_ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

Test(bulk_import, a_forward_outside_the_range_is_refused_when_it_changes)
{
	struct bi_result res;
	const pbx_error *e;
	char slug[32];

	bi_slug(slug, "fwd");
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  extensions: 100-199\n"
		  "  users:\n  - username: a\n    forward_to: 250\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "forward destination 250 is outside");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].users[0].forward_to"));
	bi_free(&res);
	/* a gets extension 100 from the range, and would forward to itself. */
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  extensions: 100-199\n"
		  "  users:\n  - username: a\n    forward_to: 100\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "cannot forward to its own extension 100"));
	bi_free(&res);
}
