/* SPDX-License-Identifier: MIT */
/*
 * Devices against the real PostgreSQL, through the library: generated SIP usernames and
 * sealed secrets, the per-user limit and label uniqueness, the secret masked everywhere but
 * in the one-time result and the audited reveal, tampering and wrong or missing keys.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/user.h"
#include "testenv.h"
#include "user-test.h"

TestSuite(device, .init = ut_setup, .fini = ut_teardown);
TestSuite(device_secret, .init = ut_setup, .fini = ut_teardown);

static long devices_of(const char *t)
{
	char *v = ut_sql("SELECT count(*) FROM devices d JOIN tenants t ON t.id = d.tenant_id "
			 "WHERE t.slug = $1", t, NULL);
	long n = strtol(v, NULL, 10);

	free(v);
	return n;
}

static int create(const char *t, const char *user, const char *label, pbx_error *err)
{
	struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;
	struct pbx_rows rows;
	int r;

	spec.label = label;
	r = pbx_device_create(ut_ctx, t, user, &spec, &rows, err);
	if (r == 0)
		pbx_device_rows_free(&rows);
	return r;
}

Test(device, create_draws_a_random_sip_username_and_a_sealed_secret)
{
	struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key;
	struct pbx_rows rows;
	char t[32], prefix[40], sipu[64], secret[64], *sealed, *plain;

	ut_tenant(t, "gen", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	spec.label = "Desk Phone";
	cr_assert(eq(int, pbx_device_create(ut_ctx, t, "alice", &spec, &rows, &err), 0), "%s",
		  err.message);
	snprintf(sipu, sizeof(sipu), "%s", pbx_rows_get(&rows, 0, "sip_username"));
	snprintf(secret, sizeof(secret), "%s", pbx_rows_get(&rows, 0, "secret"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "user"), "alice"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "transport"), "udp"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "codecs"), "ulaw,alaw"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "enabled"), "true"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "force_rport"), "true"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "direct_media"), "false"));
	pbx_device_rows_free(&rows);
	snprintf(prefix, sizeof(prefix), "%s-", t);
	cr_assert(eq(int, strncmp(sipu, prefix, strlen(prefix)), 0), "%s", sipu);
	cr_assert(eq(sz, strlen(sipu), strlen(prefix) + 12));
	cr_assert(eq(ptr, strstr(sipu + strlen(prefix), "1000"), NULL));
	cr_assert(eq(ptr, strstr(sipu, "alice"), NULL));
	cr_assert(ge(sz, strlen(secret), 20));
	cr_assert(eq(sz, strspn(secret, PBX_SECRET_SIP_ALPHABET), strlen(secret)));
	sealed = ut_sql("SELECT secret_sealed FROM devices WHERE sip_username = $1", sipu, NULL);
	cr_assert(eq(int, strncmp(sealed, "v2:", 3), 0));
	cr_assert(eq(ptr, strstr(sealed, secret), NULL));
	cr_assert(eq(int, pbx_secret_key_load(ut_key_path, &key, &err), 0));
	cr_assert(eq(int, pbx_secret_open(key, sealed, &plain, &err), 0));
	cr_assert(eq(str, plain, secret));
	pbx_secret_free_str(plain);
	pbx_secret_key_free(key);
	free(sealed);
	/* A second device gets a different username and secret. */
	spec.label = "Mobile";
	cr_assert(eq(int, pbx_device_create(ut_ctx, t, "1000", &spec, &rows, &err), 0));
	cr_assert(not(eq(str, (char *)pbx_rows_get(&rows, 0, "sip_username"), sipu)));
	cr_assert(not(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), secret)));
	pbx_device_rows_free(&rows);
}

Test(device, the_eleventh_device_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32], label[16];

	ut_tenant(t, "eleven", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_user(t, "bob", NULL, NULL);
	for (int i = 1; i <= PBX_DEVICE_MAX_PER_USER; i++) {
		snprintf(label, sizeof(label), "Phone %d", i);
		ut_device(t, "alice", label, NULL);
	}
	cr_assert(eq(int, create(t, "alice", "Phone 11", &err), PBX_ECONFLICT));
	cr_assert(not(eq(ptr, strstr(err.message, "10 devices"), NULL)), "%s", err.message);
	cr_assert(eq(long, devices_of(t), 10));
	cr_assert(eq(long, ut_audit_count(t, "create"), 1 + 2 + 10));
	/* The limit is per user. */
	cr_assert(eq(int, create(t, "bob", "Phone 11", &err), 0), "%s", err.message);
}

Test(device, a_duplicate_label_for_the_same_user_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	char t[32];

	ut_tenant(t, "label", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_user(t, "bob", NULL, NULL);
	ut_device(t, "alice", "Desk Phone", NULL);
	cr_assert(eq(int, create(t, "alice", "Desk Phone", &err), PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "label"));
	cr_assert(eq(str, err.object, "device alice/Desk Phone"));
	cr_assert(eq(long, devices_of(t), 1));
	cr_assert(eq(int, create(t, "bob", "Desk Phone", &err), 0), "another user may use it");
}

Test(device, bad_input_is_refused_with_its_field)
{
	static const struct {
		const char *label, *transport, *codecs, *field;
	} bad[] = {
		{ "", NULL, NULL, "label" },
		{ "Desk\nexten => 1,1,Dial(x)", NULL, NULL, "label" },
		{ "12345678901234567890123456789012345678901234567890123456789012345", NULL, NULL, "label" },
		{ "Desk", "sctp", NULL, "transport" },
		{ "Desk", NULL, "ulaw,speex", "codecs" },
		{ "Desk", NULL, "ulaw,ulaw", "codecs" },
		{ "Desk", NULL, "", "codecs" },
		{ "Desk", NULL, "ulaw,", "codecs" },
		{ "Desk", NULL, "ulaw, alaw", "codecs" },
	};
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32];

	ut_tenant(t, "devbad", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;

		spec.label = bad[i].label;
		spec.transport = bad[i].transport;
		spec.codecs = bad[i].codecs;
		cr_assert(eq(int, pbx_device_create(ut_ctx, t, "alice", &spec, &rows, &err),
			     PBX_EINVALID), "case %zu", i);
		cr_assert(eq(str, err.field, (char *)bad[i].field), "case %zu: %s", i, err.message);
	}
	cr_assert(eq(long, devices_of(t), 0));
}

Test(device, update_disable_enable_and_the_codec_order)
{
	struct pbx_device_spec spec = PBX_DEVICE_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	bool changed = false;
	char t[32];

	ut_tenant(t, "devupd", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_device(t, "alice", "Desk", NULL);
	ut_device(t, "alice", "Mobile", NULL);
	spec.codecs = "g722,opus,ulaw";
	spec.transport = "tls";
	spec.direct_media = 1;
	spec.label = "Desk Phone";
	cr_assert(eq(int, pbx_device_update(ut_ctx, t, "alice", "Desk", &spec, &rows, &changed,
					    &err), 0), "%s", err.message);
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "codecs"), "g722,opus,ulaw"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "label"), "Desk Phone"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "transport"), "tls"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "direct_media"), "true"));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), "********"));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_device_update(ut_ctx, t, "alice", "Desk Phone", &spec, &rows,
					    &changed, &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	spec = (struct pbx_device_spec)PBX_DEVICE_SPEC_INIT;
	spec.label = "Mobile";
	cr_assert(eq(int, pbx_device_update(ut_ctx, t, "alice", "Desk Phone", &spec, &rows,
					    &changed, &err), PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "label"));
	cr_assert(eq(int, pbx_device_set_enabled(ut_ctx, t, "alice", "Mobile", false, &rows,
						 &changed, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "enabled"), "false"));
	pbx_rows_free(&rows);
	cr_assert(eq(long, devices_of(t), 2), "disable keeps the row");
	cr_assert(eq(int, pbx_device_set_enabled(ut_ctx, t, "alice", "Mobile", false, &rows,
						 &changed, &err), 0));
	cr_assert(not(changed));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_device_set_enabled(ut_ctx, t, "alice", "Mobile", true, &rows,
						 &changed, &err), 0));
	cr_assert(changed);
	pbx_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, "disable"), 1));
	cr_assert(eq(long, ut_audit_count(t, "enable"), 1));
	cr_assert(eq(int, pbx_device_set_enabled(ut_ctx, t, "alice", "Tablet", true, &rows,
						 &changed, &err), PBX_ENOTFOUND));
}

Test(device, delete_and_the_users_delete_or_purge_remove_devices)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32];

	ut_tenant(t, "devdel", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_user(t, "bob", NULL, NULL);
	ut_device(t, "alice", "Desk", NULL);
	ut_device(t, "alice", "Mobile", NULL);
	ut_device(t, "bob", "Desk", NULL);
	ut_device(t, "bob", "Mobile", NULL);
	cr_assert(eq(int, pbx_device_delete(ut_ctx, t, "alice", "Desk", &rows, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(long, devices_of(t), 3));
	cr_assert(eq(int, pbx_user_delete(ut_ctx, t, "alice", false, &rows, NULL, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(long, devices_of(t), 2), "a soft-deleted user keeps no devices");
	cr_assert(eq(int, create(t, "alice", "Desk", &err), PBX_ECONFLICT), "nor gets new ones");
	cr_assert(eq(int, pbx_user_delete(ut_ctx, t, "bob", true, &rows, NULL, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(long, devices_of(t), 0));
	/* Each removed device has its own audit row. */
	cr_assert(eq(long, ut_audit_count(t, "delete"), 1 + 1 + 1 + 2));
	cr_assert(eq(int, pbx_device_delete(ut_ctx, t, "bob", "Desk", &rows, &err), PBX_ENOTFOUND));
}

Test(device_secret, the_secret_is_masked_in_list_show_and_audit)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], secret[64], *sealed, *audit;

	ut_tenant(t, "mask", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_device(t, "alice", "Desk", secret);
	cr_assert(eq(int, pbx_device_list(ut_ctx, t, NULL, &rows, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), PBX_DEVICE_SECRET_MASK));
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", false, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), PBX_DEVICE_SECRET_MASK));
	pbx_rows_free(&rows);
	/* Change it in every way, then look through the whole audit trail of the tenant. */
	cr_assert(eq(int, pbx_device_rotate_secret(ut_ctx, t, "alice", "Desk", &rows, &err), 0));
	pbx_device_rows_free(&rows);
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", true, &rows, &err), 0));
	snprintf(secret, sizeof(secret), "%s", pbx_rows_get(&rows, 0, "secret"));
	pbx_device_rows_free(&rows);
	sealed = ut_sql("SELECT secret_sealed FROM devices d JOIN tenants t ON t.id = d.tenant_id "
			"WHERE t.slug = $1", t, NULL);
	cr_assert(eq(int, pbx_user_delete(ut_ctx, t, "alice", true, &rows, NULL, &err), 0));
	pbx_rows_free(&rows);
	audit = ut_sql("SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), '|') "
		       "FROM audit_log WHERE tenant = $1", t, NULL);
	cr_assert(eq(ptr, strstr(audit, secret), NULL), "%s", audit);
	cr_assert(eq(ptr, strstr(audit, sealed + 3), NULL));
	cr_assert(eq(ptr, strstr(audit, "secret_sealed"), NULL));
	cr_assert(not(eq(ptr, strstr(audit, "\"secret\": \"********\""), NULL)), "%s", audit);
	free(audit);
	free(sealed);
}

Test(device_secret, reveal_returns_the_secret_and_is_audited)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], secret[64], *id, *who;

	ut_tenant(t, "reveal", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_device(t, "alice", "Desk", secret);
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", false, &rows, &err), 0));
	pbx_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, "reveal"), 0), "a plain show is not a reveal");
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", true, &rows, &err), 0), "%s",
		  err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), secret));
	pbx_device_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, "reveal"), 1));
	id = ut_sql("SELECT d.id::text FROM devices d JOIN tenants t ON t.id = d.tenant_id "
		    "WHERE t.slug = $1", t, NULL);
	who = ut_sql("SELECT entity || ':' || entity_id || ':' || (actor = session_user)::text "
		     "|| ':' || (source <> '')::text FROM audit_log WHERE tenant = $1 "
		     "AND action = 'reveal'", t, NULL);
	cr_assert(eq(int, strncmp(who, "device:", 7), 0));
	cr_assert(eq(int, strncmp(who + 7, id, strlen(id)), 0));
	cr_assert(not(eq(ptr, strstr(who, ":true:true"), NULL)), "%s", who);
	free(who);
	free(id);
}

Test(device_secret, a_tampered_ciphertext_is_detected)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	long checked = 0;
	char t[32];

	ut_tenant(t, "tamper", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_device(t, "alice", "Desk", NULL);
	ut_device(t, "alice", "Mobile", NULL);
	cr_assert(eq(int, pbx_device_verify_secrets(ut_ctx, t, &rows, &checked, &err), 0));
	cr_assert(eq(sz, rows.n_rows, 0));
	cr_assert(eq(long, checked, 2));
	pbx_rows_free(&rows);
	/* Flip one character of the ciphertext, well past the version tag. */
	free(ut_sql("UPDATE devices d SET secret_sealed = overlay(secret_sealed placing "
		    "CASE WHEN substr(secret_sealed, 30, 1) = 'A' THEN 'B' ELSE 'A' END from 30 for 1) "
		    "FROM tenants t WHERE t.id = d.tenant_id AND t.slug = $1 AND d.label = $2",
		    t, "Desk"));
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", true, &rows, &err),
		     PBX_EINVALID));
	cr_assert(not(eq(ptr, strstr(err.message, "tampered"), NULL)), "%s", err.message);
	cr_assert(eq(str, err.object, "device alice/Desk"));
	cr_assert(eq(long, ut_audit_count(t, "reveal"), 0), "nothing was revealed");
	cr_assert(eq(int, pbx_device_verify_secrets(ut_ctx, t, &rows, &checked, &err), PBX_EINVALID));
	cr_assert(eq(sz, rows.n_rows, 1));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "label"), "Desk"));
	pbx_rows_free(&rows);
	/* Mobile still opens. */
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Mobile", true, &rows, &err), 0));
	pbx_device_rows_free(&rows);
}

Test(device_secret, another_key_cannot_open_and_says_so)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], other[300];

	ut_tenant(t, "otherkey", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_device(t, "alice", "Desk", NULL);
	snprintf(other, sizeof(other), "%s.other", ut_key_path);
	cr_assert(eq(int, pbx_secret_key_init(other, &err), 0));
	/* A fresh context, so the key is loaded again from the new path. */
	testenv_free(ut_ctx, &ut_cfg);
	ut_ctx = testenv_ctx(&ut_cfg);
	free(ut_cfg.key_file);
	ut_cfg.key_file = strdup(other);
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", true, &rows, &err),
		     PBX_EINVALID));
	cr_assert(not(eq(ptr, strstr(err.message, "sealed with another key"), NULL)), "%s",
		  err.message);
}

Test(device_secret, a_missing_key_writes_nothing)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32];
	long audits;

	ut_tenant(t, "nokey", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	testenv_free(ut_ctx, &ut_cfg);
	ut_ctx = testenv_ctx(&ut_cfg);
	free(ut_cfg.key_file);
	ut_cfg.key_file = strdup("/nonexistent/pbxctl.key");
	audits = ut_audit_count(t, NULL);
	cr_assert(eq(int, create(t, "alice", "Desk", &err), PBX_ENOTFOUND));
	cr_assert(not(eq(ptr, strstr(err.message, "pbxctl secrets init"), NULL)), "%s", err.message);
	cr_assert(eq(long, devices_of(t), 0));
	cr_assert(eq(long, ut_audit_count(t, NULL), audits));
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", true, &rows, &err),
		     PBX_ENOTFOUND));
	/* The partner: with the key back, the same create works. */
	free(ut_cfg.key_file);
	ut_cfg.key_file = strdup(ut_key_path);
	cr_assert(eq(int, create(t, "alice", "Desk", &err), 0), "%s", err.message);
}

Test(device_secret, rotate_gives_a_new_secret)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char t[32], old[64], fresh[64];

	ut_tenant(t, "rotate", "1000-1999");
	ut_user(t, "alice", NULL, NULL);
	ut_device(t, "alice", "Desk", old);
	cr_assert(eq(int, pbx_device_rotate_secret(ut_ctx, t, "alice", "Desk", &rows, &err), 0));
	snprintf(fresh, sizeof(fresh), "%s", pbx_rows_get(&rows, 0, "secret"));
	pbx_device_rows_free(&rows);
	cr_assert(not(eq(str, fresh, old)));
	cr_assert(ge(sz, strlen(fresh), 20));
	cr_assert(eq(int, pbx_device_show(ut_ctx, t, "alice", "Desk", true, &rows, &err), 0));
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "secret"), fresh));
	pbx_device_rows_free(&rows);
	cr_assert(eq(long, ut_audit_count(t, "rotate-secret"), 1));
}

Test(device, a_user_and_its_devices_are_created_together_or_not_at_all)
{
	struct pbx_device_spec d[3] = { PBX_DEVICE_SPEC_INIT, PBX_DEVICE_SPEC_INIT,
					PBX_DEVICE_SPEC_INIT };
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows users, devs;
	char t[32], *n;

	ut_tenant(t, "together", "1000-1999");
	u.username = "alice";
	d[0].label = "Desk Phone";
	d[1].label = "Mobile";
	d[1].codecs = "opus,ulaw";
	d[2].label = "Desk Phone";
	/* A duplicate label in the list: nothing at all is written. */
	cr_assert(eq(int, pbx_user_create_with_devices(ut_ctx, t, &u, d, 3, &users, &devs, &err),
		     PBX_ECONFLICT));
	cr_assert(eq(str, err.field, "label"));
	n = ut_sql("SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1", t, NULL);
	cr_assert(eq(str, n, "0"));
	free(n);
	cr_assert(eq(long, devices_of(t), 0));
	cr_assert(eq(long, ut_audit_count(t, NULL), 1), "the tenant's create only");
	/* The partner: without the duplicate, all three rows and their audit rows. */
	cr_assert(eq(int, pbx_user_create_with_devices(ut_ctx, t, &u, d, 2, &users, &devs, &err), 0),
		  "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&users, 0, "extension"), "1000"));
	cr_assert(eq(sz, devs.n_rows, 2));
	cr_assert(eq(str, (char *)pbx_rows_get(&devs, 1, "codecs"), "opus,ulaw"));
	cr_assert(eq(sz, strlen(pbx_rows_get(&devs, 0, "secret")), PBX_SECRET_SIP_LEN));
	cr_assert(not(eq(str, (char *)pbx_rows_get(&devs, 0, "secret"),
			 (char *)pbx_rows_get(&devs, 1, "secret"))));
	pbx_rows_free(&users);
	pbx_device_rows_free(&devs);
	cr_assert(eq(long, devices_of(t), 2));
	cr_assert(eq(long, ut_audit_count(t, "create"), 4));
}
