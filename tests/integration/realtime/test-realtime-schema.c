/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of the realtime schema and connection against the test MariaDB: the
 * tables pbx_realtime_migrate creates match realtime-schema.md column for column (names,
 * COLUMN_TYPE, nullability, order) and key for key; migrate is idempotent; a table that
 * already exists, foreign rows and all, is left exactly as it was; an old table lacking a
 * column pbxctl writes is reported; connection failures map to the right codes without
 * leaking the password. These tests drop and recreate the realtime tables, and leave a
 * freshly migrated schema behind.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "rt-test.h"

static const char *const all_tables[] = {
	"ps_endpoints", "ps_auths", "ps_aors", "ps_contacts", "ps_registrations",
	"ps_endpoint_id_ips", "voicemail", "ps_domain_aliases", "pbxctl_realtime_rows",
};
#define N_TABLES (sizeof(all_tables) / sizeof(all_tables[0]))

static void drop_all(MYSQL *m)
{
	/* identifiers cannot be parameters; these are the test's own constants */
	static const char *const drops[] = {
		"DROP TABLE IF EXISTS ps_endpoints", "DROP TABLE IF EXISTS ps_auths",
		"DROP TABLE IF EXISTS ps_aors", "DROP TABLE IF EXISTS ps_contacts",
		"DROP TABLE IF EXISTS ps_registrations", "DROP TABLE IF EXISTS ps_endpoint_id_ips",
		"DROP TABLE IF EXISTS voicemail", "DROP TABLE IF EXISTS ps_domain_aliases",
		"DROP TABLE IF EXISTS pbxctl_realtime_rows",
	};

	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		rt_test_exec(m, drops[i], NULL, 0);
}

/* Leave a freshly migrated schema for whatever runs next. */
static void restore_schema(void)
{
	MYSQL *m = rt_test_raw();
	pbx_realtime *rt;

	drop_all(m);
	mysql_close(m);
	rt = rt_test_connect();
	pbx_realtime_close(rt);
}

TestSuite(schema, .fini = restore_schema);

/* The fixture's lines for @table, in file order, fields joined by '|'. */
static char *fixture_lines(const char *file, const char *table)
{
	char path[512], *line = NULL, *out = NULL;
	size_t cap = 0, size = 0, tl = strlen(table);
	FILE *f, *o;

	snprintf(path, sizeof(path), "%s/%s", RT_FIXTURE_DIR, file);
	f = fopen(path, "r");
	cr_assert(f != NULL, "cannot open %s", path);
	o = open_memstream(&out, &size);
	while (getline(&line, &cap, f) >= 0) {
		if (line[0] == '#' || strncmp(line, table, tl) != 0 || line[tl] != '\t')
			continue;
		/* the database side joins fields with '|' */
		for (char *t = strchr(line, '\t'); t; t = strchr(t, '\t'))
			*t = '|';
		fputs(line, o);
	}
	fclose(o);
	fclose(f);
	free(line);
	return out;
}

/* Report the first differing line, which says far more than two 10 kB strings. */
static void assert_same_text(const char *what, const char *got, const char *want)
{
	const char *g = got, *w = want;
	int line = 1;
	bool done;

	while (*g && *w) {
		const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
		size_t gl = ge ? (size_t)(ge - g) : strlen(g), wl = we ? (size_t)(we - w) : strlen(w);

		if (gl != wl || memcmp(g, w, gl) != 0)
			cr_fatal("%s line %d:\n  got:  %.*s\n  want: %.*s", what, line, (int)gl, g,
				 (int)wl, w);
		g += gl + (ge ? 1 : 0);
		w += wl + (we ? 1 : 0);
		line++;
	}
	done = *g == 0 && *w == 0;

	cr_assert(done, "%s: %s", what, *g ? "extra lines in the database" :
		  "lines missing in the database");
}

static char *db_columns(MYSQL *m, const char *table)
{
	const char *p[] = { table };

	return rt_test_query(m,
		"SELECT table_name, ordinal_position, column_name, column_type, is_nullable"
		" FROM information_schema.columns WHERE table_schema = DATABASE()"
		" AND table_name = ? ORDER BY ordinal_position", p, 1);
}

static char *db_keys(MYSQL *m, const char *table)
{
	const char *p[] = { table };

	return rt_test_query(m,
		"SELECT table_name, index_name, IF(MIN(non_unique) = 0, 'unique', 'nonunique'),"
		" GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ',')"
		" FROM information_schema.statistics WHERE table_schema = DATABASE()"
		" AND table_name = ? GROUP BY table_name, index_name"
		" ORDER BY index_name = 'PRIMARY' DESC, index_name = 'id' DESC, index_name", p, 1);
}

/* Compare two index names, each ending at '|'. */
static int name_cmp(const char *a, const char *b)
{
	size_t la = strcspn(a, "|"), lb = strcspn(b, "|");
	int c = strncmp(a, b, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

/* The fixture's key lines in the order db_keys sorts them. */
static char *sorted_fixture_keys(const char *table)
{
	char *text = fixture_lines("expected-keys.txt", table), *lines[32], *save = NULL;
	char *out = NULL;
	size_t n = 0, size = 0;
	FILE *o;

	for (char *l = strtok_r(text, "\n", &save); l && n < 32; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	/* PRIMARY first, then "id", then the rest by name: the same order as db_keys */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			const char *a = strchr(lines[j - 1], '|') + 1, *b = strchr(lines[j], '|') + 1;
			int ra = !strncmp(a, "PRIMARY|", 8) ? 0 : !strncmp(a, "id|", 3) ? 1 : 2;
			int rb = !strncmp(b, "PRIMARY|", 8) ? 0 : !strncmp(b, "id|", 3) ? 1 : 2;
			char *t;

			if (ra < rb || (ra == rb && name_cmp(a, b) <= 0))
				break;
			t = lines[j];
			lines[j] = lines[j - 1];
			lines[j - 1] = t;
		}
	}
	o = open_memstream(&out, &size);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%s\n", lines[i]);
	fclose(o);
	free(text);
	return out;
}

Test(schema, fresh_tables_match_the_reference_column_for_column)
{
	MYSQL *m = rt_test_raw();
	pbx_realtime *rt;

	drop_all(m);
	rt = rt_test_connect();
	for (size_t i = 0; i < N_TABLES; i++) {
		char *want = fixture_lines("expected-columns.txt", all_tables[i]);
		char *got = db_columns(m, all_tables[i]);
		char what[96];

		cr_assert(strlen(want) > 0, "no fixture lines for %s", all_tables[i]);
		snprintf(what, sizeof(what), "columns of %s", all_tables[i]);
		assert_same_text(what, got, want);
		free(want);
		free(got);
	}
	pbx_realtime_close(rt);
	mysql_close(m);
}

Test(schema, fresh_tables_have_the_reference_keys_engine_and_charset)
{
	MYSQL *m = rt_test_raw();
	pbx_realtime *rt;

	drop_all(m);
	rt = rt_test_connect();
	for (size_t i = 0; i < N_TABLES; i++) {
		const char *p[] = { all_tables[i] };
		char *want = sorted_fixture_keys(all_tables[i]);
		char *got = db_keys(m, all_tables[i]);
		char *engine;
		char what[96];

		snprintf(what, sizeof(what), "keys of %s", all_tables[i]);
		assert_same_text(what, got, want);
		engine = rt_test_query(m,
			"SELECT engine, LEFT(table_collation, 8) FROM information_schema.tables"
			" WHERE table_schema = DATABASE() AND table_name = ?", p, 1);
		cr_assert(eq(str, engine, "InnoDB|utf8mb4_\n"), "%s", all_tables[i]);
		free(engine);
		free(want);
		free(got);
	}
	pbx_realtime_close(rt);
	mysql_close(m);
}

Test(schema, column_comparison_notices_a_wrong_type)
{
	/* the partner of the test above: the comparison must see a difference */
	MYSQL *m = rt_test_raw();
	pbx_realtime *rt;
	char *want, *got;

	drop_all(m);
	rt = rt_test_connect();
	rt_test_exec(m, "ALTER TABLE ps_auths MODIFY password varchar(64) NULL", NULL, 0);
	want = fixture_lines("expected-columns.txt", "ps_auths");
	got = db_columns(m, "ps_auths");
	cr_assert(strcmp(want, got) != 0);
	cr_assert(strstr(got, "|password|varchar(64)|YES") != NULL);
	free(want);
	free(got);
	pbx_realtime_close(rt);
	mysql_close(m);
}

Test(schema, migrate_twice_changes_nothing)
{
	MYSQL *m = rt_test_raw();
	pbx_realtime *rt;
	pbx_error err = PBX_ERROR_INIT;
	char *before[N_TABLES], *after;
	const char *row[] = { "keep-me", "udp-foreign" };

	drop_all(m);
	rt = rt_test_connect();
	rt_test_exec(m, "INSERT INTO ps_endpoints (id, transport) VALUES (?, ?)", row, 2);
	for (size_t i = 0; i < N_TABLES; i++)
		before[i] = db_columns(m, all_tables[i]);
	cr_assert(eq(int, pbx_realtime_migrate(rt, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_realtime_migrate(rt, &err), 0), "%s", err.message);
	for (size_t i = 0; i < N_TABLES; i++) {
		after = db_columns(m, all_tables[i]);
		cr_assert(eq(str, after, before[i]));
		free(after);
		free(before[i]);
	}
	after = rt_test_query(m, "SELECT id, transport FROM ps_endpoints", NULL, 0);
	cr_assert(eq(str, after, "keep-me|udp-foreign\n"));
	free(after);
	pbx_realtime_close(rt);
	mysql_close(m);
}

/* A ps_endpoints as an older Asterisk made it: fewer columns, one of a site's own. */
static const char old_endpoints[] =
	"CREATE TABLE ps_endpoints (id varchar(40) NOT NULL, transport varchar(40),"
	" aors varchar(200), auth varchar(40), context varchar(40), disallow varchar(200),"
	" allow varchar(200), direct_media enum('yes','no'), dtmf_mode varchar(20),"
	" force_rport enum('yes','no'), mailboxes varchar(40), rewrite_contact enum('yes','no'),"
	" rtp_symmetric enum('yes','no'), callerid varchar(40), webrtc enum('yes','no'),"
	" outbound_auth varchar(255), from_user varchar(40), from_domain varchar(40),"
	" identify_by varchar(80),"
	" site_note varchar(80), UNIQUE KEY id (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

Test(schema, existing_table_and_its_foreign_row_survive_migrate)
{
	MYSQL *m = rt_test_raw();
	pbx_realtime *rt;
	char *cols_before, *cols_after, *rows;
	const char *row[] = { "site-phone", "transport-udp", "site-ctx", "hand made" };

	drop_all(m);
	rt_test_exec(m, old_endpoints, NULL, 0);
	rt_test_exec(m, "INSERT INTO ps_endpoints (id, transport, context, site_note)"
		     " VALUES (?, ?, ?, ?)", row, 4);
	cols_before = db_columns(m, "ps_endpoints");
	rt = rt_test_connect();   /* migrates */
	cols_after = db_columns(m, "ps_endpoints");
	cr_assert(eq(str, cols_after, cols_before));
	cr_assert(strstr(cols_after, "|site_note|") != NULL);
	rows = rt_test_query(m, "SELECT id, transport, context, site_note, allow FROM ps_endpoints",
			     NULL, 0);
	cr_assert(eq(str, rows, "site-phone|transport-udp|site-ctx|hand made|NULL\n"));
	free(rows);
	/* the tables that were missing were created */
	rows = rt_test_query(m, "SELECT COUNT(*) FROM information_schema.tables"
			     " WHERE table_schema = DATABASE() AND table_name IN ('ps_auths',"
			     " 'ps_aors', 'ps_contacts', 'pbxctl_realtime_rows', 'voicemail')",
			     NULL, 0);
	cr_assert(eq(str, rows, "5\n"));
	free(rows);
	free(cols_before);
	free(cols_after);
	pbx_realtime_close(rt);
	mysql_close(m);
}

Test(schema, old_table_lacking_a_written_column_is_reported)
{
	MYSQL *m = rt_test_raw();
	struct pbx_realtime_config cfg = rt_test_config();
	pbx_realtime *rt = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char *cols_before, *cols_after;

	drop_all(m);
	rt_test_exec(m, old_endpoints, NULL, 0);
	rt_test_exec(m, "ALTER TABLE ps_endpoints DROP COLUMN webrtc", NULL, 0);
	cols_before = db_columns(m, "ps_endpoints");
	cr_assert(eq(int, pbx_realtime_connect(&cfg, &rt, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_realtime_migrate(rt, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, "ps_endpoints"));
	cr_assert(eq(str, err.field, "webrtc"));
	cr_assert(strstr(err.message, "webrtc") != NULL, "%s", err.message);
	cols_after = db_columns(m, "ps_endpoints");
	cr_assert(eq(str, cols_after, cols_before));
	free(cols_before);
	free(cols_after);
	pbx_realtime_close(rt);
	mysql_close(m);
}

Test(connect, unreachable_socket_is_unavailable_and_names_it)
{
	struct pbx_realtime_config cfg = rt_test_config();
	pbx_realtime *rt = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cfg.socket = "/nonexistent/pbxctl-test.sock";
	cfg.password = "Secret-Do-Not-Show";
	cfg.timeout_ms = 1000;
	cr_assert(eq(int, pbx_realtime_connect(&cfg, &rt, &err), PBX_EUNAVAILABLE));
	cr_assert(rt == NULL);
	cr_assert(eq(str, err.message, "mariadb at /nonexistent/pbxctl-test.sock is unreachable"));
	cr_assert(strstr(err.detail, "Secret-Do-Not-Show") == NULL);
}

Test(connect, unreachable_host_names_host_and_port)
{
	struct pbx_realtime_config cfg = rt_test_config();
	pbx_realtime *rt = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cfg.socket = NULL;
	cfg.host = "127.0.0.1";
	cfg.port = 1;   /* nothing listens on port 1 */
	cfg.timeout_ms = 1000;
	cr_assert(eq(int, pbx_realtime_connect(&cfg, &rt, &err), PBX_EUNAVAILABLE));
	cr_assert(eq(str, err.message, "mariadb at 127.0.0.1:1 is unreachable"));
}

Test(connect, wrong_password_is_permission_denied_without_the_password)
{
	struct pbx_realtime_config cfg = rt_test_config();
	pbx_realtime *rt = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cfg.password = "Wrong-Secret-42";
	cr_assert(eq(int, pbx_realtime_connect(&cfg, &rt, &err), PBX_EPERM));
	cr_assert(rt == NULL);
	cr_assert(strstr(err.message, "Wrong-Secret-42") == NULL);
	cr_assert(strstr(err.detail, "Wrong-Secret-42") == NULL);
	cr_assert(strstr(err.message, cfg.socket) != NULL, "%s", err.message);
}

Test(connect, missing_user_or_database_is_invalid)
{
	struct pbx_realtime_config cfg = rt_test_config();
	pbx_realtime *rt = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cfg.database = NULL;
	cr_assert(eq(int, pbx_realtime_connect(&cfg, &rt, &err), PBX_EINVALID));
}
