/* SPDX-License-Identifier: MIT */
/*
 * Users against the real PostgreSQL, through the library: extension allocation (pointer,
 * explicit picks, skipping, lowest free after the end, range full), status changes with
 * delete, restore and purge, PIN rules and hashing, field validation, list and update.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/secret.h"
#include "pbx/user.h"
#include "testenv.h"
#include "user-test.h"

TestSuite(user_alloc, .init = ut_setup, .fini = ut_teardown);
TestSuite(user_status, .init = ut_setup, .fini = ut_teardown);
TestSuite(user_pin, .init = ut_setup, .fini = ut_teardown);
TestSuite(user_fields, .init = ut_setup, .fini = ut_teardown);
TestSuite(user_list, .init = ut_setup, .fini = ut_teardown);

static int create(const char *t, const char *username, const char *ext, pbx_error *err)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	int r;

	spec.username = username;
	spec.extension = ext;
	r = pbx_user_create(ut_ctx, t, &spec, &rows, err);
	if (r == 0)
		pbx_rows_free(&rows);
	return r;
}

static int op(int r, struct pbx_rows *rows)
{
	if (r == 0)
		pbx_rows_free(rows);
	return r;
}

static char *ext_next(const char *t)
{
	return ut_sql("SELECT ext_next::text FROM tenants WHERE slug = $1", t, NULL);
}

static long users_in(const char *t)
{
	char *v = ut_sql("SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id "
			 "WHERE t.slug = $1", t, NULL);
	long n = strtol(v, NULL, 10);

	free(v);
	return n;
}

Test(user_alloc, takes_extensions_from_the_pointer_in_order)
{
	char t[32], e[16], *n;

	ut_tenant(t, "seq", "1000-1999");
	ut_user(t, "alice", NULL, e);
	cr_assert(eq(str, e, "1000"));
	ut_user(t, "bob", NULL, e);
	cr_assert(eq(str, e, "1001"));
	ut_user(t, "carol", NULL, e);
	cr_assert(eq(str, e, "1002"));
	n = ext_next(t);
	cr_assert(eq(str, n, "1003"));
	free(n);
}

Test(user_alloc, explicit_extension_is_used_and_the_pointer_skips_it)
{
	char t[32], e[16], *n;

	ut_tenant(t, "expl", "1000-1999");
	ut_user(t, "a", "1001", e);
	cr_assert(eq(str, e, "1001"));
	ut_user(t, "b", "1003", e);
	ut_user(t, "c", NULL, e);
	cr_assert(eq(str, e, "1000"));
	ut_user(t, "d", NULL, e);
	cr_assert(eq(str, e, "1002"), "1001 was picked explicitly and must be skipped");
	ut_user(t, "e", NULL, e);
	cr_assert(eq(str, e, "1004"));
	n = ext_next(t);
	cr_assert(eq(str, n, "1005"));
	free(n);
}

Test(user_alloc, explicit_extension_out_of_range_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32], msg[128];

	ut_tenant(t, "oor", "1000-1999");
	cr_assert(eq(int, create(t, "alice", "2050", &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "extension"));
	cr_assert(eq(str, err.object, "user alice"));
	snprintf(msg, sizeof(msg), "extension 2050 is outside %s's range 1000-1999", t);
	cr_assert(eq(str, err.message, msg));
	cr_assert(eq(int, create(t, "alice", "999", &err), PBX_EINVALID));
	cr_assert(eq(int, create(t, "alice", "01000", &err), PBX_EINVALID));
	cr_assert(eq(int, create(t, "alice", "10x0", &err), PBX_EINVALID));
	cr_assert(eq(long, users_in(t), 0));
	/* The partner: the same user inside the range is accepted. */
	cr_assert(eq(int, create(t, "alice", "1999", &err), 0), "%s", err.message);
}

Test(user_alloc, duplicate_explicit_extension_is_a_conflict)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32];

	ut_tenant(t, "dup", "1000-1999");
	ut_user(t, "alice", "1500", NULL);
	cr_assert(eq(int, create(t, "bob", "1500", &err), PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "extension"));
	cr_assert(eq(str, err.message, "extension 1500 is already alice's"));
	cr_assert(eq(long, users_in(t), 1));
	cr_assert(eq(long, ut_audit_count(t, "create"), 2), "tenant and alice only");
}

Test(user_alloc, duplicate_username_is_a_conflict)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32];

	ut_tenant(t, "dupu", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cr_assert(eq(int, create(t, "alice", NULL, &err), PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "username"));
	cr_assert(eq(long, users_in(t), 1));
}

Test(user_alloc, range_full_is_refused_naming_the_range)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32], msg[128], *n;

	ut_tenant(t, "full", "10-12");
	ut_user(t, "a", NULL, NULL);
	ut_user(t, "b", NULL, NULL);
	ut_user(t, "c", NULL, NULL);
	n = ext_next(t);
	cr_assert(eq(str, n, "13"));
	free(n);
	cr_assert(eq(int, create(t, "d", NULL, &err), PBX_ECONFLICT));
	snprintf(msg, sizeof(msg), "no free extension is left in %s's range 10-12", t);
	cr_assert(eq(str, err.message, msg));
	cr_assert(eq(str, err.field, "extension"));
	cr_assert(eq(long, users_in(t), 3));
}

Test(user_alloc, after_the_end_the_lowest_free_extension_is_taken)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], e[16], *n;

	ut_tenant(t, "wrap", "20-24");
	for (int i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "u%d", i);
		ut_user(t, name, NULL, NULL);
	}
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "u3", false, &rows, NULL, &err), &rows), 0));
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "u1", true, &rows, NULL, &err), &rows), 0));
	ut_user(t, "x", NULL, e);
	cr_assert(eq(str, e, "21"));
	ut_user(t, "y", NULL, e);
	cr_assert(eq(str, e, "23"), "a soft-deleted user's extension is free once the range is used up");
	cr_assert(eq(int, create(t, "z", NULL, &err), PBX_ECONFLICT));
	n = ext_next(t);
	cr_assert(eq(str, n, "25"), "the pointer never moves back");
	free(n);
}

Test(user_alloc, a_freed_extension_is_not_reused_while_the_range_has_room)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], e[16];

	ut_tenant(t, "noreuse", "1000-1999");
	ut_user(t, "a", NULL, NULL);
	ut_user(t, "b", NULL, NULL);
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "a", true, &rows, NULL, &err), &rows), 0));
	ut_user(t, "c", NULL, e);
	cr_assert(eq(str, e, "1002"));
	/* It can still be picked explicitly. */
	ut_user(t, "d", "1000", e);
	cr_assert(eq(str, e, "1000"));
}

Test(user_alloc, the_pointer_skips_a_deleted_users_extension_ahead_of_it)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], e[16];

	ut_tenant(t, "skipdel", "1000-1999");
	ut_user(t, "a", "1001", NULL);
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "a", false, &rows, NULL, &err), &rows), 0));
	ut_user(t, "b", NULL, e);
	cr_assert(eq(str, e, "1000"));
	ut_user(t, "c", NULL, e);
	cr_assert(eq(str, e, "1002"), "deleted a keeps 1001 for a restore while there is room");
	cr_assert(eq(int, op(pbx_user_restore(ut_ctx, t, "a", NULL, &rows, NULL, &err), &rows), 0),
		  "%s", err.message);
}

Test(user_alloc, unknown_tenant_is_not_found)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, create("no-such-tenant", "alice", NULL, &err), PBX_ENOTFOUND));
	cr_assert(eq(str, err.message, "tenant no-such-tenant does not exist"));
}

Test(user_status, suspend_and_resume)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = false;
	char t[32];

	ut_tenant(t, "susp", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cr_assert(eq(int, pbx_user_set_status(ut_ctx, t, "alice", "suspended", &rows, &changed,
					      &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "suspended"));
	cr_assert(changed);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_user_set_status(ut_ctx, t, "1000", "suspended", &rows, &changed,
					      &err), 0), "by extension");
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_user_set_status(ut_ctx, t, "alice", "active", &rows, &changed, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "active"));
	pbx_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, "suspend"), 1), "the no-op writes no audit row");
	cr_assert(eq(long, ut_audit_count(t, "resume"), 1));
	cr_assert(eq(int, pbx_user_set_status(ut_ctx, t, "alice", "gone", &rows, &changed, &err),
		     PBX_EINVALID));
	cr_assert(eq(int, pbx_user_set_status(ut_ctx, t, "nobody", "active", &rows, &changed, &err),
		     PBX_ENOTFOUND));
}

Test(user_status, delete_frees_the_extension_and_restore_gets_it_back)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = false;
	char t[32];

	ut_tenant(t, "del", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cr_assert(eq(int, pbx_user_delete(ut_ctx, t, "alice", false, &rows, &changed, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "deleted"));
	cr_assert(changed);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_user_delete(ut_ctx, t, "alice", false, &rows, &changed, &err), 0));
	cr_assert(not(changed), "deleting a deleted user changes nothing");
	pbx_rows_free(&rows);
	/* A deleted user cannot be changed until restored. */
	cr_assert(eq(int, pbx_user_set_status(ut_ctx, t, "alice", "suspended", &rows, &changed,
					      &err), PBX_ECONFLICT));
	cr_assert(eq(int, pbx_user_restore(ut_ctx, t, "alice", NULL, &rows, &changed, &err), 0),
		  "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "active"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "extension"), "1000"));
	pbx_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, "delete"), 1));
	cr_assert(eq(long, ut_audit_count(t, "restore"), 1));
}

Test(user_status, restore_refused_when_the_extension_was_taken_meanwhile)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = false;
	char t[32];

	ut_tenant(t, "rest", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "alice", false, &rows, NULL, &err), &rows), 0));
	ut_user(t, "bob", "1000", NULL);
	cr_assert(eq(int, pbx_user_restore(ut_ctx, t, "alice", NULL, &rows, &changed, &err),
		     PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "extension"));
	cr_assert(not(eq(ptr, strstr(err.message, "extension 1000"), NULL)), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, "bob"), NULL)), "%s", err.message);
	/* Looked up by extension, 1000 is now bob; alice is still found by name. */
	cr_assert(eq(int, pbx_user_show(ut_ctx, t, "1000", &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "username"), "bob"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_user_restore(ut_ctx, t, "alice", "1200", &rows, &changed, &err), 0),
		  "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "extension"), "1200"));
	pbx_rows_free(&rows);
}

Test(user_status, purge_removes_the_row_deleted_or_not)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = false;
	char t[32];

	ut_tenant(t, "purge", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_user(t, "bob", NULL, NULL);
	cr_assert(eq(int, pbx_user_delete(ut_ctx, t, "alice", true, &rows, &changed, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 0));
	cr_assert(changed);
	pbx_rows_free(&rows);
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "bob", false, &rows, NULL, &err), &rows), 0));
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "bob", true, &rows, NULL, &err), &rows), 0));
	cr_assert(eq(long, users_in(t), 0));
	cr_assert(eq(int, pbx_user_show(ut_ctx, t, "alice", &rows, &err), PBX_ENOTFOUND));
	cr_assert(eq(int, pbx_user_restore(ut_ctx, t, "bob", NULL, &rows, &changed, &err),
		     PBX_ENOTFOUND));
	cr_assert(eq(long, ut_audit_count(t, "purge"), 2));
	/* The name is free again. */
	ut_user(t, "alice", NULL, NULL);
}

Test(user_status, update_of_a_deleted_user_is_refused)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed;
	char t[32];

	ut_tenant(t, "upddel", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "alice", false, &rows, NULL, &err), &rows), 0));
	spec.name = "New Name";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err),
		     PBX_ECONFLICT));
	cr_assert(not(eq(ptr, strstr(err.message, "restore"), NULL)));
}

static int create_pin(const char *t, const char *username, const char *ext, const char *pin,
		      pbx_error *err)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	int r;

	spec.username = username;
	spec.extension = ext;
	spec.pin = pin;
	spec.voicemail = 1;
	r = pbx_user_create(ut_ctx, t, &spec, &rows, err);
	if (r == 0)
		pbx_rows_free(&rows);
	return r;
}

Test(user_pin, weak_pins_are_refused)
{
	static const char *const weak[] = { "123", "12345678901", "12a4", "7777", "1234", "9876",
					    "" };
	pbx_error err = PBX_ERROR_INIT;
	char t[32], *n;

	ut_tenant(t, "weak", "1000-1999");
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		cr_assert(eq(int, create_pin(t, "alice", NULL, weak[i], &err), PBX_EINVALID),
			  "pin \"%s\"", weak[i]);
		cr_assert(eq(str, err.field, "pin"));
		cr_assert(eq(str, err.object, "user alice"));
	}
	/* Equal to the extension picked explicitly, and to the one the allocator would give. */
	cr_assert(eq(int, create_pin(t, "alice", "1500", "1500", &err), PBX_EINVALID));
	cr_assert(eq(str, err.message, "pin must not equal the extension"));
	cr_assert(eq(int, create_pin(t, "alice", NULL, "1000", &err), PBX_EINVALID));
	cr_assert(eq(str, err.message, "pin must not equal the extension"));
	cr_assert(eq(long, users_in(t), 0));
	n = ext_next(t);
	cr_assert(eq(str, n, "1000"), "a refused create leaves the pointer alone");
	free(n);
	/* The partner: a good PIN is accepted. */
	cr_assert(eq(int, create_pin(t, "alice", NULL, "4821", &err), 0), "%s", err.message);
}

Test(user_pin, the_pin_is_stored_only_as_an_argon2id_hash)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], *hash, *audit;

	ut_tenant(t, "hash", "1000-1999");
	cr_assert(eq(int, create_pin(t, "alice", NULL, "480213", &err), 0), "%s", err.message);
	hash = ut_sql("SELECT u.pin_hash FROM users u JOIN tenants t ON t.id = u.tenant_id "
		      "WHERE t.slug = $1 AND u.username = 'alice'", t, NULL);
	cr_assert(eq(int, strncmp(hash, "$argon2id$", 10), 0), "%s", hash);
	cr_assert(eq(ptr, strstr(hash, "480213"), NULL));
	cr_assert(eq(int, pbx_secret_pin_verify(hash, "480213", &err), 0));
	cr_assert(eq(int, pbx_user_show(ut_ctx, t, "alice", &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "pin"), "********"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "voicemail"), "true"));
	pbx_rows_free(&rows);
	audit = ut_sql("SELECT string_agg(coalesce(before::text, '') || after::text, '') "
		       "FROM audit_log WHERE tenant = $1", t, NULL);
	cr_assert(eq(ptr, strstr(audit, "argon2"), NULL), "%s", audit);
	cr_assert(eq(ptr, strstr(audit, "480213"), NULL));
	cr_assert(eq(ptr, strstr(audit, "pin_hash"), NULL));
	free(audit);
	free(hash);
}

Test(user_pin, update_sets_and_clears_the_pin_and_guards_the_extension)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = false;
	char t[32];

	ut_tenant(t, "pinupd", "1000-1999");
	cr_assert(eq(int, create_pin(t, "alice", NULL, "1500", &err), 0), "%s", err.message);
	/* Moving alice onto her PIN would make the PIN guessable. */
	spec.extension = "1500";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err),
		     PBX_EINVALID));
	cr_assert(eq(str, err.field, "pin"));
	spec.extension = NULL;
	spec.pin = "1000";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err),
		     PBX_EINVALID), "the new pin equals the current extension");
	spec.pin = "2468";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err), 0));
	cr_assert(changed, "a new PIN is a change although the masked value looks the same");
	pbx_rows_free(&rows);
	spec.pin = "";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err), 0));
	cr_assert(eq(ptr, (char *)pbx_rows_get(&rows, 0, "pin"), NULL));
	pbx_rows_free(&rows);
	spec.pin = NULL;
	spec.extension = "1500";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err), 0),
		  "%s", err.message);
	pbx_rows_free(&rows);
}

Test(user_fields, bad_input_is_refused_with_its_field)
{
	static const struct {
		const char *username, *name, *email, *callerid, *forward, *field;
	} bad[] = {
		{ "Alice", NULL, NULL, NULL, NULL, "username" },
		{ "1alice", NULL, NULL, NULL, NULL, "username" },
		{ "alice bob", NULL, NULL, NULL, NULL, "username" },
		{ "a234567890123456789012345678901234", NULL, NULL, NULL, NULL, "username" },
		{ "alice", "Evil\nName", NULL, NULL, NULL, "name" },
		{ "alice", NULL, "not-an-email", NULL, NULL, "email" },
		{ "alice", NULL, NULL, "+1 555 0100", NULL, "outbound_callerid" },
		{ "alice", NULL, NULL, "123456789012345678901", NULL, "outbound_callerid" },
		{ "alice", NULL, NULL, "5550100;x", NULL, "outbound_callerid" },
		{ "alice", NULL, NULL, NULL, "ext:1001", "forward_to" },
		{ "alice", NULL, NULL, NULL, "5000", "forward_to" },
		{ "alice", NULL, NULL, NULL, "1000", "forward_to" },
	};
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32];

	ut_tenant(t, "badin", "1000-1999");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pbx_user_spec spec = PBX_USER_SPEC_INIT;

		spec.username = bad[i].username;
		spec.name = bad[i].name;
		spec.email = bad[i].email;
		spec.outbound_callerid = bad[i].callerid;
		spec.forward_to = bad[i].forward;
		cr_assert(eq(int, pbx_user_create(ut_ctx, t, &spec, &rows, &err), PBX_EINVALID),
			  "case %zu", i);
		cr_assert(eq(str, err.field, (char *)bad[i].field), "case %zu: %s", i, err.message);
	}
	cr_assert(eq(long, users_in(t), 0));
}

Test(user_fields, good_values_are_kept)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32];

	ut_tenant(t, "goodin", "1000-1999");
	spec.username = "a.b-c_d";
	spec.name = "Zoë O'Brien";
	spec.email = "zoe@example.com";
	spec.outbound_callerid = "+442071838750";
	spec.forward_to = "1005";
	spec.dnd = 1;
	cr_assert(eq(int, pbx_user_create(ut_ctx, t, &spec, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "name"), "Zoë O'Brien"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "email"), "zoe@example.com"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "outbound_callerid"), "+442071838750"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "forward_to"), "1005"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "dnd"), "true"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "voicemail"), "false"));
	cr_assert(eq(ptr, (char *)pbx_rows_get(&rows, 0, "pin"), NULL));
	cr_assert(eq(ptr, (char *)pbx_rows_get(&rows, 0, "policy"), NULL));
	pbx_rows_free(&rows);
}

Test(user_fields, update_renames_clears_and_reports_no_change)
{
	struct pbx_user_spec spec = PBX_USER_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = true;
	char t[32];
	long audits;

	ut_tenant(t, "upd", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_user(t, "bob", NULL, NULL);
	spec.username = "alicia";
	spec.email = "alicia@example.com";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alice", &spec, &rows, &changed, &err), 0));
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "username"), "alicia"));
	pbx_rows_free(&rows);
	audits = ut_audit_count(t, NULL);
	spec = (struct pbx_user_spec)PBX_USER_SPEC_INIT;
	spec.email = "alicia@example.com";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alicia", &spec, &rows, &changed, &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, NULL), audits), "no change, no audit row");
	spec.email = "";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alicia", &spec, &rows, &changed, &err), 0));
	cr_assert(eq(ptr, (char *)pbx_rows_get(&rows, 0, "email"), NULL));
	pbx_rows_free(&rows);
	spec = (struct pbx_user_spec)PBX_USER_SPEC_INIT;
	spec.username = "bob";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alicia", &spec, &rows, &changed, &err),
		     PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "username"));
	spec.username = NULL;
	spec.extension = "1001";
	cr_assert(eq(int, pbx_user_update(ut_ctx, t, "alicia", &spec, &rows, &changed, &err),
		     PBX_ECONFLICT));
	cr_assert(eq(str, err.message, "extension 1001 is already bob's"));
}

static size_t list(const char *t, struct pbx_user_filter *f, struct pbx_rows *rows)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_user_list(ut_ctx, t, f, rows, &err), 0), "%s", err.message);
	return rows->n_rows;
}

Test(user_list, filters_searches_sorts_and_pages)
{
	static const char *const names[] = { "erin", "dave", "carol", "bob", "alice" };
	struct pbx_user_filter f = { .limit = 2 };
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], cursor[128], seen[128] = "";

	ut_tenant(t, "list", "1000-1999");
	for (size_t i = 0; i < 5; i++)
		ut_user(t, names[i], NULL, NULL);
	cr_assert(eq(int, op(pbx_user_delete(ut_ctx, t, "carol", false, &rows, NULL, &err), &rows), 0));
	/* Pages by extension: 1000 erin, 1001 dave, 1003 bob, 1004 alice (carol deleted). */
	for (int page = 0; page < 3; page++) {
		list(t, &f, &rows);
		for (size_t i = 0; i < rows.n_rows; i++) {
			strcat(seen, pbx_rows_get(&rows, i, "username"));
			strcat(seen, " ");
		}
		if (!rows.next_cursor) {
			pbx_rows_free(&rows);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", rows.next_cursor);
		f.after = cursor;
		pbx_rows_free(&rows);
	}
	cr_assert(eq(str, seen, "erin dave bob alice "));
	/* By username, pages again. */
	f = (struct pbx_user_filter){ .sort = "username", .limit = 3 };
	cr_assert(eq(sz, list(t, &f, &rows), 3));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "username"), "alice"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 2, "username"), "dave"));
	snprintf(cursor, sizeof(cursor), "%s", rows.next_cursor);
	pbx_rows_free(&rows);
	f.after = cursor;
	cr_assert(eq(sz, list(t, &f, &rows), 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "username"), "erin"));
	cr_assert(eq(ptr, rows.next_cursor, NULL));
	pbx_rows_free(&rows);
	/* Status and search. */
	f = (struct pbx_user_filter){ .status = "deleted" };
	cr_assert(eq(sz, list(t, &f, &rows), 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "username"), "carol"));
	pbx_rows_free(&rows);
	f = (struct pbx_user_filter){ .status = "all" };
	cr_assert(eq(sz, list(t, &f, &rows), 5));
	pbx_rows_free(&rows);
	f = (struct pbx_user_filter){ .search = "AV" };
	cr_assert(eq(sz, list(t, &f, &rows), 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "username"), "dave"));
	pbx_rows_free(&rows);
	f = (struct pbx_user_filter){ .search = "100" };
	cr_assert(eq(sz, list(t, &f, &rows), 4), "extension prefix");
	pbx_rows_free(&rows);
	f = (struct pbx_user_filter){ .search = "%" };
	cr_assert(eq(sz, list(t, &f, &rows), 0), "no wildcards");
	pbx_rows_free(&rows);
}

Test(user_list, bad_filters_are_refused)
{
	struct pbx_user_filter f = { .status = "gone" };
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32];

	ut_tenant(t, "listbad", "1000-1999");
	cr_assert(eq(int, pbx_user_list(ut_ctx, t, &f, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "status"));
	f = (struct pbx_user_filter){ .sort = "age" };
	cr_assert(eq(int, pbx_user_list(ut_ctx, t, &f, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "sort"));
	f = (struct pbx_user_filter){ .after = "e31303030.zz" };
	cr_assert(eq(int, pbx_user_list(ut_ctx, t, &f, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "after"));
	f = (struct pbx_user_filter){ .sort = "username", .after = "e31303030.5" };
	cr_assert(eq(int, pbx_user_list(ut_ctx, t, &f, &rows, &err), PBX_EINVALID),
		  "a cursor of another sort");
	f = (struct pbx_user_filter){ .limit = 10001 };
	cr_assert(eq(int, pbx_user_list(ut_ctx, t, &f, &rows, &err), PBX_EINVALID));
	f = (struct pbx_user_filter){ 0 };
	cr_assert(eq(int, pbx_user_list(ut_ctx, "no-such-tenant", &f, &rows, &err), PBX_ENOTFOUND));
}
