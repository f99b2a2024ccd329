/* SPDX-License-Identifier: MIT */
/*
 * Full applies over several tenants, each test in a PostgreSQL and a MariaDB database of its
 * own (a full apply owns every tenant of its database): the quick check that lets an apply
 * with nothing to do skip the plan, and still finds a file or a realtime row changed behind
 * pbxctl's back; and a tenant whose data does not validate, skipped and reported by name
 * while the others are applied.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <pty.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "apply-itest.h"
#include "testenv.h"

static char pgdb[48], mydb[48], tenant_b[32];

/* The test server's conninfo naming database @db instead (malloc'd). */
static char *with_db(const char *db)
{
	const char *url = getenv("PBXCTL_TEST_DATABASE_URL"), *p = strstr(url, "dbname=");
	char *out = NULL;

	cr_assert_not_null(p, "no dbname= in %s", url);
	cr_assert(ge(int, asprintf(&out, "%.*sdbname=%s%s", (int)(p - url), url, db,
				   p + strcspn(p, " ")), 0));
	return out;
}

/* A statement as the database owner, on the shared database (@db NULL) or ours; the one
 * value a query returns (malloc'd), NULL for a command. */
static char *pg_run(const char *db, const char *sql)
{
	char *url = db ? with_db(db) : strdup(getenv("PBXCTL_TEST_DATABASE_URL")), *v = NULL;
	PGconn *pg;
	PGresult *r;

	pg = PQconnectdb(url);
	free(url);
	cr_assert(eq(int, PQstatus(pg), CONNECTION_OK), "%s", PQerrorMessage(pg));
	r = PQexec(pg, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		cr_assert(eq(int, PQntuples(r), 1), "%s", sql);
		v = strdup(PQgetvalue(r, 0, 0));
	} else {
		cr_assert(eq(int, PQresultStatus(r), PGRES_COMMAND_OK), "%s: %s", sql,
			  PQerrorMessage(pg));
	}
	PQclear(r);
	PQfinish(pg);
	return v;
}

static void pg_exec(const char *db, const char *sql)
{
	free(pg_run(db, sql));
}

/* The one value @sql returns on our database (malloc'd). */
static char *pg_value(const char *sql)
{
	char *v = pg_run(pgdb, sql);

	cr_assert_not_null(v, "%s returned no value", sql);
	return v;
}

static void my_exec(const char *db, const char *sql)
{
	MYSQL *m = mysql_init(NULL);

	cr_assert_not_null(mysql_real_connect(m, NULL, getenv("PBXCTL_TEST_MARIADB_USER"),
					      getenv("PBXCTL_TEST_MARIADB_PASSWORD"), db, 0,
					      getenv("PBXCTL_TEST_MARIADB_SOCKET"), 0),
			   "%s", mysql_error(m));
	cr_assert(eq(int, mysql_query(m, sql), 0), "%s: %s", sql, mysql_error(m));
	if (!strncmp(sql, "UPDATE", 6) || !strncmp(sql, "DELETE", 6))
		cr_assert(ge(long, (long)mysql_affected_rows(m), 1L), "%s changed nothing", sql);
	mysql_close(m);
}

/* The number in the first column of the first row of @sql on database @db. */
static long my_count(const char *db, const char *sql)
{
	MYSQL *m = mysql_init(NULL);
	MYSQL_RES *res;
	MYSQL_ROW row;
	long n;

	cr_assert_not_null(mysql_real_connect(m, NULL, getenv("PBXCTL_TEST_MARIADB_USER"),
					      getenv("PBXCTL_TEST_MARIADB_PASSWORD"), db, 0,
					      getenv("PBXCTL_TEST_MARIADB_SOCKET"), 0),
			   "%s", mysql_error(m));
	cr_assert(eq(int, mysql_query(m, sql), 0), "%s: %s", sql, mysql_error(m));
	cr_assert_not_null(res = mysql_store_result(m));
	cr_assert_not_null(row = mysql_fetch_row(res));
	n = strtol(row[0], NULL, 10);
	mysql_free_result(res);
	mysql_close(m);
	return n;
}

/* Every tenant routes emergency calls through its own ip_auth trunk (testenv): its
 * ps_endpoints, ps_aors and ps_endpoint_id_ips rows are the tenant's too. */
#define EMERGENCY_TRUNK_ROWS 3

static void tenant(const char *name)
{
	struct pbx_tenant_spec spec = { .slug = name, .extensions = "100-199", .name = "Co" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	testenv_emergency_route(ctx, name);
}

static void init(void)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char sql[128];

	setup_peer_ctx();
	snprintf(pgdb, sizeof(pgdb), "pbxctl_apply_%d", (int)getpid());
	snprintf(mydb, sizeof(mydb), "asterisk_apply_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", pgdb);
	pg_exec(NULL, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pgdb);
	pg_exec(NULL, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS %s", mydb);
	my_exec(NULL, sql);
	/* testenv's context is connected to the shared database: a new one on ours. */
	pbx_ctx_free(ctx);
	free(cfg.database_url);
	cfg.database_url = with_db(pgdb);
	free(cfg.rt_database);
	cfg.rt_database = strdup(mydb);
	cr_assert(eq(int, pbx_ctx_new(&cfg, &ctx, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_db_migrate(ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_db_migrate_realtime(ctx, &err), 0), "%s", err.message);
	snprintf(slug, sizeof(slug), "ta");
	snprintf(tenant_b, sizeof(tenant_b), "tb");
	tenant(slug);
	tenant(tenant_b);
}

static void fini(void)
{
	char sql[128];

	teardown();
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", pgdb);
	pg_exec(NULL, sql);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", mydb);
	my_exec(NULL, sql);
}

TestSuite(apply_tenants, .init = init, .fini = fini, .timeout = 60);

static void user_in(const char *t, const char *username)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_device_spec d = PBX_DEVICE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	u.username = username;
	cr_assert(eq(int, pbx_user_create(ctx, t, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	d.label = "desk";
	cr_assert(eq(int, pbx_device_create(ctx, t, username, &d, &rows, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
}

/* A full apply; its job's diff summary in @summary (may be NULL). */
static int full(bool *changed, char *summary, size_t n, pbx_error *err)
{
	struct pbx_apply_opts o = { .tenant = NULL };
	struct pbx_apply_result res;
	int r = pbx_apply(ctx, &o, &res, err);

	*changed = res.changed;
	if (summary)
		snprintf(summary, n, "%s", res.job.n_rows ?
			 (const char *)pbx_rows_get(&res.job, 0, "diff_summary") : "");
	pbx_apply_result_free(&res);
	return r;
}

static int reloads(void)
{
	char *log = testenv_read_file(path_in("log"));
	int n = count_in(log, "Reload Module=pbx_config");

	free(log);
	return n;
}

/* The quick check took the apply: it planned nothing, so no realtime table was counted. */
static void expect_quick_noop(void)
{
	pbx_error err = PBX_ERROR_INIT;
	char summary[1024];
	bool changed;

	cr_assert(eq(int, full(&changed, summary, sizeof(summary), &err), 0), "%s", err.message);
	cr_assert(not(changed));
	cr_assert(eq(ptr, strstr(summary, "ps_endpoints"), NULL), "planned: %s", summary);
}

static char *tenant_file(const char *t)
{
	static char p[300];

	snprintf(p, sizeof(p), "%s/dialplan/%s.conf", dir, t);
	return p;
}

Test(apply_tenants, nothing_changed_is_quick_and_a_store_change_is_not_missed)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed;
	char *text;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed);
	expect_quick_noop();
	expect_quick_noop();
	cr_assert(eq(int, reloads(), 1));

	/* A change through the store bumps the tenant's generation: planned and written. */
	{
		struct pbx_user_spec u = PBX_USER_SPEC_INIT;

		u.name = "Bob Builder";
		cr_assert(eq(int, pbx_user_update(ctx, tenant_b, "bob", &u, &rows, &changed, &err),
			     0), "%s", err.message);
		pbx_rows_free(&rows);
	}
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed);
	text = testenv_read_file(tenant_file(tenant_b));
	cr_assert(not(eq(ptr, strstr(text, "Bob Builder"), NULL)), "%s", text);
	free(text);
	expect_quick_noop();
}

Test(apply_tenants, a_file_edited_behind_pbxctls_back_is_found_and_repaired)
{
	pbx_error err = PBX_ERROR_INIT;
	char *before, *after;
	bool changed;
	FILE *f;

	user_in(slug, "alice");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	expect_quick_noop();
	before = testenv_read_file(tenant_file(slug));
	f = fopen(tenant_file(slug), "a");
	cr_assert_not_null(f);
	fputs("exten => 666,1,Dial(PJSIP/elsewhere)\n", f);
	fclose(f);
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed, "the edited file was not found");
	after = testenv_read_file(tenant_file(slug));
	cr_assert(eq(ptr, strstr(after, "666"), NULL), "%s", after);
	cr_assert(eq(int, count_in(after, "\n"), count_in(before, "\n")));
	free(before);
	free(after);
	expect_quick_noop();

	/* A generated file of no tenant appearing in the directory is found too. */
	f = fopen(path_in("dialplan/ghost.conf"), "w");
	cr_assert_not_null(f);
	fputs("; generated by pbxctl job-1-abcdef\n[ghost-internal]\n", f);
	fclose(f);
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed);
	cr_assert(eq(int, access(path_in("dialplan/ghost.conf"), F_OK), -1));
}

Test(apply_tenants, a_realtime_row_changed_or_deleted_behind_pbxctls_back_is_repaired)
{
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	expect_quick_noop();
	my_exec(mydb, "UPDATE ps_endpoints SET context = 'tb-internal' WHERE id LIKE 'ta-%'");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed, "the changed row was not found");
	cr_assert(eq(sz, realtime_rows(), 3 + EMERGENCY_TRUNK_ROWS));
	expect_quick_noop();
	my_exec(mydb, "DELETE FROM ps_aors WHERE id LIKE 'ta-%'");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed, "the deleted row was not found");
	expect_quick_noop();
}

/* With more tenants whose records are stale than are read one by one (a row changed by
 * hand makes every record stale), the digests are read in one query: still found. */
Test(apply_tenants, a_row_changed_by_hand_among_many_tenants_is_repaired)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32], sql[160];
	bool changed;

	for (int i = 0; i < 18; i++) {
		snprintf(t, sizeof(t), "tm%d", i);
		tenant(t);
		user_in(t, "u");
	}
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	expect_quick_noop();
	snprintf(sql, sizeof(sql), "UPDATE ps_endpoints SET context = 'ta-internal' "
		 "WHERE id LIKE 'tm7-%%' AND context = 'tm7-internal'");
	my_exec(mydb, sql);
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed, "the changed row was not found");
	expect_quick_noop();
}

/* Rows owned by no tenant and named by no record (one stale record read by its owner,
 * the rest proven by their marks): found all the same, and not left for a quick no-op. */
Test(apply_tenants, rows_of_an_owner_no_record_names_are_found)
{
	pbx_error err = PBX_ERROR_INIT;
	char summary[1024];
	bool changed;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	expect_quick_noop();
	user_in(slug, "amy");
	my_exec(mydb, "INSERT INTO ps_aors (id, max_contacts) VALUES ('zz-ghost', 1)");
	my_exec(mydb, "INSERT INTO pbxctl_realtime_rows (tbl, id, owner) VALUES "
		 "('ps_aors', 'zz-ghost', 'zz')");
	cr_assert(eq(int, full(&changed, summary, sizeof(summary), &err), 0), "%s", err.message);
	cr_assert(changed);
	cr_assert(eq(long, my_count(mydb, "SELECT COUNT(*) FROM pbxctl_realtime_rows WHERE "
				    "owner = 'zz'"), 0L), "summary: %s", summary);
	cr_assert(eq(long, my_count(mydb, "SELECT COUNT(*) FROM ps_aors WHERE id = 'zz-ghost'"),
		     0L));
	expect_quick_noop();
}

/* How many tenants the last apply planned: the total of its "planned" progress. */
static void count_planned(void *userdata, const char *phase, size_t done, size_t total)
{
	if (!strcmp(phase, "planned"))
		*(size_t *)userdata = total;
}

static size_t planned_by_full(void)
{
	size_t planned = 0;
	struct pbx_apply_opts o = { .progress = count_planned, .progress_userdata = &planned };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), 0), "%s", err.message);
	cr_assert(res.changed);
	pbx_apply_result_free(&res);
	return planned;
}

/* The marker the peer holds for tenant @t. */
static void marker_of(const char *t, char *buf, size_t n)
{
	char keep[32], want[32];

	snprintf(keep, sizeof(keep), "%s", slug);
	snprintf(want, sizeof(want), "%s", t);
	memcpy(slug, want, sizeof(want));
	peer_marker(buf, n);
	snprintf(slug, sizeof(slug), "%s", keep);
}

Test(apply_tenants, one_moved_tenant_is_planned_verified_and_recorded_alone)
{
	char a_before[80], a_after[80], b_after[80], *text;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	expect_quick_noop();
	marker_of(slug, a_before, sizeof(a_before));

	/* Only B moved: a full apply plans B alone, and Asterisk loaded B's new file. */
	user_in(tenant_b, "bert");
	cr_assert(eq(sz, planned_by_full(), 1));
	text = testenv_read_file(tenant_file(tenant_b));
	cr_assert(not(eq(ptr, strstr(text, "bert"), NULL)), "%s", text);
	marker_of(slug, a_after, sizeof(a_after));
	marker_of(tenant_b, b_after, sizeof(b_after));
	cr_assert(not(eq(ptr, strstr(text, b_after), NULL)), "B's marker %s is not its file's",
		  b_after);
	free(text);
	cr_assert(eq(str, a_after, a_before), "A was rewritten");
	expect_quick_noop();

	/* Two tenants moved, or one moved and another's row changed behind pbxctl's back:
	 * every tenant is planned. */
	user_in(slug, "amy");
	user_in(tenant_b, "bill");
	cr_assert(eq(sz, planned_by_full(), 2));
	expect_quick_noop();
	user_in(slug, "anna");
	my_exec(mydb, "UPDATE ps_endpoints SET context = 'ta-internal' WHERE id LIKE 'tb-%'");
	cr_assert(eq(sz, planned_by_full(), 2));
	expect_quick_noop();
}

/* DND set in PostgreSQL while AstDB was not told (astdb_pending): no generation moves, so
 * the next apply is the quick no-op, which still writes the pending user to AstDB. */
Test(apply_tenants, a_quick_noop_apply_reconciles_pending_users_and_only_then)
{
	struct pbx_ami_config ac = { .host = "127.0.0.1", .port = peer_port, .username = "pbxctl",
				     .secret = "secret", .timeout_ms = 2000 };
	pbx_error err = PBX_ERROR_INIT;
	char *log, *dnd = NULL;
	int trees;
	bool changed;
	pbx_ami *ami;

	user_in(slug, "alice");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	expect_quick_noop();
	/* Nobody pending: the quick no-op does not even read AstDB back. */
	log = testenv_read_file(path_in("log"));
	cr_assert_not_null(log, "the peer's action log");
	trees = count_in(log, "DBGetTree");
	free(log);
	expect_quick_noop();
	log = testenv_read_file(path_in("log"));
	cr_assert_not_null(log, "the peer's action log");
	cr_assert(eq(int, count_in(log, "DBGetTree"), trees), "a no-op with nobody pending read AstDB");
	free(log);

	pg_exec(pgdb, "UPDATE users SET dnd = true WHERE username = 'alice'");
	expect_quick_noop();
	cr_assert(eq(int, pbx_ami_connect(&ac, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_db_get(ami, "pbxctl/ta/100", "dnd", &dnd, &err), 0), "%s",
		  err.message);
	pbx_ami_close(ami);
	cr_assert(eq(str, dnd, "1"));
	free(dnd);
	cr_assert(eq(int, reloads(), 1));
}

/* Tenant B gets an outbound caller ID that is no number, written behind pbxctl's back;
 * tenant A's new user is applied anyway, B is named, and the apply exits PBX_EPARTIAL. */
Test(apply_tenants, a_tenant_with_bad_data_is_skipped_and_named_the_others_applied)
{
	struct pbx_apply_opts o = { .tenant = NULL };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char *b_before, *b_after, *a_text;
	size_t b_rows;
	int a_dials;
	bool changed;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	b_before = testenv_read_file(tenant_file(tenant_b));
	a_text = testenv_read_file(tenant_file(slug));
	a_dials = count_in(a_text, "Dial(PJSIP/");   /* alice's, and the emergency trunk's */
	free(a_text);
	snprintf(slug, sizeof(slug), "%s", tenant_b);
	b_rows = realtime_rows();
	snprintf(slug, sizeof(slug), "ta");

	pg_exec(pgdb, "UPDATE users SET outbound_callerid = 'not-a-number' WHERE username = 'bob'");
	user_in(slug, "carol");
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), PBX_EPARTIAL), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, "tb"), NULL)), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, "validate: tb;"), NULL)), "%s", err.message);
	cr_assert(eq(sz, res.problems.n, 1));
	cr_assert(not(eq(ptr, strstr(res.problems.items[0].message, "caller ID"), NULL)), "%s",
		  res.problems.items[0].message);
	cr_assert(eq(str, (char *)pbx_rows_get(&res.job, 0, "status"), "SUCCESS"));
	cr_assert(not(eq(ptr, strstr(pbx_rows_get(&res.job, 0, "error"), "tb"), NULL)));
	pbx_apply_result_free(&res);

	a_text = testenv_read_file(tenant_file(slug));
	cr_assert(eq(int, count_in(a_text, "Dial(PJSIP/"), a_dials + 1), "carol was not applied: %s",
		  a_text);
	free(a_text);
	cr_assert(eq(sz, realtime_rows(), 6 + EMERGENCY_TRUNK_ROWS));
	b_after = testenv_read_file(tenant_file(tenant_b));
	cr_assert(eq(str, b_after, b_before), "the skipped tenant's file was touched");
	snprintf(slug, sizeof(slug), "%s", tenant_b);
	cr_assert(eq(sz, realtime_rows(), b_rows), "the skipped tenant's rows were touched");
	snprintf(slug, sizeof(slug), "ta");
	free(b_before);
	free(b_after);

	/* Still broken: reported again, never taken for "nothing changed". */
	cr_assert(eq(int, full(&changed, NULL, 0, &err), PBX_EPARTIAL), "%s", err.message);
	/* Fixed: everything applies and exits 0. */
	pg_exec(pgdb, "UPDATE users SET outbound_callerid = NULL, display_name = 'Bob B' "
		"WHERE username = 'bob'");
	cr_assert(eq(int, full(&changed, NULL, 0, &err), 0), "%s", err.message);
	cr_assert(changed);
}

/* A scoped apply of the broken tenant still refuses as a whole: nothing to isolate. */
Test(apply_tenants, a_scoped_apply_of_a_bad_tenant_is_refused)
{
	struct pbx_apply_opts o = { .tenant = "tb" };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	user_in(tenant_b, "bob");
	pg_exec(pgdb, "UPDATE users SET outbound_callerid = 'not-a-number' WHERE username = 'bob'");
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), PBX_EINVALID), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, access(tenant_file(tenant_b), F_OK), -1));
}

/* A new context on the same config: the old one keeps a key it loaded. */
static void new_ctx(void)
{
	pbx_error err = PBX_ERROR_INIT;

	pbx_ctx_free(ctx);
	cr_assert(eq(int, pbx_ctx_new(&cfg, &ctx, &err), 0), "%s", err.message);
}

static int jobs_in_db(void)
{
	char *url = with_db(pgdb);
	PGconn *pg = PQconnectdb(url);
	PGresult *r = PQexec(pg, "SELECT count(*) FROM apply_jobs");
	int n = atoi(PQgetvalue(r, 0, 0));

	free(url);
	PQclear(r);
	PQfinish(pg);
	return n;
}

/* Without the private key no tenant can be applied: the apply fails once, before the lock,
 * with one error naming the key file (exit 6), instead of skipping every tenant in turn. */
Test(apply_tenants, a_missing_private_key_fails_the_whole_apply_once)
{
	struct pbx_apply_opts o = { .tenant = NULL }, dry = { .dry_run = true };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;
	char away[300], *out = NULL, *errs = NULL;
	int jobs;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	jobs = jobs_in_db();
	snprintf(away, sizeof(away), "%s.away", cfg.key_file);
	cr_assert(eq(int, rename(cfg.key_file, away), 0));
	new_ctx();
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), PBX_EPERM), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, "private key"), NULL)), "%s", err.message);
	cr_assert(not(eq(ptr, strstr(err.message, cfg.key_file), NULL)), "%s", err.message);
	cr_assert(eq(sz, res.problems.n, 0), "reported per tenant: %s",
		  res.problems.n > 1 ? res.problems.items[1].message : "");
	pbx_apply_result_free(&res);
	cr_assert(eq(int, pbx_apply(ctx, &dry, &res, &err), PBX_EPERM), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, jobs_in_db(), jobs), "a job was recorded");
	cr_assert(eq(int, access(tenant_file(slug), F_OK), -1));
	cr_assert(eq(int, access(tenant_file(tenant_b), F_OK), -1));
	/* The CLI's dry run (a real apply without the key is queued instead): exit 6, one line. */
	cr_assert(eq(int, testenv_run_conf(conf_file(), NULL, &out, &errs, "apply", "--dry-run",
					   NULL), 6), "%s", errs);
	cr_assert(eq(int, count_in(errs, "\n"), 1), "%s", errs);
	cr_assert(not(eq(ptr, strstr(errs, "private key"), NULL)), "%s", errs);
	free(out);
	free(errs);
	/* The key back: both tenants apply. */
	cr_assert(eq(int, rename(away, cfg.key_file), 0));
	new_ctx();
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, access(tenant_file(tenant_b), F_OK), 0));
}

/* A secret that does not open is the bad data of its own tenant only: that tenant is
 * skipped and named, the others are applied. */
Test(apply_tenants, a_secret_that_does_not_open_skips_only_its_tenant)
{
	struct pbx_apply_opts o = { .tenant = NULL };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	pg_exec(pgdb, "UPDATE devices SET secret_sealed = substr(secret_sealed, 1, 20) || "
		"repeat('A', 84) WHERE user_id = (SELECT id FROM users WHERE username = 'bob')");
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), PBX_EPARTIAL), "%s", err.message);
	/* every problem is bob's device (its realtime rows then also miss their password, named
	 * by its endpoint, which carries the tenant's slug) */
	cr_assert(ge(sz, res.problems.n, 1));
	cr_assert(not(eq(ptr, strstr(res.problems.items[0].object, "bob"), NULL)), "%s",
		  res.problems.items[0].object);
	for (size_t i = 1; i < res.problems.n; i++)
		cr_assert(not(eq(ptr, strstr(res.problems.items[i].object, tenant_b), NULL)), "%s: %s",
			  res.problems.items[i].object, res.problems.items[i].message);
	cr_assert(not(eq(ptr, strstr(res.problems.items[0].message, "authentication"), NULL)),
		  "%s", res.problems.items[0].message);
	cr_assert(not(eq(ptr, strstr(err.message, "tb"), NULL)), "%s", err.message);
	pbx_apply_result_free(&res);
	cr_assert(eq(int, access(tenant_file(slug), F_OK), 0));
	cr_assert(eq(int, access(tenant_file(tenant_b), F_OK), -1));
}

/* Run `pbxctl [-o json] apply` with stderr on a new terminal (@tty) or a pipe; what it wrote
 * to stderr (malloc'd) and its exit status in *@status. */
static char *cli_apply(bool tty, bool json, int *status)
{
	char conf[300], *out = calloc(1, 65536);
	size_t len = 0;
	int fd = -1, pipefd[2];
	pid_t child;

	snprintf(conf, sizeof(conf), "%s", conf_file());
	cr_assert_not_null(out);
	if (tty) {
		child = forkpty(&fd, NULL, NULL, NULL);
	} else {
		cr_assert(eq(int, pipe(pipefd), 0));
		child = fork();
		fd = pipefd[0];
	}
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* the environment beats the file: only the file names our databases */
		for (const char *const *v = (const char *const[]){ "PBXCTL_DATABASE_URL",
			"PBXCTL_REALTIME_SOCKET", "PBXCTL_REALTIME_USER", "PBXCTL_REALTIME_PASSWORD",
			"PBXCTL_REALTIME_DATABASE", "PBXCTL_TENANT", NULL }; *v; v++)
			unsetenv(*v);
		if (!tty)
			dup2(pipefd[1], 2);
		dup2(null, 1);
		if (json)
			execl(getenv("PBXCTL_BIN"), "pbxctl", "-c", conf, "-o", "json", "apply",
			      (char *)NULL);
		else
			execl(getenv("PBXCTL_BIN"), "pbxctl", "-c", conf, "apply", (char *)NULL);
		_exit(127);
	}
	if (!tty)
		close(pipefd[1]);
	for (;;) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;   /* EOF, or EIO once the terminal's last writer is gone */
		if (len + (size_t)n < 65535) {
			memcpy(out + len, buf, (size_t)n);
			len += (size_t)n;
		}
	}
	close(fd);
	waitpid(child, status, 0);
	return out;
}

Test(apply_tenants, progress_on_a_terminal_only)
{
	char *err;
	int status;

	user_in(slug, "alice");
	user_in(tenant_b, "bob");
	err = cli_apply(true, false, &status);
	cr_assert(eq(int, WEXITSTATUS(status), 0), "%s", err);
	cr_assert(not(eq(ptr, strstr(err, "planned"), NULL)), "no progress on a terminal: %s", err);
	cr_assert(not(eq(ptr, strstr(err, "100%"), NULL)), "%s", err);
	free(err);

	user_in(slug, "carol");
	err = cli_apply(false, false, &status);
	cr_assert(eq(int, WEXITSTATUS(status), 0), "%s", err);
	cr_assert(eq(ptr, strstr(err, "planned"), NULL), "progress into a pipe: %s", err);
	cr_assert(eq(ptr, strchr(err, '%'), NULL), "%s", err);
	free(err);

	user_in(slug, "dave");
	err = cli_apply(true, true, &status);
	cr_assert(eq(int, WEXITSTATUS(status), 0), "%s", err);
	cr_assert(eq(ptr, strstr(err, "planned"), NULL), "progress beside -o json: %s", err);
	free(err);
}

/* -vv names each step of an apply with its time; without it, none is named. */
Test(apply_tenants, each_step_is_timed_at_debug_level)
{
	static const char *const steps[] = { "planned", "reconciled AstDB", "wrote the files",
		"wrote the realtime rows", "reloaded", "verified", "recorded what was applied" };
	char *out, *errs, line[64];

	user_in(slug, "alice");
	cr_assert(eq(int, testenv_run_conf(conf_file(), NULL, &out, &errs, "-vv", "apply", NULL),
		     0), "%s", errs);
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		snprintf(line, sizeof(line), "pbxctl: apply: %s in ", steps[i]);
		cr_assert(not(eq(ptr, strstr(errs, line), NULL)), "no \"%s\": %s", line, errs);
	}
	free(out);
	free(errs);
	user_in(slug, "bob");
	cr_assert(eq(int, testenv_run_conf(conf_file(), NULL, &out, &errs, "apply", NULL), 0),
		  "%s", errs);
	cr_assert(eq(ptr, strstr(errs, " in "), NULL), "steps timed without -vv: %s", errs);
	free(out);
	free(errs);
	/* nothing changed since: the one step is the check */
	cr_assert(eq(int, testenv_run_conf(conf_file(), NULL, &out, &errs, "-vv", "apply", NULL),
		     0), "%s", errs);
	cr_assert(not(eq(ptr, strstr(errs, "apply: found nothing moved since the last apply in "),
			 NULL)), "%s", errs);
	cr_assert(eq(ptr, strstr(errs, "apply: planned"), NULL), "a no-op planned: %s", errs);
	free(out);
	free(errs);
}

/* The change trigger compares users' columns by name (migration 0022): every column but the
 * self-service ones must be among them, and a change to one moves the tenant's generation
 * while a change to a self-service column does not. */
Test(apply_tenants, every_column_of_users_but_the_self_service_ones_moves_the_generation)
{
	static const char *const gen = "SELECT coalesce((SELECT a.gen FROM apply_changes a "
		"JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'ta'), 0)::text";
	char *missing, *before, *after;

	missing = pg_value("SELECT coalesce(string_agg(c.column_name, ', '), '') "
			   "FROM information_schema.columns c WHERE c.table_schema = 'public' AND "
			   "c.table_name = 'users' AND c.column_name NOT IN ('id', 'has_pin', 'dnd', "
			   "'forward_to', 'vm_pin_verifier_sealed', 'astdb_pending') AND NOT "
			   "pg_get_functiondef('users_apply_change_bump'::regproc) ~ "
			   "('\\mn\\.' || c.column_name || '\\M.*\\mo\\.' || c.column_name || '\\M')");
	cr_assert(eq(str, missing, ""), "users_apply_change_bump does not compare: %s", missing);
	free(missing);

	user_in(slug, "alice");
	before = pg_value(gen);
	pg_exec(pgdb, "UPDATE users SET astdb_pending = NOT astdb_pending, dnd = NOT dnd, "
		"forward_to = '201' WHERE username = 'alice'");
	after = pg_value(gen);
	cr_assert(eq(str, after, before), "a self-service change moved the generation");
	free(after);
	pg_exec(pgdb, "UPDATE users SET email = 'alice@example.org' WHERE username = 'alice'");
	after = pg_value(gen);
	cr_assert(not(eq(str, after, before)), "an e-mail change did not move the generation");
	free(after);
	free(before);
}
