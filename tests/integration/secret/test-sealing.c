/* SPDX-License-Identifier: MIT */
/*
 * Sealed-box secrets end to end through the built pbxctl, each test on its own database:
 * an operator without the private key creates devices with the published public key and
 * sees the new secret once, but cannot reveal; secrets of the earlier scheme keep opening
 * and are moved to sealed boxes by `secrets rotate-key`; a rotation re-seals everything in
 * one transaction, and one killed at any step leaves every secret openable.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <glob.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privtest.h"

static struct privtest pt;

static void setup(void)
{
	pt_setup(&pt, false);
}

static void teardown(void)
{
	pt_teardown(&pt);
}

TestSuite(sealing, .init = setup, .fini = teardown, .timeout = 120);

/* Run and expect @want; returns stdout (malloc'd). */
static char *ok(const char *conf, int want, ...)
{
	char *out = NULL, *err = NULL;
	const char *a[16] = { 0 };
	va_list ap;
	int n = 0, st;

	va_start(ap, want);
	for (const char *s = va_arg(ap, const char *); s && n < 15; s = va_arg(ap, const char *))
		a[n++] = s;
	va_end(ap);
	cr_assert(lt(int, n, 15), "too many arguments");
	st = testenv_run_conf(conf, NULL, &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
		    a[9], a[10], a[11], a[12], a[13], a[14], NULL);
	cr_assert(eq(int, st, want), "pbxctl %s %s %s: exit %d: %s", a[0], a[1], a[2], st, err);
	free(err);
	return out;
}

/* A tenant with user alice, by the privileged side. */
static void tenant_and_user(const char *slug)
{
	free(ok(pt.priv_conf, 0, "tenant", "create", slug, "--extensions", "1000-1999", NULL));
	free(ok(pt.priv_conf, 0, "-t", slug, "user", "create", "alice", "--extension", "1000",
		NULL));
}

/* Create device @label of alice and return its secret, shown once. */
static char *new_device(const char *conf, const char *slug, const char *label)
{
	char *out = ok(conf, 0, "-o", "json", "-t", slug, "device", "create", "alice", label, NULL);
	char *secret = pt_json_str(out, "secret");

	cr_assert_not_null(secret, "%s", out);
	cr_assert(eq(sz, strlen(secret), 24), "%s", out);
	free(out);
	return secret;
}

/* The revealed secret of alice's device @label, through @conf. */
static char *reveal(const char *conf, const char *slug, const char *label)
{
	char *out = ok(conf, 0, "-o", "json", "-t", slug, "device", "show", "alice", label,
		       "--reveal-secret", NULL);
	char *secret = pt_json_str(out, "secret");

	cr_assert_not_null(secret, "%s", out);
	free(out);
	return secret;
}

/* The id of the key in a key file (from the sealed form the published key gives). */
static char *published_id(void)
{
	return pt_sql(&pt, "SELECT key_id FROM sealing_key", NULL);
}

Test(sealing, operator_without_private_key_creates_with_the_published_key_and_sees_the_secret_once)
{
	char *secret, *sealed, *id, head[40], *out = NULL, *err = NULL;

	free(ok(pt.priv_conf, 0, "secrets", "init", NULL));
	out = ok(pt.priv_conf, 0, "-o", "json", "secrets", "publish", NULL);
	id = published_id();
	cr_assert(eq(sz, strlen(id), 16));
	cr_assert_not_null(strstr(out, id), "%s", out);
	free(out);
	tenant_and_user("sealop");
	/* The operator's config names a key file that does not exist. */
	cr_assert(ne(int, access(pt_path(&pt, "no-such.key"), F_OK), 0));
	secret = new_device(pt.op_conf, "sealop", "Desk");
	sealed = pt_sql(&pt, "SELECT secret_sealed FROM devices WHERE label = 'Desk'", NULL);
	snprintf(head, sizeof(head), "v2:%s:", id);
	cr_assert(eq(int, strncmp(sealed, head, strlen(head)), 0), "%s", sealed);
	cr_assert_null(strstr(sealed, secret));
	/* Shown once: a plain show masks it. */
	out = ok(pt.op_conf, 0, "-o", "json", "-t", "sealop", "device", "show", "alice", "Desk", NULL);
	cr_assert_null(strstr(out, secret), "%s", out);
	free(out);
	/* The privileged side opens what the operator sealed. */
	out = reveal(pt.priv_conf, "sealop", "Desk");
	cr_assert(eq(str, out, secret));
	free(out);
	/* The operator cannot reveal: one clear line, exit 6, nothing printed, no audit row. */
	cr_assert(eq(int, testenv_run_conf(pt.op_conf, NULL, &out, &err, "-t", "sealop", "device", "show",
				 "alice", "Desk", "--reveal-secret", NULL), 6));
	cr_assert(eq(str, out, ""));
	cr_assert_not_null(strstr(err, "cannot open sealed secrets: the private key"), "%s", err);
	cr_assert(eq(int, (int)(strchr(err, '\n') - err), (int)strlen(err) - 1), "one line: %s", err);
	free(out);
	free(err);
	free(id);
	id = pt_sql(&pt, "SELECT count(*) FROM audit_log WHERE action = 'reveal'", NULL);
	cr_assert(eq(str, id, "1"));
	free(id);
	free(sealed);
	free(secret);
}

Test(sealing, operator_with_nothing_published_cannot_create_and_changes_nothing)
{
	char *out = NULL, *err = NULL, *n;

	free(ok(pt.priv_conf, 0, "secrets", "init", NULL));
	tenant_and_user("sealnone");
	cr_assert(eq(int, testenv_run_conf(pt.op_conf, NULL, &out, &err, "-t", "sealnone", "device",
				 "create", "alice", "Desk", NULL), 4));
	cr_assert_not_null(strstr(err, "no public key is published"), "%s", err);
	cr_assert_not_null(strstr(err, "pbxctl secrets publish"), "%s", err);
	free(out);
	free(err);
	n = pt_sql(&pt, "SELECT count(*) FROM devices", NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
	/* Nor may the operator publish: it holds no private key. */
	cr_assert(eq(int, testenv_run_conf(pt.op_conf, NULL, &out, &err, "secrets", "publish", NULL), 4));
	cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
	free(out);
	free(err);
	n = pt_sql(&pt, "SELECT count(*) FROM sealing_key", NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
}

/* Replace the key file by a legacy one and re-seal every device secret the old way. */
static void make_legacy(void)
{
	unsigned char key[32], bin[24 + 16 + 64];
	char text[128], sealed[160];
	PGresult *res;
	FILE *f;

	cr_assert(eq(int, sodium_init() >= 0, 1));
	randombytes_buf(key, sizeof(key));
	snprintf(text, sizeof(text), "pbxctl-key-v1:");
	sodium_bin2base64(text + 14, sizeof(text) - 14, key, sizeof(key),
			  sodium_base64_VARIANT_ORIGINAL);
	res = PQexec(pt.pg, "SELECT id, secret_sealed FROM devices ORDER BY id");
	cr_assert(eq(int, PQresultStatus(res), PGRES_TUPLES_OK));
	for (int i = 0; i < PQntuples(res); i++) {
		char *plain = reveal(pt.priv_conf, "seallegacy", i ? "Soft" : "Desk");
		size_t n = strlen(plain);
		const char *p[2] = { PQgetvalue(res, i, 0), sealed };
		PGresult *u;

		randombytes_buf(bin, 24);
		crypto_secretbox_easy(bin + 24, (unsigned char *)plain, n, bin, key);
		memcpy(sealed, "v1:", 3);
		sodium_bin2base64(sealed + 3, sizeof(sealed) - 3, bin, 24 + 16 + n,
				  sodium_base64_VARIANT_ORIGINAL);
		u = PQexecParams(pt.pg, "UPDATE devices SET secret_sealed = $2 WHERE id = $1::bigint",
				 2, NULL, p, NULL, NULL, 0);
		cr_assert(eq(int, PQresultStatus(u), PGRES_COMMAND_OK), "%s", PQerrorMessage(pt.pg));
		PQclear(u);
		free(plain);
	}
	PQclear(res);
	PQclear(PQexec(pt.pg, "DELETE FROM sealing_key"));
	unlink(pt.key);
	f = fopen(pt.key, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", text);
	fclose(f);
	chmod(pt.key, 0600);
}

Test(sealing, legacy_secrets_keep_opening_and_rotate_key_moves_them_to_sealed_boxes)
{
	char *desk, *soft, *out, *n, *id, like[40];
	struct stat st;

	free(ok(pt.priv_conf, 0, "secrets", "init", NULL));
	tenant_and_user("seallegacy");
	desk = new_device(pt.priv_conf, "seallegacy", "Desk");
	soft = new_device(pt.priv_conf, "seallegacy", "Soft");
	make_legacy();
	n = pt_sql(&pt, "SELECT count(*) FROM devices WHERE secret_sealed LIKE 'v1:%'", NULL);
	cr_assert(eq(str, n, "2"));
	free(n);
	/* Old values open with the legacy key until migrated. */
	out = reveal(pt.priv_conf, "seallegacy", "Desk");
	cr_assert(eq(str, out, desk));
	free(out);
	free(ok(pt.priv_conf, 0, "secrets", "verify", NULL));
	/* A legacy key no longer seals: a new device says what to run, and nothing is written. */
	{
		char *o = NULL, *e = NULL;

		cr_assert(eq(int, testenv_run_conf(pt.priv_conf, NULL, &o, &e, "-t", "seallegacy", "device",
					 "create", "alice", "Third", NULL), 3));
		cr_assert_not_null(strstr(e, "pbxctl secrets rotate-key"), "%s", e);
		free(o);
		free(e);
	}
	out = ok(pt.priv_conf, 0, "-o", "json", "secrets", "rotate-key", NULL);
	cr_assert_not_null(strstr(out, "\"resealed\": 2"), "%s", out);
	free(out);
	id = published_id();
	snprintf(like, sizeof(like), "v2:%s:%%", id);
	n = pt_sql(&pt, "SELECT count(*) FROM devices WHERE secret_sealed LIKE $1", like, NULL);
	cr_assert(eq(str, n, "2"));
	free(n);
	/* The legacy key is kept as <key>.v1; the key file is the new pair. */
	cr_assert(eq(int, stat(pt_path(&pt, "pbxctl.key.v1"), &st), 0));
	cr_assert(eq(int, st.st_mode & 0777, 0600));
	out = reveal(pt.priv_conf, "seallegacy", "Desk");
	cr_assert(eq(str, out, desk));
	free(out);
	out = reveal(pt.priv_conf, "seallegacy", "Soft");
	cr_assert(eq(str, out, soft));
	free(out);
	/* The new key seals again. */
	free(new_device(pt.priv_conf, "seallegacy", "Third"));
	free(id);
	free(desk);
	free(soft);
}

/* The device secrets, trunk secret and key id before a rotation, to compare after. */
struct before {
	char *desk, *soft, *trunk_secret;
};

static void populate(struct before *b, const char *slug)
{
	free(ok(pt.priv_conf, 0, "secrets", "init", NULL));
	free(ok(pt.priv_conf, 0, "secrets", "publish", NULL));
	tenant_and_user(slug);
	b->desk = new_device(pt.priv_conf, slug, "Desk");
	b->soft = new_device(pt.op_conf, slug, "Soft");
	b->trunk_secret = strdup("Tr-unk-s3cret");
	free(ok(pt.priv_conf, 0, "trunk", "create", "upstream", "--global", "--host",
		"sip.example.net", "--auth", "registration", "--username", "acct",
		"--secret", b->trunk_secret, NULL));
}

/* Every secret opens and is the one it was. */
static void all_open(const struct before *b, const char *slug)
{
	char *out = reveal(pt.priv_conf, slug, "Desk"), *s;

	cr_assert(eq(str, out, b->desk));
	free(out);
	out = reveal(pt.priv_conf, slug, "Soft");
	cr_assert(eq(str, out, b->soft));
	free(out);
	out = ok(pt.priv_conf, 0, "-o", "json", "trunk", "show", "upstream", "--reveal-secret", NULL);
	s = pt_json_str(out, "secret");
	cr_assert(eq(str, s ? s : "(none)", b->trunk_secret), "%s", out);
	free(s);
	free(out);
	free(ok(pt.priv_conf, 0, "secrets", "verify", NULL));
}

/* How many "<key file>.<something>" files there are. */
static size_t kept_keys(void)
{
	glob_t g;
	size_t n;

	if (glob(pt_path(&pt, "pbxctl.key.*"), 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

static void free_before(struct before *b)
{
	free(b->desk);
	free(b->soft);
	free(b->trunk_secret);
}

Test(sealing, rotate_key_reseals_every_secret_and_keeps_the_old_key)
{
	struct before b;
	char *old, *new, *n, *out, like[40], kept[80];
	struct stat st;

	populate(&b, "sealrot");
	old = published_id();
	out = ok(pt.priv_conf, 0, "-o", "json", "secrets", "rotate-key", NULL);
	cr_assert_not_null(strstr(out, "\"resealed\": 3"), "%s", out);
	cr_assert_not_null(strstr(out, "\"changed\": true"), "%s", out);
	free(out);
	new = published_id();
	cr_assert(ne(str, old, new));
	snprintf(like, sizeof(like), "v2:%s:%%", new);
	n = pt_sql(&pt, "SELECT count(*) FROM devices WHERE secret_sealed LIKE $1", like, NULL);
	cr_assert(eq(str, n, "2"));
	free(n);
	n = pt_sql(&pt, "SELECT count(*) FROM trunks WHERE secret_sealed LIKE $1", like, NULL);
	cr_assert(eq(str, n, "1"));
	free(n);
	snprintf(kept, sizeof(kept), "pbxctl.key.%s", old);
	cr_assert(eq(int, stat(pt_path(&pt, kept), &st), 0), "old key kept as %s", kept);
	all_open(&b, "sealrot");
	/* On record, without any secret. */
	n = pt_sql(&pt, "SELECT after::text FROM audit_log WHERE action = 'rotate-key'", NULL);
	cr_assert_not_null(strstr(n, new), "%s", n);
	cr_assert_null(strstr(n, b.desk));
	free(n);
	/* The operator seals to the new published key. */
	free(new_device(pt.op_conf, "sealrot", "Third"));
	n = pt_sql(&pt, "SELECT count(*) FROM devices WHERE secret_sealed LIKE $1", like, NULL);
	cr_assert(eq(str, n, "3"));
	free(n);
	free(old);
	free(new);
	free_before(&b);
}

Test(sealing, an_interrupted_rotation_leaves_everything_openable_at_every_step)
{
	static const char *const steps[] = { "new-key", "before-commit", "after-commit",
					     "after-verify", "after-keep-old" };
	struct before b;

	populate(&b, "sealkill");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char env[64], *out = NULL, *err = NULL, *pub;
		bool committed = i >= 2;

		snprintf(env, sizeof(env), "PBXCTL_TEST_ROTATE_ABORT=%s", steps[i]);
		cr_assert(eq(int, testenv_run_conf(pt.priv_conf, env, &out, &err, "secrets", "rotate-key", NULL),
			     99), "step %s: %s", steps[i], err);
		free(out);
		free(err);
		all_open(&b, "sealkill");
		/* The next rotation finishes the interrupted one, or starts afresh. */
		out = ok(pt.priv_conf, 0, "-o", "json", "secrets", "rotate-key", NULL);
		cr_assert_not_null(strstr(out, committed ? "\"resumed\": true" : "\"resumed\": false"),
			       "step %s: %s", steps[i], out);
		free(out);
		all_open(&b, "sealkill");
		/* The key file is the published key. */
		pub = published_id();
		out = ok(pt.priv_conf, 0, "-o", "json", "secrets", "publish", NULL);
		cr_assert_not_null(strstr(out, pub), "step %s: key file is not %s: %s", steps[i], pub,
				   out);
		free(out);
		free(pub);
	}
	free_before(&b);
}

Test(sealing, rotation_is_refused_when_a_secret_does_not_open_and_changes_nothing)
{
	struct before b;
	char *out = NULL, *err = NULL, *before, *after, *id;

	populate(&b, "sealbad");
	/* A value sealed to a key nobody here holds. */
	free(pt_sql(&pt, "UPDATE devices SET secret_sealed = 'v2:0123456789abcdef:AAAA' "
			 "WHERE label = 'Soft'", NULL));
	before = pt_sql(&pt, "SELECT string_agg(secret_sealed, ',' ORDER BY id) FROM devices", NULL);
	id = published_id();
	cr_assert(eq(int, testenv_run_conf(pt.priv_conf, NULL, &out, &err, "secrets", "rotate-key", NULL), 3),
		  "%s", err);
	cr_assert_not_null(strstr(err, "device sealbad-"), "names the device: %s", err);
	free(out);
	free(err);
	after = pt_sql(&pt, "SELECT string_agg(secret_sealed, ',' ORDER BY id) FROM devices", NULL);
	cr_assert(eq(str, after, before));
	free(after);
	after = published_id();
	cr_assert(eq(str, after, id));
	free(after);
	/* No new key file left behind. */
	cr_assert(eq(sz, kept_keys(), 0));
	free(id);
	free(before);
	free_before(&b);
}

Test(sealing, an_operator_cannot_rotate)
{
	char *out = NULL, *err = NULL, *n;

	free(ok(pt.priv_conf, 0, "secrets", "init", NULL));
	free(ok(pt.priv_conf, 0, "secrets", "publish", NULL));
	cr_assert(eq(int, testenv_run_conf(pt.op_conf, NULL, &out, &err, "secrets", "rotate-key", NULL), 4));
	cr_assert_not_null(strstr(err, "no-such.key"), "%s", err);
	free(out);
	free(err);
	n = pt_sql(&pt, "SELECT count(*) FROM audit_log WHERE action = 'rotate-key'", NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
}
