/* SPDX-License-Identifier: MIT */
/*
 * The audit chain: verify passes on an honest log and names the first changed or removed
 * row. Tampering needs the append-only triggers off, as an attacker with superuser would.
 * These tests change rows of the shared log, so each restores what it changed.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/audit.h"
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
