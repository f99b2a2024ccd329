/* SPDX-License-Identifier: MIT */
/*
 * DIDs and trunks against the real PostgreSQL: create, update, reassign, delete, the
 * destination checked against the DID's own tenant (a cross-tenant destination refused),
 * numbers unique across tenants, trunk secrets sealed and revealed only with an audit row,
 * and a trunk that a policy uses kept from deletion.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "routing-itest.h"

TestSuite(did, .init = it_setup, .fini = it_teardown, .timeout = 60);
TestSuite(trunk, .init = it_setup, .fini = it_teardown, .timeout = 60);

/* A unique E.164 number. */
static const char *number(void)
{
	static char buf[4][24];
	static int k, n;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "+49301%05d%03d", (int)getpid() % 100000, n++);
	return buf[k];
}

static int create(const char *tenant, const char *num, const char *dest, struct pbx_rows *rows,
		  pbx_error *err)
{
	struct pbx_did_spec s = PBX_DID_SPEC_INIT;

	s.number = num;
	s.tenant = tenant;
	s.destination = dest;
	s.label = "Main line";
	return pbx_did_create(it_ctx, &s, rows, err);
}

Test(did, create_show_update_delete)
{
	const char *t = it_tenant("did"), *num = number();
	struct pbx_did_spec s = PBX_DID_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;
	char *audit;

	it_user(t, "alice", 1);
	cr_assert(eq(int, create(t, num, "user:alice", &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "tenant"), (char *)t));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "destination"), "user:alice"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "enabled"), "true"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_did_show(it_ctx, num, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "label"), "Main line"));
	pbx_rows_free(&rows);
	s.destination = "voicemail:alice";
	s.enabled = 0;
	cr_assert(eq(int, pbx_did_update(it_ctx, num, &s, &rows, &changed, &err), 0), "%s",
		  err.message);
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "enabled"), "false"));
	pbx_rows_free(&rows);
	/* the same again: nothing changes, no audit row */
	cr_assert(eq(int, pbx_did_update(it_ctx, num, &s, &rows, &changed, &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	audit = it_pg1("SELECT count(*) FROM audit_log WHERE entity = 'did' AND tenant = $1", t);
	cr_assert(eq(str, audit, "2"), "create and one update");
	free(audit);
	cr_assert(eq(int, pbx_did_list(it_ctx, t, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 1));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_did_delete(it_ctx, num, &rows, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_did_show(it_ctx, num, &rows, &err), PBX_ENOTFOUND));
}

Test(did, number_is_unique_across_tenants)
{
	const char *a = it_tenant("dua"), *b = it_tenant("dub"), *num = number();
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, create(a, num, NULL, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, create(b, num, NULL, &rows, &err), PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "number"));
	cr_assert(strstr(err.message, "already assigned") != NULL, "%s", err.message);
}

Test(did, refuses_bad_numbers_and_destinations)
{
	const char *t = it_tenant("dbad");
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	it_user(t, "bob", 0);
	cr_assert(eq(int, create(t, "4930123456", NULL, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "number"));
	cr_assert(eq(int, create(t, "+0301234567", NULL, &rows, &err), PBX_EINVALID));
	cr_assert(eq(int, create(t, number(), "user:nobody", &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "destination"));
	{
		struct pbx_user_spec u = PBX_USER_SPEC_INIT;

		u.username = "carl";
		u.voicemail = 0;
		cr_assert(eq(int, pbx_user_create(it_ctx, t, &u, &rows, &err), 0), "%s", err.message);
		pbx_rows_free(&rows);
	}
	cr_assert(eq(int, create(t, number(), "voicemail:carl", &rows, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "has no voicemail box") != NULL, "%s", err.message);
	cr_assert(eq(int, create(t, number(), "voicemail:bob", &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, create(t, number(), "ring_group:sales", &rows, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "not supported yet") != NULL, "%s", err.message);
	cr_assert(eq(int, create(t, number(), "queue:1", &rows, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "not supported yet") != NULL);
	cr_assert(eq(int, create(t, number(), "user:bob;x", &rows, &err), PBX_EINVALID));
	cr_assert(eq(int, create(t, number(), "ext:1999", &rows, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "no user with extension 1999") != NULL, "%s", err.message);
	cr_assert(eq(int, create("no-such-tenant", number(), NULL, &rows, &err), PBX_ENOTFOUND));
}

Test(did, cross_tenant_destination_is_refused)
{
	const char *a = it_tenant("dxa"), *b = it_tenant("dxb"), *num = number();
	struct pbx_did_spec s = PBX_DID_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed;

	it_user(b, "mallory", 1);
	/* a DID of tenant a cannot point at tenant b's user */
	cr_assert(eq(int, create(a, num, "user:mallory", &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "destination"));
	cr_assert(strstr(err.message, "has no user mallory") != NULL, "%s", err.message);
	cr_assert(eq(int, create(a, num, NULL, &rows, &err), 0));
	pbx_rows_free(&rows);
	s.destination = "user:mallory";
	cr_assert(eq(int, pbx_did_update(it_ctx, num, &s, &rows, &changed, &err), PBX_EINVALID));
	/* reassigned to b together with a destination there, it is fine */
	s.tenant = b;
	cr_assert(eq(int, pbx_did_update(it_ctx, num, &s, &rows, &changed, &err), 0), "%s",
		  err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "tenant"), (char *)b));
	pbx_rows_free(&rows);
	/* moving it back keeps a destination that does not exist in a: refused, with a hint */
	s = (struct pbx_did_spec)PBX_DID_SPEC_INIT;
	s.tenant = a;
	cr_assert(eq(int, pbx_did_update(it_ctx, num, &s, &rows, &changed, &err), PBX_EINVALID));
	cr_assert(strstr(err.hint, "--destination") != NULL, "%s", err.hint);
	s.destination = "";
	cr_assert(eq(int, pbx_did_update(it_ctx, num, &s, &rows, &changed, &err), 0), "%s",
		  err.message);
	cr_assert_null(pbx_rows_get(&rows, 0, "destination"));
	pbx_rows_free(&rows);
}

Test(trunk, registration_secret_is_sealed_masked_and_revealed_with_audit)
{
	const char *name = it_name("reg");
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char endpoint[64], *sealed, *count;

	it_trunk_global(name);
	sealed = it_pg1("SELECT secret_sealed FROM trunks WHERE name = $1", name);
	cr_assert(strstr(sealed, "carrier-secret-1") == NULL, "sealed at rest");
	cr_assert(eq(int, strncmp(sealed, "v2:", 3), 0));
	free(sealed);
	count = it_pg1("SELECT count(*) FROM audit_log WHERE entity = 'trunk' "
		       "AND after::text LIKE '%carrier-secret-1%'", NULL);
	cr_assert(eq(str, count, "0"), "the secret never reaches the audit log");
	free(count);
	cr_assert(eq(int, pbx_trunk_show(it_ctx, name, false, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), "********"));
	cr_assert_null(pbx_rows_get(&rows, 0, "tenant"), "global");
	snprintf(endpoint, sizeof(endpoint), "trunk-%s", name);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "endpoint"), endpoint));
	pbx_trunk_rows_free(&rows);
	cr_assert(eq(int, pbx_trunk_show(it_ctx, name, true, &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), "carrier-secret-1"));
	pbx_trunk_rows_free(&rows);
	count = it_pg1("SELECT count(*) FROM audit_log a JOIN trunks k ON k.id::text = a.entity_id "
		       "WHERE a.entity = 'trunk' AND a.action = 'reveal' AND k.name = $1", name);
	cr_assert(eq(str, count, "1"), "the reveal is audited");
	free(count);
}

Test(trunk, ip_auth_trunk_of_a_tenant_and_its_rules)
{
	const char *t = it_tenant("tip"), *name = it_name("ip");
	struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char endpoint[64];
	bool changed;

	it_trunk_tenant(t, name);
	cr_assert(eq(int, pbx_trunk_show(it_ctx, name, false, &rows, &err), 0));
	snprintf(endpoint, sizeof(endpoint), "%s-trunk-%s", t, name);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "endpoint"), endpoint));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "match"), it_match));
	cr_assert_null(pbx_rows_get(&rows, 0, "secret"));
	pbx_trunk_rows_free(&rows);
	/* listed with the tenant's trunks */
	cr_assert(eq(int, pbx_trunk_list(it_ctx, t, false, &rows, &err), 0));
	cr_assert(ge(sz, rows.n_rows, 1));
	pbx_rows_free(&rows);
	/* the owner cannot change; bad values are refused */
	s.global = 1;
	cr_assert(eq(int, pbx_trunk_update(it_ctx, name, &s, &rows, &changed, &err), PBX_EINVALID));
	s = (struct pbx_trunk_spec)PBX_TRUNK_SPEC_INIT;
	s.match = "203.0.113.300";
	cr_assert(eq(int, pbx_trunk_update(it_ctx, name, &s, &rows, &changed, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "match"));
	s.match = "198.51.100.0/24";
	cr_assert(eq(int, pbx_trunk_update(it_ctx, name, &s, &rows, &changed, &err), 0), "%s",
		  err.message);
	cr_assert(changed);
	pbx_trunk_rows_free(&rows);
	/* switching to registration needs a username and a secret */
	s = (struct pbx_trunk_spec)PBX_TRUNK_SPEC_INIT;
	s.auth = "registration";
	cr_assert(eq(int, pbx_trunk_update(it_ctx, name, &s, &rows, &changed, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "username"));
}

Test(trunk, refuses_bad_trunks)
{
	const char *t = it_tenant("tbad");
	struct pbx_trunk_spec s = PBX_TRUNK_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	s.name = it_name("bad");
	s.tenant = t;
	s.host = "sip.example.net";
	s.auth = "registration";
	s.username = "u";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "secret"));
	s.secret = "x";
	s.host = "bad host;x";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "host"));
	s.host = "sip.example.net";
	s.global = 1;
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID), "both owners");
	s.global = -1;
	s.name = "Bad_Name";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "name"));
	s.name = "a-name-that-makes-the-endpoint-long";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID));
	s.name = it_name("cid");
	s.callerid_mode = "force";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "callerid"));
	s.callerid_mode = NULL;
	s.auth = "ip_auth";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_EINVALID),
		  "ip_auth without addresses, with a secret");
	/* a name is unique across tenants and global trunks */
	s = (struct pbx_trunk_spec)PBX_TRUNK_SPEC_INIT;
	s.name = it_name("dup");
	it_trunk_global(s.name);
	s.tenant = t;
	s.host = "192.0.2.1";
	s.auth = "ip_auth";
	s.match = "192.0.2.1";
	cr_assert(eq(int, pbx_trunk_create(it_ctx, &s, &rows, &err), PBX_ECONFLICT));
}

Test(trunk, a_trunk_a_policy_uses_cannot_be_deleted_and_a_foreign_one_not_used)
{
	const char *a = it_tenant("tua"), *b = it_tenant("tub");
	const char *mine = it_name("mine"), *theirs = it_name("their");
	struct pbx_policy_spec ps = { .name = "p" };
	struct pbx_policy_rule_spec rule = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	it_trunk_tenant(a, mine);
	it_trunk_tenant(b, theirs);
	cr_assert(eq(int, pbx_policy_create(it_ctx, a, &ps, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	rule.pattern = "^0";
	rule.action = "allow";
	rule.trunks = theirs;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, a, "p", &rule, &rows, &err), PBX_EINVALID),
		  "another tenant's trunk");
	cr_assert(strstr(err.message, "belongs to tenant") != NULL, "%s", err.message);
	rule.trunks = mine;
	cr_assert(eq(int, pbx_policy_rule_add(it_ctx, a, "p", &rule, &rows, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_trunk_delete(it_ctx, mine, &rows, &err), PBX_ECONFLICT));
	cr_assert(strstr(err.message, "policy p of tenant") != NULL, "%s", err.message);
	cr_assert(eq(int, pbx_trunk_delete(it_ctx, theirs, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}
