/* SPDX-License-Identifier: MIT */
/*
 * Tenant isolation as PostgreSQL enforces it: each role on its own plain libpq connection,
 * as someone with psql would try, not through pbxctl. Every refusal is checked by its
 * SQLSTATE or by rows affected, and every test also shows the allowed case working.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "roles-itest.h"
#include "testenv.h"

TestSuite(roles_sql);

#define DENIED(pg, sql, p1, p2) do { \
	cr_assert(eq(long, rt_exec(pg, sql, p1, p2), -1), "%s was allowed", sql); \
	cr_assert(eq(str, rt_sqlstate, "42501"), "%s: SQLSTATE %s", sql, rt_sqlstate); \
} while (0)
#define ROWS(pg, sql, p1, p2, n) \
	cr_assert(eq(long, rt_exec(pg, sql, p1, p2), n), "%s (SQLSTATE %s)", sql, rt_sqlstate)

/* Every table that holds tenant rows, by the tenant they belong to. */
static const char *const of_tenant[] = {
	"SELECT 1 FROM tenants WHERE id = $1::bigint",
	"SELECT 1 FROM users WHERE tenant_id = $1::bigint",
	"SELECT 1 FROM devices WHERE tenant_id = $1::bigint",
	"SELECT 1 FROM dids WHERE tenant_id = $1::bigint",
	"SELECT 1 FROM trunks WHERE tenant_id = $1::bigint",
	"SELECT 1 FROM policies WHERE tenant_id = $1::bigint",
	"SELECT 1 FROM policy_rules r JOIN policies p ON p.id = r.policy_id WHERE p.tenant_id = $1::bigint",
	"SELECT 1 FROM policy_rule_trunks x JOIN trunks k ON k.id = x.trunk_id WHERE k.tenant_id = $1::bigint",
	"SELECT 1 FROM audit_log WHERE tenant = (SELECT slug FROM tenants WHERE id = $1::bigint)",
	"SELECT 1 FROM apply_jobs WHERE tenant = (SELECT slug FROM tenants WHERE id = $1::bigint)",
	NULL,
};

/* The audit and job rows name the tenant by slug, which the reader may not see: by slug. */
static long count_of(PGconn *pg, const char *sql, const struct world *w, bool b)
{
	if (strstr(sql, "audit_log"))
		return rt_exec(pg, "SELECT 1 FROM audit_log WHERE tenant = $1", b ? w->b : w->a, NULL);
	if (strstr(sql, "apply_jobs"))
		return rt_exec(pg, "SELECT 1 FROM apply_jobs WHERE tenant = $1", b ? w->b : w->a, NULL);
	return rt_exec(pg, sql, b ? w->b_id : w->a_id, NULL);
}

Test(roles_sql, tenant_admin_reads_its_tenant_and_nothing_of_another)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(w.ta);
	for (size_t i = 0; of_tenant[i]; i++) {
		cr_assert(count_of(pg, of_tenant[i], &w, false) >= 1, "own rows hidden: %s (%s)",
			  of_tenant[i], rt_sqlstate);
		cr_assert(eq(long, count_of(pg, of_tenant[i], &w, true), 0), "other tenant visible: %s",
			  of_tenant[i]);
	}
	/* Global trunks are readable (its policies may use them). */
	ROWS(pg, "SELECT 1 FROM trunks WHERE id = $1::bigint", w.trunk_g_id, NULL, 1);
	PQfinish(pg);
}

Test(roles_sql, tenant_admin_cannot_change_or_delete_rows_of_another_tenant)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(w.ta);
	/* Updates and deletes find nothing to act on. */
	ROWS(pg, "UPDATE users SET display_name = 'x' WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "UPDATE devices SET enabled = false WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "UPDATE dids SET label = 'x' WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "UPDATE trunks SET host = 'evil.example.com' WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "UPDATE policies SET description = 'x' WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "UPDATE policy_rules SET action = 'block' WHERE policy_id IN "
	     "(SELECT id FROM policies WHERE tenant_id = $1::bigint)", w.b_id, NULL, 0);
	ROWS(pg, "UPDATE apply_jobs SET error = 'x' WHERE tenant = $1", w.b, NULL, 0);
	ROWS(pg, "DELETE FROM devices WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "DELETE FROM users WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "DELETE FROM dids WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "DELETE FROM policy_rule_trunks WHERE trunk_id = $1::bigint", w.trunk_b_id, NULL, 0);
	ROWS(pg, "DELETE FROM apply_jobs WHERE tenant = $1", w.b, NULL, 0);
	/* Nor move a row of its own into the other tenant, nor insert there. */
	DENIED(pg, "UPDATE users SET tenant_id = $1::bigint WHERE id = $2::bigint", w.b_id, w.ua_id);
	DENIED(pg, "INSERT INTO users (tenant_id, username, display_name, extension) "
	       "VALUES ($1::bigint, 'intruder', 'x', 1500)", w.b_id, NULL);
	DENIED(pg, "INSERT INTO dids (tenant_id, number) VALUES ($1::bigint, '+4930999999')", w.b_id, NULL);
	DENIED(pg, "INSERT INTO apply_jobs (marker, tenant, source) VALUES ('x-evil', $1, 'x')", w.b, NULL);
	/* Nor route its calls through another tenant's trunk. */
	DENIED(pg, "INSERT INTO policy_rule_trunks (rule_id, position, trunk_id) "
	       "VALUES ($1::bigint, 2, $2::bigint)", w.rule_a_id, w.trunk_b_id);
	/* Nor write audit rows for it, or under another name. */
	DENIED(pg, "SELECT audit_append('x', $1, 'delete', 'tenant', '1', NULL, NULL)", w.b, NULL);
	DENIED(pg, "INSERT INTO audit_log (id, actor, source, tenant, action, entity, prev_hash, hash) "
	       "VALUES (-1, 'someone_else', 'x', $1, 'x', 'x', 'x', 'x')", w.a, NULL);
	PQfinish(pg);
	/* The owner sees b unchanged. */
	{
		char *v = rt_owner_value("SELECT count(*) FROM users WHERE tenant_id = $1::bigint "
					 "AND display_name <> 'x'", w.b_id);

		cr_assert(eq(str, v, "2"));
		free(v);
	}
	/* And its own tenant it does change. */
	pg = rt_connect(w.ta);
	ROWS(pg, "UPDATE users SET display_name = 'Renamed' WHERE id = $1::bigint", w.ua_id, NULL, 1);
	ROWS(pg, "SELECT audit_append('x', $1, 'update', 'user', '1', NULL, NULL)", w.a, NULL, 1);
	PQfinish(pg);
}

Test(roles_sql, tenant_admin_cannot_create_tenants_global_trunks_or_change_range_and_status)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(w.ta);
	DENIED(pg, "INSERT INTO tenants (slug, display_name, ext_min, ext_max, ext_next) "
	       "VALUES ('evil-co', 'x', 100, 199, 100)", NULL, NULL);
	DENIED(pg, "INSERT INTO trunks (name, host, auth, match) VALUES ('evil-global', 'h', "
	       "'ip_auth', '{0.0.0.0/0}')", NULL, NULL);
	ROWS(pg, "UPDATE trunks SET host = 'evil.example.com' WHERE id = $1::bigint", w.trunk_g_id, NULL, 0);
	ROWS(pg, "DELETE FROM trunks WHERE id = $1::bigint", w.trunk_g_id, NULL, 0);
	DENIED(pg, "UPDATE tenants SET ext_max = 9999 WHERE id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "UPDATE tenants SET status = 'active' WHERE id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "DELETE FROM tenants WHERE id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "SELECT pbx_operator_add('x', 'platform_admin', NULL, NULL, true)", NULL, NULL);
	DENIED(pg, "UPDATE operators SET role = 'platform_admin'", NULL, NULL);
	/* What it may change of its tenant: the name and defaults. */
	ROWS(pg, "UPDATE tenants SET display_name = 'A Co' WHERE id = $1::bigint", w.a_id, NULL, 1);
	ROWS(pg, "UPDATE tenants SET display_name = 'B Co' WHERE id = $1::bigint", w.b_id, NULL, 0);
	PQfinish(pg);
}

Test(roles_sql, support_reads_everything_and_writes_nothing)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(w.sup);
	for (size_t i = 0; of_tenant[i]; i++) {
		cr_assert(count_of(pg, of_tenant[i], &w, false) >= 1, "%s", of_tenant[i]);
		cr_assert(count_of(pg, of_tenant[i], &w, true) >= 1, "%s", of_tenant[i]);
	}
	DENIED(pg, "UPDATE users SET display_name = 'x' WHERE tenant_id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "DELETE FROM devices WHERE tenant_id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "INSERT INTO dids (tenant_id, number) VALUES ($1::bigint, '+4930999998')", w.a_id, NULL);
	DENIED(pg, "UPDATE tenants SET display_name = 'x' WHERE id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "UPDATE trunks SET host = 'x' WHERE id = $1::bigint", w.trunk_g_id, NULL);
	DENIED(pg, "DELETE FROM policy_rules WHERE id = $1::bigint", w.rule_a_id, NULL);
	DENIED(pg, "UPDATE apply_jobs SET error = 'x' WHERE tenant = $1", w.a, NULL);
	DENIED(pg, "SELECT audit_append('x', $1, 'update', 'user', '1', NULL, NULL)", w.a, NULL);
	DENIED(pg, "INSERT INTO audit_log (id, actor, source, tenant, action, entity, prev_hash, hash) "
	       "VALUES (-1, session_user, 'x', $1, 'x', 'x', 'x', 'x')", w.a, NULL);
	DENIED(pg, "SELECT pbx_me_set_dnd(true)", NULL, NULL);
	/* Not the PIN hash (an offline brute force of a short PIN opens the mailbox), nor the
	 * sealed verifier; whether a PIN is set, yes. */
	DENIED(pg, "SELECT pin_hash FROM users WHERE tenant_id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "SELECT vm_pin_verifier_sealed FROM users WHERE tenant_id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "SELECT 1 FROM users WHERE pin_hash IS NOT NULL", NULL, NULL);
	ROWS(pg, "SELECT has_pin FROM users WHERE id = $1::bigint", w.ua_id, NULL, 1);
	PQfinish(pg);
	/* Support limited to a tenant reads only that one. */
	pg = rt_connect(w.sup_a);
	for (size_t i = 0; of_tenant[i]; i++) {
		cr_assert(count_of(pg, of_tenant[i], &w, false) >= 1, "%s", of_tenant[i]);
		cr_assert(eq(long, count_of(pg, of_tenant[i], &w, true), 0), "%s", of_tenant[i]);
	}
	DENIED(pg, "UPDATE users SET display_name = 'x' WHERE tenant_id = $1::bigint", w.a_id, NULL);
	PQfinish(pg);
}

Test(roles_sql, end_user_reads_itself_and_changes_only_dnd_and_forward)
{
	struct world w;
	PGconn *pg;
	char *v;

	world_make(&w);
	pg = rt_connect(w.eu);
	ROWS(pg, "SELECT username FROM users", NULL, NULL, 1);
	ROWS(pg, "SELECT 1 FROM users WHERE id = $1::bigint", w.ua_id, NULL, 1);
	ROWS(pg, "SELECT 1 FROM users WHERE id = $1::bigint", w.ua2_id, NULL, 0);
	ROWS(pg, "SELECT label FROM devices", NULL, NULL, 1);
	ROWS(pg, "SELECT 1 FROM tenants WHERE id = $1::bigint", w.b_id, NULL, 0);
	DENIED(pg, "SELECT pin_hash FROM users", NULL, NULL);
	DENIED(pg, "SELECT secret_sealed FROM devices", NULL, NULL);
	DENIED(pg, "SELECT 1 FROM dids", NULL, NULL);
	DENIED(pg, "SELECT 1 FROM audit_log", NULL, NULL);
	DENIED(pg, "UPDATE users SET extension = 1500 WHERE id = $1::bigint", w.ua_id, NULL);
	DENIED(pg, "UPDATE users SET dnd = true WHERE id = $1::bigint", w.ua2_id, NULL);
	DENIED(pg, "UPDATE devices SET enabled = false", NULL, NULL);
	DENIED(pg, "DELETE FROM devices", NULL, NULL);
	DENIED(pg, "SELECT audit_append('x', $1, 'update', 'user', '1', NULL, NULL)", w.a, NULL);
	/* Its own self-service fields, through the functions, with the server's checks. */
	ROWS(pg, "SELECT 1 FROM pbx_me_set_dnd(true) WHERE dnd AND pin_hash IS NULL", NULL, NULL, 1);
	/* A number only where an outbound policy allows it (toll fraud otherwise). */
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_forward('+4930123456')", NULL, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "22023"), "no policy: %s", rt_sqlstate);
	v = rt_owner_value("UPDATE policy_rules SET pattern = '^[+]49' WHERE id = $1::bigint "
			   "RETURNING 'ok'", w.rule_a_id);
	free(v);
	v = rt_owner_value("UPDATE tenants t SET default_policy_id = r.policy_id FROM policy_rules r "
			   "WHERE r.id = $1::bigint AND t.id = (SELECT tenant_id FROM policies "
			   "WHERE id = r.policy_id) RETURNING 'ok'", w.rule_a_id);
	cr_assert(eq(str, v, "ok"));
	free(v);
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_forward('+442071234567')", NULL, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "22023"), "blocked by the policy: %s", rt_sqlstate);
	ROWS(pg, "SELECT 1 FROM pbx_me_set_forward('+4930123456') WHERE forward_to = '+4930123456'",
	     NULL, NULL, 1);
	ROWS(pg, "SELECT 1 FROM pbx_me_set_forward('1001')", NULL, NULL, 1);
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_forward('1000')", NULL, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "22023"), "own extension: %s", rt_sqlstate);
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_forward('5000')", NULL, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "22023"), "outside the range: %s", rt_sqlstate);
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_forward('call;me')", NULL, NULL), -1));
	cr_assert(eq(str, rt_sqlstate, "22023"));
	cr_assert(eq(long, rt_exec(pg, "SELECT pbx_me_set_dnd(NULL)", NULL, NULL), -1));
	PQfinish(pg);
	v = rt_owner_value("SELECT dnd::text || ' ' || forward_to || ' ' || extension FROM users "
			   "WHERE id = $1::bigint", w.ua_id);
	cr_assert(eq(str, v, "true 1001 1000"));
	free(v);
	v = rt_owner_value("SELECT dnd::text FROM users WHERE id = $1::bigint", w.ua2_id);
	cr_assert(eq(str, v, "false"));
	free(v);
	/* Audited under its own name and role, in its tenant. */
	v = rt_owner_value("SELECT actor || ' ' || actor_role || ' ' || tenant FROM audit_log "
			   "WHERE entity_id = (SELECT id::text FROM users WHERE username = $1) "
			   "AND source = 'self-service' ORDER BY id DESC LIMIT 1", w.ua);
	cr_assert(strstr(v, w.eu) == v && strstr(v, " end_user ") && strstr(v, w.a), "%s", v);
	free(v);
}

Test(roles_sql, unmapped_login_sees_nothing)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(w.nobody);
	for (size_t i = 0; of_tenant[i]; i++)
		DENIED(pg, of_tenant[i], w.a_id, NULL);
	DENIED(pg, "SELECT 1 FROM operators", NULL, NULL);
	DENIED(pg, "SELECT pbx_me_set_dnd(true)", NULL, NULL);
	DENIED(pg, "SELECT audit_append('x', $1, 'update', 'user', '1', NULL, NULL)", w.a, NULL);
	ROWS(pg, "SELECT 1 WHERE pbx_operator_role() IS NULL AND pbx_operator_tenant() IS NULL "
	     "AND pbx_operator_user() IS NULL", NULL, NULL, 1);
	PQfinish(pg);
}

Test(roles_sql, a_session_setting_does_not_change_who_the_operator_is)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(w.ta);
	/* SET ROLE to another login is refused (not a member); settings are not consulted. */
	cr_assert(eq(long, rt_exec(pg, "SELECT set_config('role', $1, false)", w.sup, NULL), -1));
	ROWS(pg, "SELECT set_config('pbx.tenant', $1, false)", w.b_id, NULL, 1);
	ROWS(pg, "SELECT 1 FROM users WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	/* A temporary table named like ours does not fool the definer functions. */
	ROWS(pg, "CREATE TEMP TABLE operators (login name, role text, tenant_id bigint, "
	     "user_id bigint, created_at timestamptz)", NULL, NULL, 0);
	ROWS(pg, "INSERT INTO pg_temp.operators VALUES (session_user, 'platform_admin', NULL, NULL, now())",
	     NULL, NULL, 1);
	ROWS(pg, "SELECT 1 WHERE pbx_operator_role() = 'tenant_admin'", NULL, NULL, 1);
	ROWS(pg, "SELECT 1 FROM users WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	PQfinish(pg);
}

/* The tables of migrations 0008-0010 under migration 0015's rules: rows of both tenants
 * (apply requests and the applied state written as the owner, Asterisk ids by the
 * device and trunk triggers), then each operator on its own connection. */
#define OWNER_ROWS(pg, id, slug) do { \
	ROWS(pg, "INSERT INTO apply_requests (tenant_id, tenant, source) VALUES ($1::bigint, $2, 'test')", \
	     id, slug, 1); \
	ROWS(pg, "INSERT INTO apply_applied (tenant_id, owner, gen, setup, files, rows_digest) " \
	     "VALUES ($1::bigint, $2, 1, 's', 'f', 'd') ON CONFLICT DO NOTHING", id, slug, 1); \
} while (0)

Test(roles_sql, later_tables_keep_tenants_apart)
{
	struct world w;
	PGconn *pg;

	world_make(&w);
	pg = rt_connect(NULL);
	OWNER_ROWS(pg, w.a_id, w.a);
	OWNER_ROWS(pg, w.b_id, w.b);
	PQfinish(pg);

	pg = rt_connect(w.ta);
	ROWS(pg, "SELECT 1 FROM apply_requests WHERE tenant_id = $1::bigint", w.a_id, NULL, 1);
	ROWS(pg, "SELECT 1 FROM apply_requests WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "SELECT 1 FROM asterisk_ids WHERE tenant_id = $1::bigint", w.a_id, NULL, 2);
	ROWS(pg, "SELECT 1 FROM asterisk_ids WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	ROWS(pg, "SELECT 1 FROM apply_applied WHERE tenant_id = $1::bigint", w.a_id, NULL, 1);
	ROWS(pg, "SELECT 1 FROM apply_applied WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	/* its own tenant's apply may be queued, not another's */
	ROWS(pg, "INSERT INTO apply_requests (tenant_id, tenant, source) VALUES ($1::bigint, $2, 'test')",
	     w.a_id, w.a, 1);
	DENIED(pg, "INSERT INTO apply_requests (tenant_id, tenant, source) VALUES ($1::bigint, $2, 'test')",
	       w.b_id, w.b);
	DENIED(pg, "INSERT INTO apply_requests (tenant_id, tenant, source) VALUES (NULL, NULL, 'test')",
	       NULL, NULL);
	DENIED(pg, "UPDATE apply_requests SET status = 'done' WHERE tenant_id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "DELETE FROM apply_applied WHERE tenant_id = $1::bigint", w.a_id, NULL);
	DENIED(pg, "INSERT INTO asterisk_ids (id, tenant_id, trunk_id) VALUES ('evil-id', $1::bigint, $2::bigint)",
	       w.b_id, w.trunk_b_id);
	/* the sealing key is read by every operator and written by none of these */
	cr_assert(rt_exec(pg, "SELECT 1 FROM sealing_key", NULL, NULL) >= 0, "%s", rt_sqlstate);
	DENIED(pg, "INSERT INTO sealing_key (key_id, public_key) VALUES ('0123456789abcdef', "
	       "'pbxctl-pub-v2:' || repeat('A', 43) || '=')", NULL, NULL);
	DENIED(pg, "UPDATE sealing_key SET key_id = '0123456789abcdef'", NULL, NULL);
	DENIED(pg, "DELETE FROM sealing_key", NULL, NULL);
	PQfinish(pg);

	/* support reads both tenants' requests and queues none */
	pg = rt_connect(w.sup);
	ROWS(pg, "SELECT 1 FROM apply_requests WHERE tenant_id = $1::bigint", w.b_id, NULL, 1);
	DENIED(pg, "INSERT INTO apply_requests (tenant_id, tenant, source) VALUES ($1::bigint, $2, 'test')",
	       w.a_id, w.a);
	PQfinish(pg);
	pg = rt_connect(w.sup_a);
	ROWS(pg, "SELECT 1 FROM apply_requests WHERE tenant_id = $1::bigint", w.b_id, NULL, 0);
	DENIED(pg, "INSERT INTO apply_requests (tenant_id, tenant, source) VALUES ($1::bigint, $2, 'test')",
	       w.a_id, w.a);
	PQfinish(pg);
}
