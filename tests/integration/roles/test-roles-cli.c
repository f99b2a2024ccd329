/* SPDX-License-Identifier: MIT */
/*
 * The roles through the built pbxctl, connected as each operator's own login: what each may
 * do, the clean one-line refusals (exit 6 for a refused change, 4 for a row of another
 * tenant, which looks like one that does not exist), the server functions of migration 0006
 * working under row-level security, and the operator verbs with their bad input.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roles-itest.h"
#include "testenv.h"

TestSuite(roles_cli);

/* Run pbxctl as @login (NULL: the owner) and check the exit status; returns stdout (caller
 * frees) and leaves stderr in @errbuf. */
static char errbuf[4096];

#define AS(login, status, ...) as_run(login, status, __FILE__, __LINE__, __VA_ARGS__, NULL)

static char *as_run(const char *login, int status, const char *file, int line, const char *arg, ...)
{
	const char *argv[32];
	char *out, *err;
	va_list ap;
	int n = 0, r;

	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
#define A(i) (i < n ? argv[i] : NULL)
	if (login)
		r = testenv_run_as(login, &out, &err, A(0), A(1), A(2), A(3), A(4), A(5), A(6), A(7),
				   A(8), A(9), A(10), A(11), NULL);
	else
		r = testenv_run(&out, &err, A(0), A(1), A(2), A(3), A(4), A(5), A(6), A(7), A(8),
				A(9), A(10), A(11), NULL);
#undef A
	snprintf(errbuf, sizeof(errbuf), "%s", err);
	free(err);
	cr_assert(eq(int, r, status), "%s:%d: %s %s ...: exit %d, stderr: %s", file, line,
		  login ? login : "owner", arg, r, errbuf);
	return out;
}

static void key_init(void)
{
	free(AS(NULL, 0, "secrets", "init"));
}

Test(roles_cli, tenant_admin_works_in_its_tenant_and_cannot_reach_another)
{
	struct world w;
	char *out;

	world_make(&w);
	key_init();
	/* Its own tenant: list, create (the fast path of migration 0006), update, delete. */
	out = AS(w.ta, 0, "-t", w.a, "user", "list", "-o", "json");
	cr_assert(strstr(out, w.ua) && !strstr(out, w.ub), "%s", out);
	free(out);
	free(AS(w.ta, 0, "-t", w.a, "user", "create", "carol", "--name", "Carol"));
	free(AS(w.ta, 0, "-t", w.a, "device", "create", "carol", "desk"));
	free(AS(w.ta, 0, "-t", w.a, "user", "update", "carol", "--name", "Caroline"));
	free(AS(w.ta, 0, "-t", w.a, "did", "list"));
	out = AS(w.ta, 0, "trunk", "list", "-o", "json");
	cr_assert(strstr(out, w.trunk_a) && strstr(out, w.trunk_g) && !strstr(out, w.trunk_b), "%s", out);
	free(out);
	out = AS(w.ta, 0, "audit", "list", "-o", "json");
	cr_assert(strstr(out, w.a) && !strstr(out, w.b), "%s", out);
	free(out);
	/* The audit row names the operator and its role, taken on the server. */
	out = rt_owner_value("SELECT actor || ' ' || actor_role FROM audit_log WHERE tenant = $1 "
			     "AND entity = 'device' ORDER BY id DESC LIMIT 1", w.a);
	cr_assert(strstr(out, w.ta) == out && strstr(out, " tenant_admin"), "%s", out);
	free(out);

	/* Another tenant: every verb finds nothing there, and says who looked. */
	free(AS(w.ta, 4, "-t", w.b, "user", "list"));
	cr_assert(strstr(errbuf, "is out of reach of operator") && strstr(errbuf, "tenant_admin of"),
		  "%s", errbuf);
	cr_assert(eq(int, (int)(strchr(errbuf, '\n') - errbuf) + 1, (int)strlen(errbuf)), "one line: %s", errbuf);
	free(AS(w.ta, 4, "-t", w.b, "user", "show", w.ub));
	free(AS(w.ta, 4, "-t", w.b, "user", "create", "intruder"));
	free(AS(w.ta, 4, "-t", w.b, "user", "update", w.ub, "--name", "x"));
	free(AS(w.ta, 4, "-t", w.b, "user", "delete", w.ub));
	free(AS(w.ta, 4, "-t", w.b, "device", "list", w.ub));
	free(AS(w.ta, 4, "-t", w.b, "did", "list"));
	free(AS(w.ta, 4, "-t", w.b, "policy", "list"));
	free(AS(w.ta, 4, "tenant", "show", w.b));
	free(AS(w.ta, 4, "trunk", "show", w.trunk_b));
	free(AS(w.ta, 4, "trunk", "delete", w.trunk_b));
	out = rt_owner_value("SELECT count(*) FROM users WHERE tenant_id = $1::bigint AND status = 'active'", w.b_id);
	cr_assert(eq(str, out, "2"));
	free(out);
}

Test(roles_cli, tenant_admin_cannot_create_tenants_global_trunks_or_change_range_and_status)
{
	struct world w;
	char *out;

	world_make(&w);
	free(AS(w.ta, 6, "tenant", "create", "evil-co", "--extensions", "100-199"));
	cr_assert(strstr(errbuf, "tenant evil-co: not allowed for operator") &&
		  strstr(errbuf, "(tenant_admin of "), "%s", errbuf);
	free(AS(w.ta, 6, "trunk", "create", "evil-g", "--global", "--host", "h.example.com",
		"--auth", "ip_auth", "--match", "192.0.2.7/32"));
	free(AS(w.ta, 6, "tenant", "update", w.a, "--extensions", "1000-9999"));
	free(AS(w.ta, 6, "tenant", "suspend", w.a));
	free(AS(w.ta, 6, "tenant", "delete", w.a, "--force"));
	free(AS(w.ta, 6, "operator", "add", "evil", "--role", "platform_admin", "--create-login"));
	/* A global trunk is visible to it, but not its to change. */
	free(AS(w.ta, 0, "trunk", "show", w.trunk_g));
	free(AS(w.ta, 4, "trunk", "update", w.trunk_g, "--host", "evil.example.com"));
	/* Its tenant's name it may change. */
	free(AS(w.ta, 0, "tenant", "update", w.a, "--name", "A Co"));
	out = rt_owner_value("SELECT display_name || ' ' || ext_min || '-' || ext_max || ' ' || status "
			     "FROM tenants WHERE id = $1::bigint", w.a_id);
	cr_assert(eq(str, out, "A Co 1000-1999 active"));
	free(out);
	out = rt_owner_value("SELECT host FROM trunks WHERE id = $1::bigint", w.trunk_g_id);
	cr_assert(eq(str, out, "sip.example.com"));
	free(out);
}

Test(roles_cli, support_reads_and_cannot_write)
{
	struct world w;
	char *out;

	world_make(&w);
	out = AS(w.sup, 0, "-t", w.b, "user", "list");
	cr_assert(strstr(out, w.ub) != NULL, "%s", out);
	free(out);
	free(AS(w.sup, 0, "tenant", "list"));
	free(AS(w.sup, 0, "audit", "list"));
	/* Support sees that a PIN is set, without the column that holds its hash. */
	free(AS(NULL, 0, "-t", w.a, "user", "update", w.ua, "--pin", "482913"));
	out = AS(w.sup, 0, "-t", w.a, "user", "show", w.ua, "-o", "json");
	cr_assert(strstr(out, "\"pin\": \"********\"") != NULL, "%s", out);
	free(out);
	free(AS(w.sup, 6, "-t", w.a, "user", "create", "x"));
	cr_assert(strstr(errbuf, "not allowed for operator") && strstr(errbuf, "(support)"), "%s", errbuf);
	free(AS(w.sup, 6, "-t", w.a, "user", "update", w.ua, "--name", "x"));
	free(AS(w.sup, 6, "tenant", "update", w.a, "--name", "x"));
	free(AS(w.sup, 6, "tenant", "create", "sup-co", "--extensions", "100-199"));
	/* Support of one tenant reads that one only. */
	free(AS(w.sup_a, 0, "-t", w.a, "user", "list"));
	free(AS(w.sup_a, 4, "-t", w.b, "user", "list"));
}

Test(roles_cli, end_user_cannot_change_its_extension_or_anyone_else)
{
	struct world w;
	char *out;

	world_make(&w);
	key_init();
	free(AS(w.eu, 6, "-t", w.a, "user", "update", w.ua, "--extension", "1500"));
	{
		char other[48];

		snprintf(other, sizeof(other), "%s-v", w.a);
		free(AS(w.eu, 4, "-t", w.a, "user", "update", other, "--dnd"));
	}
	free(AS(w.eu, 6, "-t", w.a, "device", "create", w.ua, "second"));
	out = rt_owner_value("SELECT extension::text FROM users WHERE id = $1::bigint", w.ua_id);
	cr_assert(eq(str, out, "1000"));
	free(out);
	out = AS(w.eu, 0, "whoami", "-o", "json");
	cr_assert(strstr(out, "\"role\": \"end_user\"") && strstr(out, w.ua), "%s", out);
	free(out);
}

Test(roles_cli, unmapped_login_is_told_so_and_sees_nothing)
{
	struct world w;
	char *out;

	world_make(&w);
	out = AS(w.nobody, 0, "whoami", "-o", "json");
	cr_assert(strstr(out, "\"role\": null") && strstr(out, "\"bypass_rls\": false"), "%s", out);
	free(out);
	free(AS(w.nobody, 6, "tenant", "list"));
	cr_assert(strstr(errbuf, "not mapped to a pbxctl role") != NULL, "%s", errbuf);
	free(AS(w.nobody, 6, "-t", w.a, "user", "list"));
}

Test(roles_cli, operator_verbs_add_list_show_set_role_remove)
{
	struct world w;
	char login[64], *out;

	world_make(&w);
	snprintf(login, sizeof(login), "op_%s", w.a);
	for (char *c = login; *c; c++)
		if (*c == '-')
			*c = '_';
	out = AS(NULL, 0, "operator", "add", login, "--role", "tenant_admin", "--tenant", w.a,
		 "--create-login", "-o", "json");
	cr_assert(strstr(out, "\"changed\": true") && strstr(out, "\"role\": \"tenant_admin\""), "%s", out);
	free(out);
	out = AS(NULL, 0, "operator", "list", "--role", "tenant_admin", "-o", "json");
	cr_assert(strstr(out, login) != NULL, "%s", out);
	free(out);
	out = AS(login, 0, "whoami");
	cr_assert(strstr(out, "tenant_admin") && strstr(out, w.a), "%s", out);
	free(out);
	out = AS(NULL, 0, "operator", "set-role", login, "support", "-o", "json");
	cr_assert(strstr(out, "\"role\": \"support\"") && strstr(out, "\"tenant\": null"), "%s", out);
	free(out);
	free(AS(login, 6, "-t", w.a, "user", "create", "nope"));
	out = AS(NULL, 0, "operator", "show", login, "-o", "json");
	cr_assert(strstr(out, "\"role\": \"support\"") != NULL, "%s", out);
	free(out);
	free(AS(NULL, 0, "operator", "remove", login));
	free(AS(NULL, 4, "operator", "show", login));
	free(AS(login, 6, "tenant", "list"));
	out = rt_owner_value("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log "
			     "WHERE entity = 'operator' AND entity_id = $1", login);
	cr_assert(eq(str, out, "create,update,delete"));
	free(out);
}

Test(roles_cli, operator_add_refuses_bad_input_and_changes_nothing)
{
	struct world w;
	char *out;

	world_make(&w);
	free(AS(NULL, 2, "operator", "add", "x_unknown_role", "--role", "admin"));
	cr_assert(strstr(errbuf, "platform_admin, tenant_admin, support, end_user") != NULL, "%s", errbuf);
	free(AS(NULL, 2, "operator", "add", "x_no_role"));
	free(AS(NULL, 3, "operator", "add", "x_no_tenant", "--role", "tenant_admin", "--create-login"));
	cr_assert(strstr(errbuf, "operator x_no_tenant: a tenant_admin needs its tenant") != NULL, "%s", errbuf);
	free(AS(NULL, 4, "operator", "add", "x_bad_tenant", "--role", "tenant_admin", "--tenant",
		"no-such-tenant", "--create-login"));
	cr_assert(strstr(errbuf, "tenant no-such-tenant does not exist") != NULL, "%s", errbuf);
	free(AS(NULL, 3, "operator", "add", "x_no_user", "--role", "end_user", "--tenant", w.a,
		"--create-login"));
	cr_assert(strstr(errbuf, "an end_user needs its user") != NULL, "%s", errbuf);
	free(AS(NULL, 4, "operator", "add", "x_bad_user", "--role", "end_user", "--tenant", w.a,
		"--user", "nobody-here", "--create-login"));
	free(AS(NULL, 3, "operator", "add", "x\"; DROP TABLE users; --", "--role", "support"));
	cr_assert(strstr(errbuf, "must be a PostgreSQL role name") != NULL, "%s", errbuf);
	free(AS(NULL, 3, "operator", "add", "x_admin_tenant", "--role", "platform_admin", "--tenant", w.a));
	free(AS(NULL, 4, "operator", "add", "x_missing_login", "--role", "support"));
	cr_assert(strstr(errbuf, "no such PostgreSQL login role") != NULL, "%s", errbuf);
	free(AS(NULL, 5, "operator", "add", w.nobody, "--role", "support", "--create-login"));
	free(AS(NULL, 5, "operator", "add", w.ta, "--role", "support"));
	free(AS(NULL, 3, "operator", "add", "pbxctl", "--role", "tenant_admin", "--tenant", w.a));
	cr_assert(strstr(errbuf, "row-level security does not limit") != NULL, "%s", errbuf);
	out = rt_owner_value("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'x\\_%'", NULL);
	cr_assert(eq(str, out, "0"));
	free(out);
	free(AS(NULL, 4, "operator", "remove", "x_never_added"));
	free(AS(NULL, 4, "operator", "set-role", "x_never_added", "support"));
}

Test(roles_cli, the_last_platform_admin_cannot_be_removed)
{
	char *out = rt_owner_value("SELECT string_agg(login, ',') FROM operators "
				   "WHERE role = 'platform_admin'", NULL);

	/* The suite adds no other platform admin: the owner is the only one. */
	cr_assert(eq(str, out, "pbxctl"));
	free(out);
	free(AS(NULL, 5, "operator", "remove", "pbxctl"));
	cr_assert(strstr(errbuf, "operator pbxctl: is the last platform_admin") != NULL, "%s", errbuf);
	out = rt_owner_value("SELECT role FROM operators WHERE login = 'pbxctl'", NULL);
	cr_assert(eq(str, out, "platform_admin"));
	free(out);
}

Test(roles_cli, writes_under_rls_keep_the_audit_chain_whole)
{
	struct world w;
	char *out;

	world_make(&w);
	key_init();
	free(AS(w.ta, 0, "-t", w.a, "user", "create", "dan"));
	free(AS(w.ta, 0, "-t", w.a, "device", "create", "dan", "desk"));
	out = AS(NULL, 0, "audit", "verify", "-o", "json");
	cr_assert(strstr(out, "\"status\": \"ok\"") != NULL, "%s", out);
	free(out);
}

/* The owner's value of @sql (one parameter) is @want. */
#define OWNER_IS(sql, p1, want) owner_is(__LINE__, sql, p1, want)

static void owner_is(int line, const char *sql, const char *p1, const char *want)
{
	char *v = rt_owner_value(sql, p1);

	cr_assert(eq(str, v, (char *)want), "line %d", line);
	free(v);
}

/* A YAML file for `pbxctl import` holding @text, its path into @path. */
static void import_file(char *path, size_t n, const char *text)
{
	FILE *f;

	snprintf(path, n, "/tmp/pbxctl-roles-import-%d-XXXXXX", (int)getpid());
	f = fdopen(mkstemp(path), "w");
	cr_assert(f != NULL);
	fputs(text, f);
	fclose(f);
}

/*
 * A tenant admin's import cannot COPY into the tables (row-level security): its rows go
 * through temporary copies and one INSERT each (pbx_store_bulk_copy_into), which must carry
 * every value exactly (quotes, backslashes, braces, commas, the word NULL), pass the
 * policies, record the operator and its role, and keep the audit chain whole.
 */
Test(roles_cli, tenant_admin_import_writes_exact_rows_under_rls)
{
	static const char *const name = "Q \\\"x\\\" \\\\ {a,b} NULL";
	char path[96], yaml[1024], *out;
	struct world w;

	world_make(&w);
	key_init();
	snprintf(yaml, sizeof(yaml), "version: 1\ntenants:\n  - slug: %s\n    users:\n"
		 "      - username: imp-q\n        name: \"%s\"\n        devices:\n"
		 "          - label: \"desk {1}, \\\"q\\\" NULL\"\n            codecs: [g722, ulaw]\n"
		 "          - label: soft\n      - username: imp-r\n", w.a, name);
	import_file(path, sizeof(path), yaml);
	free(AS(w.ta, 0, "import", path));
	OWNER_IS("SELECT display_name FROM users WHERE tenant_id = $1::bigint AND username = 'imp-q'",
		 w.a_id, "Q \"x\" \\ {a,b} NULL");
	OWNER_IS("SELECT string_agg(label || '=' || array_to_string(codecs, '+'), ';' ORDER BY label) "
		 "FROM devices d JOIN users u ON u.id = d.user_id WHERE u.tenant_id = $1::bigint "
		 "AND u.username = 'imp-q'", w.a_id, "desk {1}, \"q\" NULL=g722+ulaw;soft=ulaw+alaw");
	snprintf(yaml, sizeof(yaml), "4 %s tenant_admin", w.ta);
	OWNER_IS("SELECT count(*) || ' ' || min(actor) || ' ' || min(actor_role) FROM audit_log "
		 "WHERE tenant = $1 AND source <> 'test' AND entity IN ('user', 'device')", w.a, yaml);
	out = AS(NULL, 0, "audit", "verify", "-o", "json");
	cr_assert(strstr(out, "\"status\": \"ok\"") != NULL, "%s", out);
	free(out);
	unlink(path);
}

/* A hostile tenant admin's file that also names another tenant changes nothing of either. */
Test(roles_cli, tenant_admin_import_cannot_reach_another_tenant)
{
	char path[96], yaml[512], *before;
	struct world w;

	world_make(&w);
	key_init();
	before = rt_owner_value("SELECT count(*) || ' ' || max(id) FROM audit_log", NULL);
	snprintf(yaml, sizeof(yaml), "version: 1\ntenants:\n  - slug: %s\n    users:\n"
		 "      - username: mine\n        devices:\n          - label: desk\n"
		 "  - slug: %s\n    extensions: 1000-1999\n    users:\n"
		 "      - username: intruder\n        devices:\n"
		 "          - label: desk\n", w.a, w.b);
	import_file(path, sizeof(path), yaml);
	free(AS(w.ta, 6, "import", path));
	cr_assert(strchr(errbuf, '\n') == errbuf + strlen(errbuf) - 1, "one line: %s", errbuf);
	OWNER_IS("SELECT count(*) || ' ' || max(id) FROM audit_log", NULL, before);
	OWNER_IS("SELECT count(*) FROM users WHERE tenant_id = $1::bigint AND username = 'mine'",
		 w.a_id, "0");
	OWNER_IS("SELECT count(*) FROM users WHERE tenant_id = $1::bigint", w.b_id, "2");
	free(before);
	unlink(path);
}
