/* SPDX-License-Identifier: MIT */
/*
 * The audit chain: verify passes on an honest log and names the first changed or removed
 * row; with an anchor saved by `pbxctl audit anchor` it also catches what the chain alone
 * cannot: rows removed from its end, and a chain rewritten with fresh hashes. Tampering needs the append-only triggers off, as an attacker with superuser would.
 * These tests change rows of the shared log, so each restores what it changed.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/audit.h"
#include "pbx/tenant.h"
#include "testenv.h"

static struct pbx_config cfg;
static pbx_ctx *ctx;
static char anchor_path[64];

static void setup(void)
{
	ctx = testenv_ctx(&cfg);
	snprintf(anchor_path, sizeof(anchor_path), "/tmp/pbxctl-anchor-%d", (int)getpid());
}

static void teardown(void)
{
	unlink(anchor_path);
	testenv_free(ctx, &cfg);
}

TestSuite(audit_chain, .init = setup, .fini = teardown);

static void exec(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);

	cr_assert(eq(int, PQresultStatus(res) == PGRES_COMMAND_OK ||
			   PQresultStatus(res) == PGRES_TUPLES_OK, 1), "%s: %s", sql,
		  PQerrorMessage(pg));
	PQclear(res);
}

static void three_rows(void)
{
	char s[32];
	struct pbx_tenant_spec spec = { .extensions = "1000-1999" };
	struct pbx_rows rows;
	pbx_error err;
	bool changed;

	snprintf(s, sizeof(s), "%s", testenv_slug("chain"));
	spec.slug = s;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0));
	pbx_rows_free(&rows);
	spec = (struct pbx_tenant_spec){ .name = "B" };
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
	spec.name = "C";
	cr_assert(eq(int, pbx_tenant_update(ctx, s, &spec, &rows, &changed, &err), 0));
	pbx_rows_free(&rows);
}

Test(audit_chain, honest_log_verifies)
{
	struct pbx_rows rows;
	pbx_error err;

	three_rows();
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "ok"));
	pbx_rows_free(&rows);
}

Test(audit_chain, log_refuses_update_and_delete)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	PGresult *res;

	three_rows();
	res = PQexec(pg, "UPDATE audit_log SET actor = 'mallory' WHERE id = (SELECT max(id) FROM audit_log)");
	cr_assert(eq(int, PQresultStatus(res), PGRES_FATAL_ERROR));
	cr_assert(eq(str, PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501"));
	PQclear(res);
	res = PQexec(pg, "DELETE FROM audit_log");
	cr_assert(eq(int, PQresultStatus(res), PGRES_FATAL_ERROR));
	PQclear(res);
	PQfinish(pg);
}

Test(audit_chain, changed_row_is_named_then_removed_row_is_named)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	struct pbx_rows rows;
	pbx_error err;
	char mid[32], last[32], sql[512];
	PGresult *res;

	three_rows();
	res = PQexec(pg, "SELECT id FROM audit_log ORDER BY id DESC LIMIT 2");
	snprintf(last, sizeof(last), "%s", PQgetvalue(res, 0, 0));
	snprintf(mid, sizeof(mid), "%s", PQgetvalue(res, 1, 0));
	PQclear(res);
	exec(pg, "ALTER TABLE audit_log DISABLE TRIGGER USER");
	exec(pg, "CREATE TEMP TABLE saved AS SELECT * FROM audit_log");

	/* A changed row: its own hash no longer matches. */
	snprintf(sql, sizeof(sql), "UPDATE audit_log SET actor = 'mallory' WHERE id = %s", mid);
	exec(pg, sql);
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), PBX_ERROR));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "first_bad_id"), mid));
	cr_assert(not(eq(ptr, strstr(err.message, "was changed"), NULL)), "%s", err.message);
	pbx_rows_free(&rows);
	snprintf(sql, sizeof(sql), "UPDATE audit_log a SET actor = s.actor FROM saved s "
		 "WHERE a.id = s.id AND a.id = %s", mid);
	exec(pg, sql);

	/* A removed row: the next one chains to a hash that is gone. */
	snprintf(sql, sizeof(sql), "DELETE FROM audit_log WHERE id = %s", mid);
	exec(pg, sql);
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), PBX_ERROR));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "first_bad_id"), last));
	cr_assert(not(eq(ptr, strstr(err.message, "removed"), NULL)), "%s", err.message);
	pbx_rows_free(&rows);
	snprintf(sql, sizeof(sql), "INSERT INTO audit_log SELECT * FROM saved WHERE id = %s", mid);
	exec(pg, sql);
	exec(pg, "ALTER TABLE audit_log ENABLE TRIGGER USER");
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	PQfinish(pg);
}

/* Save `pbxctl [-o FORMAT] audit anchor` to the anchor file. */
static void save_anchor(const char *format)
{
	char *out, *errtext;
	FILE *f;
	int st = format ? testenv_run(&out, &errtext, "-o", format, "audit", "anchor", (char *)NULL)
			: testenv_run(&out, &errtext, "audit", "anchor", (char *)NULL);

	cr_assert(eq(int, st, 0), "%s", errtext);
	f = fopen(anchor_path, "w");
	fputs(out, f);
	fclose(f);
	free(out);
	free(errtext);
}

/* `pbxctl audit verify --anchor FILE`: its exit status; *ret_err its stderr (malloc'd). */
static int verify_anchor(const char *path, char **ret_err)
{
	char *out;
	int st = testenv_run(&out, ret_err, "audit", "verify", "--anchor", path, (char *)NULL);

	free(out);
	return st;
}

Test(audit_chain, untouched_log_verifies_against_its_anchor_in_both_forms)
{
	char *errtext;

	three_rows();
	save_anchor(NULL);
	three_rows();   /* rows after the anchor are fine */
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 0), "%s", errtext);
	free(errtext);
	save_anchor("json");
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 0), "%s", errtext);
	free(errtext);
}

Test(audit_chain, rows_removed_from_the_end_are_detected)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	struct pbx_rows rows;
	pbx_error err;
	char *errtext, sql[256];
	PGresult *res;
	long last;

	three_rows();
	save_anchor(NULL);
	res = PQexec(pg, "SELECT max(id) FROM audit_log");
	last = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	exec(pg, "ALTER TABLE audit_log DISABLE TRIGGER USER");
	exec(pg, "CREATE TEMP TABLE saved AS SELECT * FROM audit_log");
	snprintf(sql, sizeof(sql), "DELETE FROM audit_log WHERE id > %ld", last - 2);
	exec(pg, sql);
	/* The chain alone still holds together: that is what the anchor is for. */
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 1), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, "removed from the end"), NULL)), "%s", errtext);
	free(errtext);
	snprintf(sql, sizeof(sql), "INSERT INTO audit_log SELECT * FROM saved WHERE id > %ld", last - 2);
	exec(pg, sql);
	exec(pg, "ALTER TABLE audit_log ENABLE TRIGGER USER");
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 0), "%s", errtext);
	free(errtext);
	PQfinish(pg);
}

/* Change row @id and recompute every hash from it on, as a careful attacker would. */
static void rewrite_from(PGconn *pg, long id, const char *actor)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "DO $$ DECLARE r audit_log; prev text; BEGIN "
		 "UPDATE audit_log SET actor = '%s' WHERE id = %ld; "
		 "SELECT hash INTO prev FROM audit_log WHERE id < %ld ORDER BY id DESC LIMIT 1; "
		 "prev := coalesce(prev, repeat('0', 64)); "
		 "FOR r IN SELECT * FROM audit_log WHERE id >= %ld ORDER BY id LOOP "
		 "r.prev_hash := prev; r.hash := audit_row_hash(prev, r); "
		 "UPDATE audit_log SET prev_hash = r.prev_hash, hash = r.hash WHERE id = r.id; "
		 "prev := r.hash; END LOOP; END $$", actor, id, id, id);
	exec(pg, sql);
}

Test(audit_chain, rewritten_chain_is_detected)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	struct pbx_rows rows;
	pbx_error err;
	char *errtext, actor[64];
	PGresult *res;
	long mid;

	three_rows();
	save_anchor("json");
	res = PQexec(pg, "SELECT id, actor FROM audit_log ORDER BY id DESC OFFSET 1 LIMIT 1");
	mid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(actor, sizeof(actor), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	exec(pg, "ALTER TABLE audit_log DISABLE TRIGGER USER");
	rewrite_from(pg, mid, "mallory");
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 1), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, "rewritten"), NULL)), "%s", errtext);
	free(errtext);
	rewrite_from(pg, mid, actor);
	exec(pg, "ALTER TABLE audit_log ENABLE TRIGGER USER");
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 0), "%s", errtext);
	free(errtext);
	PQfinish(pg);
}

Test(audit_chain, bad_anchor_file_is_refused_naming_the_file_and_field)
{
	char *errtext;
	FILE *f;

	cr_assert(eq(int, verify_anchor("/nonexistent/anchor", &errtext), 4), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, "/nonexistent/anchor"), NULL)), "%s", errtext);
	free(errtext);
	f = fopen(anchor_path, "w");
	fputs("id 12\ncount 12\nhash 12ab\n", f);
	fclose(f);
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 3), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, "hash must be 64"), NULL)), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, anchor_path), NULL)), "%s", errtext);
	free(errtext);
	f = fopen(anchor_path, "w");
	fputs("hello\n", f);
	fclose(f);
	cr_assert(eq(int, verify_anchor(anchor_path, &errtext), 3), "%s", errtext);
	cr_assert(not(eq(ptr, strstr(errtext, "no id"), NULL)), "%s", errtext);
	free(errtext);
}

/* The one value of @sql (malloc'd, "" for NULL); fails the test on error. */
static char *value(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	char *v;

	cr_assert(eq(int, PQresultStatus(res), PGRES_TUPLES_OK), "%s: %s", sql, PQerrorMessage(pg));
	v = strdup(PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return v;
}

/* A change made on a phone (audit_append_as) and one made by an operator (audit_append,
 * a wrapper over the same writer since migration 0019) chain into one log that verifies. */
Test(audit_chain, phone_and_operator_rows_share_one_writer_and_verify)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL"));
	struct pbx_rows rows;
	pbx_error err;
	char *phone, *v;

	cr_assert(eq(int, PQstatus(pg), CONNECTION_OK), "%s", PQerrorMessage(pg));
	phone = value(pg, "SELECT audit_append_as('chain-alice', 'device chain-phone', NULL, "
			  "'update', 'user', '1', NULL, '{\"dnd\": true}')");
	three_rows();
	/* the phone's row: its actor, no operator role */
	v = value(pg, "SELECT actor || '|' || source || '|' || coalesce(actor_role, 'none') "
		      "FROM audit_log WHERE id = (SELECT max(id) FROM audit_log "
		      "WHERE actor = 'chain-alice')");
	cr_assert(eq(str, v, "chain-alice|device chain-phone|none"));
	free(v);
	/* the operator's row after it: the session's login and role, chained to the phone's */
	v = value(pg, "SELECT (actor = session_user)::text || '|' || coalesce(actor_role, 'none') "
		      "FROM audit_log ORDER BY id DESC LIMIT 1");
	cr_assert(eq(str, v, "true|platform_admin"));
	free(v);
	v = value(pg, "SELECT max(id) FROM audit_log");
	cr_assert(eq(int, atoll(v) > atoll(phone), 1));
	free(v);
	free(phone);
	cr_assert(eq(int, pbx_audit_verify(ctx, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "status"), "ok"));
	pbx_rows_free(&rows);
	PQfinish(pg);
}

/* Writing a row in someone else's name stays pbxctl's own: an operator's login may call
 * neither audit_append_as nor audit_write, and the log is unchanged. */
Test(audit_chain, an_operator_cannot_write_rows_in_another_name)
{
	PGconn *pg = PQconnectdb(getenv("PBXCTL_TEST_DATABASE_URL")), *op;
	char login[64], sql[256], url[1024], *before, *after;
	PGresult *res;

	cr_assert(eq(int, PQstatus(pg), CONNECTION_OK), "%s", PQerrorMessage(pg));
	snprintf(login, sizeof(login), "chain_op_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", login);
	exec(pg, sql);
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", login);
	exec(pg, sql);
	snprintf(url, sizeof(url), "%s user=%s", getenv("PBXCTL_TEST_DATABASE_URL"), login);
	op = PQconnectdb(url);
	cr_assert(eq(int, PQstatus(op), CONNECTION_OK), "%s", PQerrorMessage(op));
	before = value(pg, "SELECT count(*) FROM audit_log");
	res = PQexec(op, "SELECT audit_append_as('mallory', 'x', NULL, 'update', 'user', '1', "
			 "NULL, NULL)");
	cr_assert(eq(int, PQresultStatus(res), PGRES_FATAL_ERROR));
	cr_assert(eq(str, PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501"), "%s",
		  PQerrorMessage(op));
	PQclear(res);
	res = PQexec(op, "SELECT audit_write('x', NULL, 'update', 'user', '1', NULL, NULL)");
	cr_assert(eq(int, PQresultStatus(res), PGRES_FATAL_ERROR));
	cr_assert(eq(str, PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501"), "%s",
		  PQerrorMessage(op));
	PQclear(res);
	PQfinish(op);
	after = value(pg, "SELECT count(*) FROM audit_log");
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
	snprintf(sql, sizeof(sql), "DROP ROLE %s", login);
	exec(pg, sql);
	PQfinish(pg);
}
