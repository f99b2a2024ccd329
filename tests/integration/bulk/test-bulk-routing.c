/* SPDX-License-Identifier: MIT */
/*
 * Trunks, outbound policies and phone numbers (DIDs) through pbx_bulk_import against the
 * real PostgreSQL: created, exported and imported again without change, secrets sealed and
 * never exported, references checked against the final state (the trunks a rule names, the
 * policy a user or tenant names, the user a DID routes to), numbers moving between tenants,
 * owners of trunks that cannot change, prune, and the audit chain.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbx/audit.h"
#include "bulk-itest.h"

TestSuite(bulk_routing, .init = bi_setup, .fini = bi_teardown);

/* A fresh E.164 number. */
static void number(char buf[24])
{
	static unsigned n;

	snprintf(buf, 24, "+1555%03d%04u", (int)getpid() % 1000, n++ % 10000);
}

#define ROUTING_FILE \
	"trunks:\n- name: %s-g\n  host: sip.example.com\n  auth: registration\n" \
	"  username: acct\n  secret: %s\n" \
	"tenants:\n- slug: %s\n  extensions: 100-199\n  default_policy: std\n" \
	"  trunks:\n  - name: %s-k\n    host: 203.0.113.1\n    auth: ip_auth\n" \
	"    match: [%s]\n" \
	"  policies:\n  - name: std\n    rules:\n    - pattern: \"^911$\"\n      action: allow\n" \
	"      trunks: [%s-k, %s-g]\n    - pattern: \"^1900\"\n      action: block\n" \
	"  - name: vip\n    description: All\n    rules:\n    - pattern: \"^[0-9]+$\"\n" \
	"      action: allow\n      trunks: [%s-g]\n" \
	"  dids:\n  - number: \"%s\"\n    label: Main\n    destination: user:alice\n" \
	"  users:\n  - username: alice\n    policy: vip\n  - username: bob\n"

static void import_routing(struct bi_result *res, const char *slug, const char *secret,
			   const char *num, bool prune)
{
	char match[32];

	/* ranges of different owners may not overlap: an address per tenant */
	snprintf(match, sizeof(match), "10.201.%u.%d", (unsigned)getpid() & 255,
		 atoi(strrchr(slug, '-') + 1) % 250 + 1);
	bi_import(res, false, prune, NULL, ROUTING_FILE, slug, secret, slug, slug, match, slug, slug,
		  slug, num);
}

static void ok(struct bi_result *res)
{
	if (res->r < 0)
		for (size_t i = 0; i < res->diag.n; i++)
			fprintf(stderr, "  %s: %s\n", res->diag.items[i].object, res->diag.items[i].message);
	cr_assert(eq(int, res->r, 0), "%s: %s (%s)", res->diag.n ? res->diag.items[0].object : "",
		  res->diag.n ? res->diag.items[0].message : "",
		  res->diag.n ? res->diag.items[0].detail : "");
}

Test(bulk_routing, trunks_policies_and_dids_are_created_and_a_second_import_changes_nothing)
{
	struct bi_result res;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char slug[32], num[24], *v;

	bi_slug(slug, "ext");
	number(num);
	import_routing(&res, slug, "s3cret-one", num, false);
	ok(&res);
	cr_assert(eq(long, bi_count(&res, "trunks_created"), 2));
	cr_assert(eq(long, bi_count(&res, "policies_created"), 2));
	cr_assert(eq(long, bi_count(&res, "dids_created"), 1));
	bi_free(&res);
	v = bi_sql("SELECT p.name FROM tenants t JOIN policies p ON p.id = t.default_policy_id "
		   "WHERE t.slug = $1", slug, NULL);
	cr_assert(eq(str, v, "std"));
	free(v);
	v = bi_sql("SELECT p.name FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "JOIN policies p ON p.id = u.policy_id WHERE t.slug = $1 AND u.username = 'alice'",
		   slug, NULL);
	cr_assert(eq(str, v, "vip"));
	free(v);
	v = bi_sql("SELECT string_agg(k.name, ',' ORDER BY rt.position) FROM policy_rule_trunks rt "
		   "JOIN trunks k ON k.id = rt.trunk_id JOIN policy_rules r ON r.id = rt.rule_id "
		   "JOIN policies p ON p.id = r.policy_id JOIN tenants t ON t.id = p.tenant_id "
		   "WHERE t.slug = $1 AND p.name = 'std' AND r.position = 1", slug, NULL);
	cr_assert_not_null(strstr(v, "-k,"), "%s", v);
	free(v);
	/* The registration secret is sealed at rest. */
	v = bi_sql("SELECT secret_sealed FROM trunks WHERE name = $1 || '-g'", slug, NULL);
	cr_assert(eq(int, strncmp(v, "v2:", 3), 0));
	free(v);
	import_routing(&res, slug, "s3cret-one", num, false);
	ok(&res);
	cr_assert_not(res.changed);
	bi_free(&res);
	cr_assert(eq(int, pbx_audit_verify(bi_ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

Test(bulk_routing, a_different_trunk_secret_is_an_update_named_secret)
{
	struct bi_result res;
	char slug[32], num[24], *before, *after;

	bi_slug(slug, "sec");
	number(num);
	import_routing(&res, slug, "s3cret-one", num, false);
	ok(&res);
	bi_free(&res);
	before = bi_sql("SELECT secret_sealed FROM trunks WHERE name = $1 || '-g'", slug, NULL);
	import_routing(&res, slug, "s3cret-two", num, false);
	ok(&res);
	cr_assert(eq(long, bi_count(&res, "trunks_updated"), 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 0, "detail"), "secret"));
	bi_free(&res);
	after = bi_sql("SELECT secret_sealed FROM trunks WHERE name = $1 || '-g'", slug, NULL);
	cr_assert(ne(str, before, after));
	free(before);
	free(after);
}

/* What export prints of @slug, imported again, changes nothing. */
static void export_imports_unchanged(const char *slug)
{
	char *out = NULL, *err = NULL;

	cr_assert(eq(int, bi_sh(&out, &err, "$P export --tenant %s | $P -o json import --dry-run -",
				slug), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"changed\": false"), "%s", out);
	free(out);
	free(err);
}

Test(bulk_routing, export_round_trips_and_never_prints_trunk_secrets)
{
	struct bi_result res;
	char slug[32], num[24], *out = NULL, *err = NULL;

	bi_slug(slug, "rtx");
	number(num);
	import_routing(&res, slug, "provider-secret-x", num, false);
	ok(&res);
	bi_free(&res);
	/* The CLI's key is another one: nothing here needs it (no new devices, no secret). */
	cr_assert(eq(int, bi_sh(&out, &err, "$P export --tenant %s", slug), 0), "%s", err);
	cr_assert_null(strstr(out, "provider-secret-x"));
	cr_assert_null(strstr(out, "secret"), "%s", out);
	cr_assert_not_null(strstr(out, "policies:"), "%s", out);
	cr_assert_not_null(strstr(out, "pattern: ^1900"), "%s", out);
	cr_assert_not_null(strstr(out, "policy: vip"), "%s", out);
	free(out);
	free(err);
	export_imports_unchanged(slug);
}

Test(bulk_routing, a_rule_naming_a_trunk_the_tenant_cannot_use_is_refused)
{
	struct bi_result res;
	const pbx_error *e;
	char a[32], b[32];

	bi_slug(a, "own");
	bi_slug(b, "other");
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  trunks:\n  - name: %s-k\n"
		  "    host: 203.0.113.1\n    auth: ip_auth\n    match: [203.0.113.1]\n"
		  "- slug: %s\n  extensions: 100-199\n  policies:\n  - name: p\n    rules:\n"
		  "    - pattern: \"^1\"\n      action: allow\n      trunks: [%s-k, nosuch-%s]\n",
		  a, a, b, a, b);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "is neither");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[1].policies[0].rules[0].trunks"));
	cr_assert(eq(int, e->line, 16));
	cr_assert_not_null(bi_problem(&res, "trunk nosuch-"));
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug IN ($1, $2)", a, b), 0));
}

Test(bulk_routing, a_policy_users_or_tenants_name_must_exist_in_the_tenant)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "pol");
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  default_policy: nosuch\n"
		  "  users:\n  - username: a\n    policy: other\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "policy nosuch does not exist"));
	cr_assert_not_null(bi_problem(&res, "policy other does not exist"));
	bi_free(&res);
}

Test(bulk_routing, a_did_destination_must_name_a_user_of_its_tenant)
{
	struct bi_result res;
	const pbx_error *e;
	char slug[32], num[24];

	bi_slug(slug, "dest");
	number(num);
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  dids:\n  - number: \"%s\"\n"
		  "    destination: user:ghost\n  users:\n  - username: alice\n", slug, num);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "has no user ghost");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].dids[0].destination"));
	bi_free(&res);
	/* A user created in the same file, and an extension it gets, are fine. */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  dids:\n  - number: \"%s\"\n"
		  "    destination: ext:100\n  users:\n  - username: alice\n", slug, num);
	ok(&res);
	bi_free(&res);
}

Test(bulk_routing, a_number_listed_under_another_tenant_moves_there)
{
	struct bi_result res;
	char a[32], b[32], num[24], *v;

	bi_slug(a, "mva");
	bi_slug(b, "mvb");
	number(num);
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  extensions: 100-199\n"
		  "  dids:\n  - number: \"%s\"\n- slug: %s\n  extensions: 100-199\n", a, num, b);
	ok(&res);
	bi_free(&res);
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  dids:\n  - number: \"%s\"\n",
		  b, num);
	ok(&res);
	cr_assert(eq(long, bi_count(&res, "dids_updated"), 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&res.changes, 0, "detail"), "tenant"));
	bi_free(&res);
	v = bi_sql("SELECT t.slug FROM dids d JOIN tenants t ON t.id = d.tenant_id WHERE d.number = $1",
		   num, NULL);
	cr_assert(eq(str, v, b));
	free(v);
}

Test(bulk_routing, a_trunk_cannot_change_owner)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "owner");
	bi_import(&res, false, false, NULL, "trunks:\n- name: %s-t\n  host: a.example\n  auth: ip_auth\n"
		  "  match: [10.0.0.1]\ntenants: []\n", slug);
	ok(&res);
	bi_free(&res);
	bi_import(&res, false, false, NULL, "tenants:\n- slug: %s\n  extensions: 100-199\n  trunks:\n"
		  "  - name: %s-t\n    host: a.example\n    auth: ip_auth\n    match: [10.0.0.1]\n",
		  slug, slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "already exists as a global trunk"));
	bi_free(&res);
}

Test(bulk_routing, a_registration_trunk_needs_a_secret_once)
{
	struct bi_result res;
	char slug[32];

	bi_slug(slug, "nosec");
	bi_import(&res, false, false, NULL, "trunks:\n- name: %s-r\n  host: a.example\n"
		  "  auth: registration\n  username: u\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "a registration trunk needs a secret"));
	bi_free(&res);
}

Test(bulk_routing, prune_deletes_unlisted_policies_trunks_and_dids_but_no_global_trunk)
{
	struct bi_result res;
	char slug[32], num[24];

	bi_slug(slug, "xprune");
	number(num);
	import_routing(&res, slug, "s3cret", num, false);
	ok(&res);
	bi_free(&res);
	/* vip is still alice's policy: pruning it is refused while she keeps it. */
	bi_import(&res, false, true, NULL, "tenants:\n- slug: %s\n  policies:\n  - name: std\n"
		  "  users:\n  - username: alice\n  - username: bob\n", slug);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	cr_assert_not_null(bi_problem(&res, "policy vip does not exist"));
	bi_free(&res);
	bi_import(&res, false, true, NULL, "tenants:\n- slug: %s\n  policies:\n  - name: std\n"
		  "    rules: []\n  users:\n  - username: alice\n    policy: null\n  - username: bob\n",
		  slug);
	ok(&res);
	cr_assert(eq(long, bi_count(&res, "policies_deleted"), 1));
	cr_assert(eq(long, bi_count(&res, "policies_updated"), 1));
	cr_assert(eq(long, bi_count(&res, "trunks_deleted"), 1));
	cr_assert(eq(long, bi_count(&res, "dids_deleted"), 1));
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM trunks WHERE name = $1 || '-g'", slug,
				       NULL), 1));
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM trunks WHERE name = $1 || '-k'", slug,
				       NULL), 0));
}

#define EMERGENCY_FILE \
	"tenants:\n- slug: %s\n  extensions: 100-199\n  emergency_trunk: %s\n" \
	"  emergency_callerid: \"%s\"\n  trunks:\n  - name: %s-em\n    host: 203.0.113.9\n" \
	"    auth: ip_auth\n    match: [%s]\n"

/* The emergency route of a tenant is exported and imported both ways: set, kept by an
 * import of what export printed, changed, cleared. */
Test(bulk_routing, emergency_trunk_and_callerid_round_trip_through_export_and_import)
{
	struct bi_result res;
	struct pbx_rows rows;
	pbx_error e = PBX_ERROR_INIT;
	char slug[32], trunk[48], match[32], *v, *out = NULL, *err = NULL;

	bi_slug(slug, "emx");
	snprintf(trunk, sizeof(trunk), "%s-em", slug);
	snprintf(match, sizeof(match), "10.203.%u.%d", (unsigned)getpid() & 255,
		 atoi(strrchr(slug, '-') + 1) % 250 + 1);
	bi_import(&res, false, false, NULL, EMERGENCY_FILE, slug, trunk, "+15550100", slug, match);
	ok(&res);
	bi_free(&res);
	v = bi_sql("SELECT k.name || ' ' || t.emergency_callerid FROM tenants t JOIN trunks k "
		   "ON k.id = t.emergency_trunk_id WHERE t.slug = $1", slug, NULL);
	cr_assert_not_null(strstr(v, "-em +15550100"), "%s", v);
	free(v);
	cr_assert(eq(int, bi_sh(&out, &err, "$P export --tenant %s", slug), 0), "%s", err);
	cr_assert_not_null(strstr(out, "emergency_trunk: "), "%s", out);
	cr_assert_not_null(strstr(out, trunk), "%s", out);
	cr_assert_not_null(strstr(out, "+15550100"), "%s", out);
	free(out);
	free(err);
	export_imports_unchanged(slug);
	/* a new caller ID is an update of the tenant, named */
	bi_import(&res, false, false, NULL, EMERGENCY_FILE, slug, trunk, "5550199", slug, match);
	ok(&res);
	cr_assert(eq(long, bi_count(&res, "tenants_updated"), 1));
	cr_assert_not_null(strstr(pbx_rows_get(&res.changes, 0, "detail"), "emergency_callerid"));
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug = $1 AND "
				       "emergency_callerid = '5550199'", slug, NULL), 1));
	/* empty clears both */
	bi_import(&res, false, false, NULL, EMERGENCY_FILE, slug, "''", "", slug, match);
	ok(&res);
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug = $1 AND "
				       "emergency_trunk_id IS NULL AND emergency_callerid IS NULL",
				       slug, NULL), 1));
	cr_assert(eq(int, pbx_audit_verify(bi_ctx, &rows, &e), 0), "%s", e.message);
	pbx_rows_free(&rows);
}

/* A malformed caller ID, a malformed trunk name, a trunk that does not exist and another
 * tenant's trunk are refused, each naming its key; nothing is written. */
Test(bulk_routing, a_bad_emergency_trunk_or_callerid_is_refused)
{
	struct bi_result res;
	const pbx_error *e;
	char a[32], b[32], theirs[48];

	bi_slug(a, "ema");
	bi_slug(b, "emb");
	snprintf(theirs, sizeof(theirs), "%s-k", b);
	/* what the file alone shows wrong */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  emergency_trunk: \"Bad Name!\"\n"
		  "  emergency_callerid: call-me\n", a);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "emergency caller ID \"call-me\"");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].emergency_callerid"));
	e = bi_problem(&res, "Bad Name!");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].emergency_trunk"));
	bi_free(&res);
	/* what the final state shows wrong: no such trunk, and another tenant's trunk */
	bi_import(&res, false, false, NULL,
		  "tenants:\n- slug: %s\n  extensions: 100-199\n  emergency_trunk: nosuch-%s\n"
		  "- slug: %s\n  extensions: 200-299\n  trunks:\n  - name: %s\n"
		  "    host: 203.0.113.1\n    auth: ip_auth\n    match: [203.0.113.77]\n"
		  "- slug: %s-c\n  extensions: 300-399\n  emergency_trunk: %s\n",
		  a, a, b, theirs, a, theirs);
	cr_assert(eq(int, res.r, PBX_EINVALID));
	e = bi_problem(&res, "no trunk nosuch-");
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[0].emergency_trunk"));
	e = bi_problem(&res, theirs);
	cr_assert_not_null(e);
	cr_assert(eq(str, (char *)e->object, "tenants[2].emergency_trunk"));
	bi_free(&res);
	cr_assert(eq(long, bi_sql_long("SELECT count(*) FROM tenants WHERE slug IN ($1, $2)", a, b),
		     0));
}
