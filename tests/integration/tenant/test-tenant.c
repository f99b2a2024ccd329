/* SPDX-License-Identifier: MIT */
/*
 * Tenants, the audit log and migrations against the real PostgreSQL.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
#include "pbx/db.h"
#include "pbx/tenant.h"
#include "testenv.h"

static struct pbx_config cfg;
static pbx_ctx *ctx;

static void setup(void)
{
	ctx = testenv_ctx(&cfg);
}

static void teardown(void)
{
	testenv_free(ctx, &cfg);
}

TestSuite(tenant, .init = setup, .fini = teardown);

static void create(const char *slug, const char *range)
{
	struct pbx_tenant_spec spec = { .slug = slug, .name = "Test Co", .extensions = range };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

/* psql-like one value query, for checks the API does not expose. */
static char *sql1(const char *sql, const char *param)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	const char *p[1] = { param };
	PGresult *res = PQexecParams(pg, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
	char *v;

	cr_assert(eq(int, PQresultStatus(res) == PGRES_TUPLES_OK ||
			   PQresultStatus(res) == PGRES_COMMAND_OK, 1), "%s", PQerrorMessage(pg));
	v = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(pg);
	return v;
}

Test(tenant, create_show_list)
{
	const char *slug = testenv_slug("create");
	char s[32];
	struct pbx_rows rows;
	pbx_error err;
	bool found = false;

	snprintf(s, sizeof(s), "%s", slug);
	create(s, "1000-1999");
	cr_assert(eq(int, pbx_tenant_show(ctx, s, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "extensions"), "1000-1999"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "ext_next"), "1000"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "active"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "name"), "Test Co"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_list(ctx, "active", &rows, &err), 0));
	for (size_t i = 0; i < rows.n_rows; i++)
		found |= !strcmp(pbx_rows_get(&rows, i, "slug"), s);
	pbx_rows_free(&rows);
	cr_assert(found);
}

Test(tenant, duplicate_slug_is_a_conflict_and_changes_nothing)
{
	char s[32], *before, *after;
	struct pbx_tenant_spec spec = { .extensions = "2000-2999" };
	struct pbx_rows rows;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("dup"));
	create(s, "1000-1999");
	before = sql1("SELECT count(*) FROM audit_log", NULL);
	spec.slug = s;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "slug"));
	after = sql1("SELECT count(*) FROM audit_log", NULL);
	cr_assert(eq(str, before, after));
	free(before);
	free(after);
}

Test(tenant, bad_input_refused_with_field)
{
	struct pbx_tenant_spec spec = { .slug = "Bad_Slug", .extensions = "1000-1999" };
	struct pbx_rows rows;
	pbx_error err;

	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "slug"));
	spec.slug = "okslug";
	spec.extensions = "1999-1000";
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "extensions"));
	spec.extensions = "1000-1999";
	spec.name = "two\nlines";
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "name"));
	spec.name = NULL;
	spec.default_inbound = "queue:sales";
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "default_inbound"));
	cr_assert(eq(int, pbx_tenant_show(ctx, "okslug", &rows, &err), PBX_ENOTFOUND));
}

Test(tenant, update_changes_and_reports_unchanged)
{
	char s[32];
	struct pbx_tenant_spec spec = { .name = "New Name", .extensions = "1000-2999" };
	struct pbx_rows rows;
	bool changed = false;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("upd"));
	create(s, "1000-1999");
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0));
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "extensions"), "1000-2999"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	spec = (struct pbx_tenant_spec){ .slug = "other" };
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "slug"));
}

Test(tenant, shrinking_range_past_an_assigned_extension_is_refused)
{
	char s[32];
	struct pbx_tenant_spec spec = { .extensions = "1000-1099" };
	struct pbx_rows rows;
	bool changed;
	pbx_error err;
	char *id;

	snprintf(s, sizeof(s), "%s", testenv_slug("shrink"));
	create(s, "1000-1999");
	id = sql1("SELECT id FROM tenants WHERE slug = $1", s);
	free(sql1("INSERT INTO users (tenant_id, username, display_name, extension) "
		  "VALUES ($1::bigint, 'u1500', 'U', 1500) RETURNING id", id));
	free(id);
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "extensions"));
	cr_assert(not(eq(ptr, strstr(err.message, "1500"), NULL)), "%s", err.message);
	spec.extensions = "1000-1500";
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
}

Test(tenant, suspend_resume)
{
	char s[32];
	struct pbx_rows rows;
	bool changed;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("susp"));
	create(s, "1000-1999");
	cr_assert(eq(int, pbx_tenant_set_status(ctx, s, "suspended", &rows, &changed, &err), 0));
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "suspended"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_set_status(ctx, s, "suspended", &rows, &changed, &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_set_status(ctx, s, "active", &rows, &changed, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "active"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_set_status(ctx, s, "frozen", &rows, &changed, &err),
		     PBX_EINVALID));
}

Test(tenant, delete_refused_with_users_unless_force)
{
	char s[32], *id, *left;
	struct pbx_rows rows;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("del"));
	create(s, "1000-1999");
	id = sql1("SELECT id FROM tenants WHERE slug = $1", s);
	free(sql1("INSERT INTO users (tenant_id, username, display_name, extension) "
		  "VALUES ($1::bigint, 'alice', 'A', 1000) RETURNING id", id));
	cr_assert(eq(int, pbx_tenant_delete(ctx, s, false, &rows, &err), PBX_ECONFLICT));
	cr_assert(not(eq(ptr, strstr(err.message, "--force"), NULL)));
	cr_assert(eq(int, pbx_tenant_delete(ctx, s, true, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	left = sql1("SELECT count(*) FROM users WHERE tenant_id = $1::bigint", id);
	cr_assert(eq(str, left, "0"));
	free(left);
	/* the removed user has its own audit row */
	left = sql1("SELECT count(*) FROM audit_log WHERE tenant = $1 AND entity = 'user' "
		    "AND action = 'delete'", s);
	cr_assert(eq(str, left, "1"));
	free(left);
	free(id);
	cr_assert(eq(int, pbx_tenant_show(ctx, s, &rows, &err), PBX_ENOTFOUND));
}

Test(tenant, stats_count_users_and_free_extensions)
{
	char s[32], *id;
	struct pbx_rows rows;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("stats"));
	create(s, "100-199");
	id = sql1("SELECT id FROM tenants WHERE slug = $1", s);
	free(sql1("INSERT INTO users (tenant_id, username, display_name, extension) "
		  "VALUES ($1::bigint, 'a', 'A', 100), ($1::bigint, 'b', 'B', 101) RETURNING id", id));
	free(sql1("INSERT INTO dids (tenant_id, number) VALUES ($1::bigint, "
		  "'+49301' || lpad((pg_backend_pid() % 1000000)::text, 6, '0') || '7') RETURNING id", id));
	free(id);
	cr_assert(eq(int, pbx_tenant_stats(ctx, s, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "users"), "2"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "extensions_used"), "2"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "extensions_free"), "98"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "dids"), "1"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_stats(ctx, "no-such-tenant", &rows, &err), PBX_ENOTFOUND));
}

Test(tenant, every_change_writes_one_audit_row_in_its_transaction)
{
	char s[32], *n;
	struct pbx_tenant_spec spec = { .name = "Renamed" };
	struct pbx_rows rows;
	bool changed;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("aud"));
	create(s, "1000-1999");
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_set_status(ctx, s, "suspended", &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
	n = sql1("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE tenant = $1", s);
	cr_assert(eq(str, n, "create,update,suspend"));
	free(n);
	n = sql1("SELECT before->>'name' || '>' || (after->>'name') FROM audit_log "
		 "WHERE tenant = $1 AND action = 'update'", s);
	cr_assert(eq(str, n, "Test Co>Renamed"));
	free(n);
	n = sql1("SELECT actor = session_user FROM audit_log WHERE tenant = $1 LIMIT 1", s);
	cr_assert(eq(str, n, "t"));
	free(n);
}

Test(tenant, audit_list_filters_and_pages)
{
	char s[32], cursor[32];
	struct pbx_tenant_spec spec = { 0 };
	struct pbx_audit_filter f = { 0 };
	struct pbx_rows rows;
	char name[16];
	bool changed;
	pbx_error err;

	snprintf(s, sizeof(s), "%s", testenv_slug("page"));
	create(s, "1000-1999");
	/* Ten updates: with the create, ids cross a digit boundary even in a fresh database. */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "Name %d", i);
		spec.name = name;
		cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0));
		pbx_rows_free(&rows);
	}
	f.tenant = s;
	f.action = "update";
	f.limit = 2;
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 2));
	cr_assert(not(eq(ptr, rows.next_cursor, NULL)));
	snprintf(cursor, sizeof(cursor), "%s", rows.next_cursor);
	cr_assert(not(eq(ptr, strstr(pbx_rows_get(&rows, 0, "after"), "Name 9"), NULL)), "%s",
		  pbx_rows_get(&rows, 0, "after"));
	pbx_rows_free(&rows);
	f.after = cursor;
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 2));
	cr_assert(not(eq(ptr, strstr(pbx_rows_get(&rows, 0, "after"), "Name 7"), NULL)));
	pbx_rows_free(&rows);
	f.after = NULL;
	f.limit = 20;
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 10));
	cr_assert(eq(ptr, rows.next_cursor, NULL));
	pbx_rows_free(&rows);
	/* Newest first by number, across digit boundaries (not sorted as text). */
	f = (struct pbx_audit_filter){ .limit = 200 };
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), 0));
	cr_assert(ge(sz, rows.n_rows, 11));
	for (size_t i = 1; i < rows.n_rows; i++)
		cr_assert(gt(long, atol(pbx_rows_get(&rows, i - 1, "id")),
			     atol(pbx_rows_get(&rows, i, "id"))), "row %zu: %s after %s", i,
			  pbx_rows_get(&rows, i, "id"), pbx_rows_get(&rows, i - 1, "id"));
	pbx_rows_free(&rows);
	f = (struct pbx_audit_filter){ .tenant = s, .action = "update", .limit = 10 };
	f.since = "2999-01-01";
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 0));
	pbx_rows_free(&rows);
	f.since = "yesterday-ish";
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), PBX_EINVALID));
	f.since = NULL;
	f.after = "abc";
	cr_assert(eq(int, pbx_audit_list(ctx, &f, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "after"));
}

Test(tenant, migrate_is_idempotent_and_status_lists_all)
{
	struct pbx_rows rows;
	pbx_error err;

	cr_assert(eq(int, pbx_db_migrate(ctx, &rows, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_db_status(ctx, &rows, &err), 0));
	cr_assert(ge(sz, rows.n_rows, 2));
	for (size_t i = 0; i < rows.n_rows; i++)
		cr_assert(eq(str, (char *)pbx_rows_get(&rows, i, "status"), "applied"));
	pbx_rows_free(&rows);
}
