/* SPDX-License-Identifier: MIT */
/*
 * Self-service state end to end: PostgreSQL (the record), the AMI peer's AstDB (what calls
 * read), the UserEvent a phone's feature code raises (the recorded one), and the
 * reconciliation apply runs. Every change must be live without a Reload (the peer's action
 * log counts them), a failed AstDB write must be reported and repaired, and a phone's change
 * must reach PostgreSQL and the audit log with the user as actor and the device as source.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/apply.h"
#include "pbx/db.h"
#include "pbx/greeting.h"
#include "pbx/operator.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "peerproc.h"
#include "testenv.h"
#include "user-test.h"

static struct peerproc peer;
static struct pbx_config cfg;
static pbx_ctx *ctx;
static char slug[32], fam[64];

static void setup(void)
{
	struct pbx_tenant_spec spec = { .extensions = "1000-1999", .name = "Self Co" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char path[600];

	peer_start(&peer, NULL, NULL);
	ctx = testenv_ctx(&cfg);
	snprintf(path, sizeof(path), "%s/key", peer.dir);
	free(cfg.key_file);
	cfg.key_file = strdup(path);
	free(cfg.config_dir);
	cfg.config_dir = strdup(peer.dialplan);
	snprintf(path, sizeof(path), "%s/vm", peer.dir);
	free(cfg.voicemail_dir);
	cfg.voicemail_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/spool", peer.dir);
	mkdir(path, 0755);
	free(cfg.voicemail_spool);
	cfg.voicemail_spool = strdup(path);
	snprintf(path, sizeof(path), "%s/backup", peer.dir);
	free(cfg.backup_dir);
	cfg.backup_dir = strdup(path);
	free(cfg.ami_username);
	cfg.ami_username = strdup("pbxctl");
	free(cfg.ami_secret);
	cfg.ami_secret = strdup("secret");
	cfg.ami_port = peer.port;
	cfg.ami_timeout_ms = 2000;
	cr_assert(eq(int, pbx_secret_key_init(cfg.key_file, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_db_migrate_realtime(ctx, &err), 0), "%s", err.message);
	snprintf(slug, sizeof(slug), "%s", testenv_slug("ss"));
	spec.slug = slug;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	snprintf(fam, sizeof(fam), "pbxctl/%s/1000", slug);
}

static void teardown(void)
{
	testenv_free(ctx, &cfg);
	peer_stop(&peer);
}

TestSuite(selfservice, .init = setup, .fini = teardown, .timeout = 60);

static void add_user(const char *name, const char *ext)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	u.username = name;
	u.extension = ext;
	u.voicemail = 1;
	cr_assert(eq(int, pbx_user_create(ctx, slug, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
}

static int update(const char *user, int dnd, const char *fwd, const char *pin, pbx_error *err)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	bool changed;
	int r;

	u.dnd = dnd;
	u.forward_to = fwd;
	u.pin = pin;
	r = pbx_user_update(ctx, slug, user, &u, &rows, &changed, err);
	if (r == 0)
		pbx_rows_free(&rows);
	return r;
}

/* A second AMI session, as Asterisk's own dialplan or an onlooker would see AstDB. */
static char *astdb(const char *family, const char *key)
{
	struct pbx_ami_config c = peer_config(&peer, 2000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;
	char *v = NULL;

	cr_assert(eq(int, pbx_ami_connect(&c, &ami, &err), 0), "%s", err.message);
	if (pbx_ami_db_get(ami, family, key, &v, &err) < 0)
		v = NULL;
	pbx_ami_close(ami);
	return v;
}

static void astdb_put(const char *family, const char *key, const char *value)
{
	struct pbx_ami_config c = peer_config(&peer, 2000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	cr_assert(eq(int, pbx_ami_connect(&c, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_db_put(ami, family, key, value, &err), 0), "%s", err.message);
	pbx_ami_close(ami);
}

/* The first column of the first row of @query ($1 = the test's tenant) equals @want. */
static void expect_sql(const char *query, const char *want)
{
	char *v = ut_sql(query, slug, NULL);

	cr_assert(eq(str, v, (char *)want), "%s", query);
	free(v);
}

static void expect_astdb(const char *key, const char *want)
{
	char *v = astdb(fam, key);

	if (!want)
		cr_assert_null(v, "%s/%s is still %s", fam, key, v);
	else
		cr_assert(eq(str, v ? v : "(absent)", (char *)want), "%s/%s", fam, key);
	free(v);
}

Test(selfservice, dnd_and_forward_are_live_without_a_reload)
{
	pbx_error err = PBX_ERROR_INIT;

	add_user("alice", "1000");
	add_user("bob", "1001");
	cr_assert(eq(int, update("alice", 1, NULL, NULL, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	expect_astdb("dnd", "1");
	expect_astdb("forward", NULL);
	cr_assert(eq(int, update("alice", 0, "1001", NULL, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	expect_astdb("dnd", "0");
	expect_astdb("forward", "1001");
	cr_assert(eq(int, update("alice", PBX_UNSET, "", NULL, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	expect_astdb("forward", NULL);
	/* PostgreSQL was written first and knows AstDB has it. */
	expect_sql("SELECT u.astdb_pending::text FROM users u JOIN tenants t ON "
			      "t.id = u.tenant_id WHERE t.slug = $1 AND u.username = 'alice'", "false");
	cr_assert(eq(int, peer_count(&peer, "Reload"), 0), "a self-service change sent a Reload");
	cr_assert(ge(int, peer_count(&peer, "DBPut"), 4));
}

Test(selfservice, a_bad_forward_is_refused_and_changes_nothing)
{
	pbx_error err = PBX_ERROR_INIT;

	add_user("alice", "1000");
	cr_assert(eq(int, update("alice", PBX_UNSET, "3000", NULL, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "forward_to"));
	cr_assert_not_null(strstr(err.message, "forward destination 3000 is outside"), "%s",
			   err.message);
	/* A number needs a policy that allows it; this tenant has none. */
	err = (pbx_error)PBX_ERROR_INIT;
	cr_assert(eq(int, update("alice", PBX_UNSET, "004930123456", NULL, &err), PBX_EINVALID));
	cr_assert_not_null(strstr(err.message, "no outbound policy applies to alice"), "%s",
			   err.message);
	err = (pbx_error)PBX_ERROR_INIT;
	cr_assert(eq(int, update("alice", PBX_UNSET, "12;34", NULL, &err), PBX_EINVALID));
	expect_sql("SELECT coalesce(u.forward_to, 'none') FROM users u JOIN tenants t "
			      "ON t.id = u.tenant_id WHERE t.slug = $1", "none");
	expect_astdb("forward", NULL);
}

Test(selfservice, a_failed_dbput_is_reported_and_the_next_apply_repairs_it)
{
	struct pbx_apply_opts o = { .tenant = slug };
	struct pbx_apply_result res;
	pbx_error err = PBX_ERROR_INIT;

	add_user("alice", "1000");
	peer_control(&peer, "db-error\n");
	cr_assert(eq(int, update("alice", 1, NULL, NULL, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), PBX_EUNAVAILABLE));
	cr_assert_not_null(strstr(err.message, "saved, but Asterisk's AstDB did not take it"), "%s",
			   err.message);
	cr_assert_not_null(strstr(err.message, "Failed to update entry"), "%s", err.message);
	/* Retried before it was reported. */
	cr_assert(eq(int, peer_count(&peer, "DBPut"), PBX_SELFSERVICE_ATTEMPTS));
	expect_sql("SELECT u.dnd::text || ' ' || u.astdb_pending::text FROM users u "
			      "JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1", "true true");
	expect_astdb("dnd", NULL);
	peer_control(&peer, "");
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &err), 0), "%s", err.message);
	pbx_apply_result_free(&res);
	expect_astdb("dnd", "1");
	expect_sql("SELECT u.astdb_pending::text FROM users u JOIN tenants t ON "
			      "t.id = u.tenant_id WHERE t.slug = $1", "false");
}

/* The UserEvent of the recording userevent-from-dialplan, for this test's tenant. */
static struct pbx_ami_msg recorded_event(void)
{
	return peer_recorded_event("userevent-from-dialplan.recv", slug);
}

Test(selfservice, the_recorded_phone_event_reaches_postgresql_and_the_audit_log)
{
	struct pbx_ami_msg ev = recorded_event();
	pbx_error err = PBX_ERROR_INIT;
	bool changed = false;
	char *row;

	add_user("alice", "1000");
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&ev, "Extension"), "1000"));
	cr_assert(eq(str, (char *)pbx_ami_msg_get(&ev, "Channel"), "PJSIP/t1-00000057"));
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	/* What the dialplan did before raising the event: Set(DB(.../dnd)=1). */
	astdb_put(fam, "dnd", "1");
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &err), 0), "%s", err.message);
	cr_assert(changed);
	expect_sql("SELECT u.dnd::text || ' ' || u.astdb_pending::text FROM users u "
			      "JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1", "true false");
	row = ut_sql("SELECT actor || '|' || source || '|' || (before->>'dnd') || '|' || "
		     "(after->>'dnd') || '|' || (after->>'pin' IS NULL)::text FROM audit_log "
		     "WHERE tenant = $1 ORDER BY id DESC LIMIT 1", slug, NULL);
	{
		char want[128];

		snprintf(want, sizeof(want), "%s/alice|phone t1|false|true|true", slug);
		cr_assert(eq(str, row, want));
	}
	free(row);
	/* The same event again changes nothing: AstDB and PostgreSQL agree. */
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &err), 0), "%s", err.message);
	cr_assert(not(changed));
	cr_assert(eq(int, peer_count(&peer, "Reload"), 0));
	peer_event_free(&ev);
}

Test(selfservice, a_phone_value_that_fails_validation_is_overwritten_not_taken)
{
	struct pbx_ami_msg ev = recorded_event();
	pbx_error err = PBX_ERROR_INIT;
	bool changed = true;

	add_user("alice", "1000");
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	/* Outside the tenant's range: the shell would refuse it, so the phone may not set it. */
	astdb_put(fam, "forward", "3000");
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &err), 0), "%s", err.message);
	cr_assert(not(changed));
	expect_sql("SELECT coalesce(u.forward_to, 'none') FROM users u JOIN tenants t "
			      "ON t.id = u.tenant_id WHERE t.slug = $1", "none");
	expect_astdb("forward", NULL);
	peer_event_free(&ev);
}

Test(selfservice, an_event_for_another_tenant_or_no_user_is_refused)
{
	struct pbx_ami_msg ev = recorded_event();
	pbx_error err = PBX_ERROR_INIT;
	bool changed = true;

	/* No user 1000 in this tenant yet. */
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &err), PBX_ENOTFOUND));
	cr_assert(not(changed));
	for (size_t i = 0; i < ev.n_headers; i++)
		if (!strcmp(ev.headers[i].key, "Tenant")) {
			free(ev.headers[i].value);
			ev.headers[i].value = strdup("acme/../x");
		}
	cr_assert(eq(int, pbx_selfservice_event(ctx, &ev, &changed, &err), PBX_EINVALID));
	peer_event_free(&ev);
}

Test(selfservice, apply_takes_a_phone_change_whose_event_was_lost_and_removes_stale_keys)
{
	struct pbx_selfservice_report rep;
	pbx_error err = PBX_ERROR_INIT;
	char stale[64], want[128], *row;

	add_user("alice", "1000");
	add_user("bob", "1001");
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, slug, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rep.pushed, 2));
	astdb_put(fam, "forward", "1001");
	snprintf(stale, sizeof(stale), "pbxctl/%s/1500", slug);
	astdb_put(stale, "dnd", "1");
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, slug, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rep.taken, 1));
	cr_assert(eq(sz, rep.removed, 1));
	cr_assert(eq(sz, rep.pushed, 0));
	expect_sql("SELECT u.forward_to FROM users u JOIN tenants t ON t.id = u.tenant_id "
			      "WHERE t.slug = $1 AND u.username = 'alice'", "1001");
	row = ut_sql("SELECT actor || '|' || source FROM audit_log WHERE tenant = $1 "
		     "ORDER BY id DESC LIMIT 1", slug, NULL);
	snprintf(want, sizeof(want), "%s/alice|astdb", slug);
	cr_assert(eq(str, row, want));
	free(row);
	{
		char *v = astdb(stale, "dnd");

		cr_assert_null(v, "stale key kept: %s", v);
	}
}

Test(selfservice, the_pin_verifier_opens_with_the_current_pin_only)
{
	pbx_error err = PBX_ERROR_INIT;
	char *v, *sealed;

	add_user("alice", "1000");
	cr_assert(eq(int, update("alice", PBX_UNSET, NULL, "4821", &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	v = astdb(fam, "pin");
	cr_assert_not_null(v);
	cr_assert(eq(sz, strlen(v), 72));
	cr_assert(pbx_secret_pin_verifier_matches(v, "4821"));
	cr_assert_null(strstr(v, "4821"));
	free(v);
	cr_assert(eq(int, update("alice", PBX_UNSET, NULL, "5930", &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	v = astdb(fam, "pin");
	cr_assert(pbx_secret_pin_verifier_matches(v, "5930"));
	cr_assert(not(pbx_secret_pin_verifier_matches(v, "4821")), "the previous PIN still opens");
	/*
	 * What an attacker who reads AstDB learns: trying all 10^4 four-digit PINs against the
	 * verifier finds the PIN at once (pbxctl-user(1) says so). PostgreSQL holds the
	 * verifier only sealed, beside the argon2id hash.
	 */
	{
		char guess[8], found[8] = "";

		for (int i = 0; i < 10000 && !found[0]; i++) {
			snprintf(guess, sizeof(guess), "%04d", i);
			if (pbx_secret_pin_verifier_matches(v, guess))
				snprintf(found, sizeof(found), "%s", guess);
		}
		cr_assert(eq(str, found, "5930"));
	}
	sealed = ut_sql("SELECT u.vm_pin_verifier_sealed || ' ' || u.pin_hash FROM users u "
			"JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1", slug, NULL);
	cr_assert_null(strstr(sealed, v + 32), "the verifier is in PostgreSQL in the open");
	cr_assert_not_null(strstr(sealed, "$argon2id$"));
	free(sealed);
	free(v);
	/* A PIN cleared in PostgreSQL leaves no verifier in AstDB. */
	cr_assert(eq(int, update("alice", PBX_UNSET, NULL, "", &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
	expect_astdb("pin", NULL);
	cr_assert(eq(int, peer_count(&peer, "Reload"), 0));
}

/* ---- greetings: audio files made here, in each kind the upload must handle ---- */

/* A sine tone of @seconds at @rate with @channels in @format; returns the path. */
static const char *make_audio(const char *name, int format, int rate, int channels,
			      double seconds)
{
	static char path[600];
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	SNDFILE *sf;
	size_t frames = (size_t)(seconds * rate);
	float *buf = calloc(frames * (size_t)channels, sizeof(*buf));

	snprintf(path, sizeof(path), "%s/%s", peer.dir, name);
	cr_assert_not_null(buf);
	for (size_t i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			buf[i * (size_t)channels + (size_t)c] = 0.5f * sinf(2 * 3.14159265f * 440 * (float)i / (float)rate);
	sf = sf_open(path, SFM_WRITE, &info);
	cr_assert_not_null(sf, "%s: %s", name, sf_strerror(NULL));
	cr_assert(eq(sz, (size_t)sf_writef_float(sf, buf, (sf_count_t)frames), frames));
	sf_close(sf);
	free(buf);
	return path;
}

static void box_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/spool/%s/1000/unavail.wav", peer.dir, slug);
}

static void expect_stored(double seconds)
{
	char path[700];
	SF_INFO info = { .format = 0 };
	SNDFILE *sf;

	box_path(path, sizeof(path));
	sf = sf_open(path, SFM_READ, &info);
	cr_assert_not_null(sf, "%s", path);
	cr_assert(eq(int, info.samplerate, 8000));
	cr_assert(eq(int, info.channels, 1));
	cr_assert(eq(int, info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
	cr_assert(le(dbl, fabs((double)info.frames / 8000 - seconds), 0.2), "%lld frames",
		  (long long)info.frames);
	sf_close(sf);
}

Test(selfservice, a_wav_or_mp3_greeting_is_stored_as_8khz_mono_wav)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	bool changed = false;

	add_user("alice", "1000");
	cr_assert(eq(int, pbx_greeting_set(ctx, slug, "alice",
					   make_audio("hello.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16,
						      44100, 2, 2.0), &rows, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "present"), "true"));
	pbx_rows_free(&rows);
	expect_stored(2.0);
	/* An MP3 under a name that says nothing: judged by content. */
	cr_assert(eq(int, pbx_greeting_set(ctx, slug, "alice",
					   make_audio("hello.bin", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III,
						      48000, 1, 3.0), &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	expect_stored(3.0);
	expect_sql("SELECT count(*)::text FROM audit_log WHERE tenant = $1 AND action = 'greeting'",
		   "2");
	cr_assert(eq(int, pbx_greeting_delete(ctx, slug, "alice", &rows, &changed, &err), 0));
	cr_assert(changed);
	cr_assert(eq(str, (char *)pbx_rows_get(&rows, 0, "present"), "false"));
	pbx_rows_free(&rows);
}

/* Each bad kind of file: refused with field "file", and the box keeps what it had. */
Test(selfservice, bad_greeting_files_are_refused_and_nothing_is_written)
{
	char path[700], junk[600];
	struct pbx_rows rows;
	struct stat before, after;
	FILE *f;

	add_user("alice", "1000");
	{
		pbx_error err = PBX_ERROR_INIT;

		cr_assert(eq(int, pbx_greeting_set(ctx, slug, "alice",
						   make_audio("ok.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16,
							      8000, 1, 1.0), &rows, &err), 0), "%s", err.message);
		pbx_rows_free(&rows);
	}
	box_path(path, sizeof(path));
	cr_assert(eq(int, stat(path, &before), 0));
	/* not audio */
	snprintf(junk, sizeof(junk), "%s/notes.wav", peer.dir);
	f = fopen(junk, "w");
	fputs("this is not audio at all, whatever its name says\n", f);
	fclose(f);
	/* corrupt: a WAV header whose format chunk is garbage */
	{
		const char *ok = make_audio("corrupt.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0);
		FILE *c = fopen(ok, "r+");

		fseek(c, 20, SEEK_SET);
		fwrite("\xff\xff\x00\x00\xff\xff\xff\xff", 1, 8, c);
		fclose(c);
	}
	/* oversized: 6 MB of 16-bit PCM (about 6.5 minutes at 8 kHz) */
	make_audio("big.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 393.0);
	/* too long but small: 8-bit 8 kHz mono, 301 seconds, 2.4 MB */
	make_audio("long.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, 301.0);
	{
		static const struct { const char *file, *words; } bad[] = {
			{ "notes.wav", "neither WAV nor MP3" },
			{ "corrupt.wav", "cannot be read as audio" },
			{ "big.wav", "at most 5242880 (5 MB)" },
			{ "long.wav", "longer than 5 minutes" },
			{ "missing.wav", "cannot open" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			pbx_error err = PBX_ERROR_INIT;
			char in[600];

			snprintf(in, sizeof(in), "%s/%s", peer.dir, bad[i].file);
			cr_assert(lt(int, pbx_greeting_set(ctx, slug, "alice", in, &rows, &err), 0),
				  "%s accepted", bad[i].file);
			cr_assert(eq(str, err.field, "file"), "%s", bad[i].file);
			cr_assert_not_null(strstr(err.message, bad[i].words), "%s: %s", bad[i].file,
					   err.message);
			cr_assert(eq(str, err.object, "user alice"));
		}
	}
	cr_assert(eq(int, stat(path, &after), 0));
	cr_assert(eq(i64, (long long)after.st_mtime, (long long)before.st_mtime));
	cr_assert(eq(i64, (long long)after.st_size, (long long)before.st_size));
	expect_sql("SELECT count(*)::text FROM audit_log WHERE tenant = $1 AND action = 'greeting'",
		   "1");
	{
		pbx_error err = PBX_ERROR_INIT;
		struct pbx_user_spec u = PBX_USER_SPEC_INIT;
		bool changed;

		/* A user without voicemail has no box to greet from. */
		u.voicemail = 0;
		cr_assert(eq(int, pbx_user_update(ctx, slug, "alice", &u, &rows, &changed, &err), 0));
		pbx_rows_free(&rows);
		cr_assert(eq(int, pbx_greeting_set(ctx, slug, "alice", junk, &rows, &err), PBX_ECONFLICT));
	}
}

/* The shell: `user update --dnd` is live at once; a failed AstDB write is a warning. */
Test(selfservice, cli_update_is_live_and_a_failed_write_is_a_warning)
{
	char port[16], spool[600], *out, *err;

	add_user("alice", "1000");
	snprintf(port, sizeof(port), "%d", peer.port);
	snprintf(spool, sizeof(spool), "%s/spool", peer.dir);
	setenv("PBXCTL_AMI_PORT", port, 1);
	setenv("PBXCTL_AMI_USERNAME", "pbxctl", 1);
	setenv("PBXCTL_AMI_SECRET", "secret", 1);
	setenv("PBXCTL_ASTERISK_VOICEMAIL_SPOOL", spool, 1);
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "-t", slug, "user", "update",
				      "alice", "--dnd", NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"dnd\": true"), "%s", out);
	free(out);
	free(err);
	expect_astdb("dnd", "1");
	peer_control(&peer, "db-error\n");
	cr_assert(eq(int, testenv_run(&out, &err, "-t", slug, "user", "update", "alice",
				      "--no-dnd", NULL), 0), "%s", err);
	cr_assert_not_null(strstr(err, "saved, but Asterisk's AstDB did not take it"), "%s", err);
	free(out);
	free(err);
	expect_astdb("dnd", "1");
	expect_sql("SELECT u.astdb_pending::text FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1", "true");
	peer_control(&peer, "");
	/* Greeting verbs: a bad file is exit 3 naming the field; show in json. */
	cr_assert(eq(int, testenv_run(&out, &err, "-t", slug, "user", "greeting", "set", "alice",
				      "/etc/hostname", NULL), 3));
	cr_assert_not_null(strstr(err, "user alice"), "%s", err);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-o", "json", "-t", slug, "user", "greeting",
				      "show", "alice", NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"present\": false"), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, testenv_run(&out, &err, "-t", slug, "user", "greeting", "play", "alice",
				      NULL), 2));
	free(out);
	free(err);
	unsetenv("PBXCTL_AMI_PORT");
	unsetenv("PBXCTL_AMI_USERNAME");
	unsetenv("PBXCTL_AMI_SECRET");
	unsetenv("PBXCTL_ASTERISK_VOICEMAIL_SPOOL");
}

/*
 * `pbxctl me` as a real end_user login with the AMI peer configured: PostgreSQL takes the
 * change at once; the login cannot read the sealed PIN verifier the AstDB write needs, so
 * nothing reaches AstDB yet, the user is told so, and the next apply writes it.
 */
Test(selfservice, me_dnd_of_an_end_user_is_pending_until_the_next_apply)
{
	struct pbx_operator_spec op = { .role = "end_user", .tenant = slug, .user = "alice",
					.create_login = true };
	struct pbx_apply_opts o = { .tenant = slug };
	struct pbx_apply_result res;
	pbx_error e = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char login[40], port[16], *out, *err;

	add_user("alice", "1000");
	snprintf(login, sizeof(login), "ss_eu_%d", (int)getpid());
	op.login = login;
	cr_assert(eq(int, pbx_operator_add(ctx, &op, &rows, &e), 0), "%s", e.message);
	pbx_rows_free(&rows);
	snprintf(port, sizeof(port), "%d", peer.port);
	setenv("PBXCTL_AMI_PORT", port, 1);
	setenv("PBXCTL_AMI_USERNAME", "pbxctl", 1);
	setenv("PBXCTL_AMI_SECRET", "secret", 1);
	cr_assert(eq(int, testenv_run_as(login, &out, &err, "-o", "json", "me", "dnd", "on",
					 NULL), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"dnd\": true"), "%s", out);
	cr_assert_not_null(strstr(err, "after the next `pbxctl apply`"), "%s", err);
	free(out);
	free(err);
	unsetenv("PBXCTL_AMI_PORT");
	unsetenv("PBXCTL_AMI_USERNAME");
	unsetenv("PBXCTL_AMI_SECRET");
	expect_sql("SELECT u.dnd::text || ' ' || u.astdb_pending::text FROM users u "
		   "JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1", "true true");
	cr_assert(eq(int, peer_count(&peer, "DBPut"), 0));
	expect_astdb("dnd", NULL);
	cr_assert(eq(int, pbx_apply(ctx, &o, &res, &e), 0), "%s", e.message);
	pbx_apply_result_free(&res);
	expect_astdb("dnd", "1");
	expect_sql("SELECT u.astdb_pending::text FROM users u JOIN tenants t ON "
		   "t.id = u.tenant_id WHERE t.slug = $1", "false");
}

/* A tenant of its own with @n users from extension 1000 up, every third one on DND. */
static void tenant_with_users(char t[32], const char *prefix, int n)
{
	struct pbx_tenant_spec spec = { .extensions = "1000-1999", .name = "Batch Co" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	snprintf(t, 32, "%s", testenv_slug(prefix));
	spec.slug = t;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	for (int i = 0; i < n; i++) {
		struct pbx_user_spec u = PBX_USER_SPEC_INIT;
		char name[16], ext[16];

		snprintf(name, sizeof(name), "u%d", i);
		snprintf(ext, sizeof(ext), "%d", 1000 + i);
		u.username = name;
		u.extension = ext;
		u.dnd = i % 3 == 0;
		cr_assert(eq(int, pbx_user_create(ctx, t, &u, &rows, &err), 0), "%s", err.message);
		pbx_rows_free(&rows);
	}
}

/* Every active user of tenant @t has AstDB's dnd key as PostgreSQL has it, and no user of
 * it is pending. */
static void expect_tenant_in_sync(const char *t, size_t users)
{
	struct pbx_ami_config c = peer_config(&peer, 2000);
	struct pbx_ami_db_entry *e = NULL;
	pbx_error err = PBX_ERROR_INIT;
	char family[64], *v;
	size_t n = 0, dnd = 0, on = 0;
	pbx_ami *ami;

	snprintf(family, sizeof(family), "pbxctl/%s", t);
	cr_assert(eq(int, pbx_ami_connect(&c, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_db_gettree(ami, family, &e, &n, &err), 0), "%s", err.message);
	pbx_ami_close(ami);
	for (size_t i = 0; i < n; i++) {
		int ext;
		char key[8];

		if (sscanf(e[i].key + strlen(family) + 2, "%d/%7s", &ext, key) != 2 ||
		    strcmp(key, "dnd"))
			continue;
		dnd++;
		on += !strcmp(e[i].value, "1");
		cr_assert(eq(str, e[i].value, (ext - 1000) % 3 == 0 ? "1" : "0"), "%s", e[i].key);
	}
	pbx_ami_db_entries_free(e, n);
	cr_assert(eq(sz, dnd, users));
	cr_assert(eq(sz, on, (users + 2) / 3));
	v = ut_sql("SELECT count(*)::text FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1 AND u.astdb_pending", t, NULL);
	cr_assert(eq(str, v, "0"));
	free(v);
}

Test(selfservice, reconcile_writes_hundreds_of_pending_users_and_only_keys_that_differ)
{
	struct pbx_selfservice_report rep;
	pbx_error err = PBX_ERROR_INIT;
	char a[32], b[32];
	int puts;

	tenant_with_users(a, "ssa", 150);
	tenant_with_users(b, "ssb", 150);
	puts = peer_count(&peer, "DBPut");
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, a, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rep.pushed, 150));
	cr_assert(eq(sz, rep.failed, 0));
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, b, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rep.pushed, 150));
	expect_tenant_in_sync(a, 150);
	expect_tenant_in_sync(b, 150);
	/* One dnd key per user; no forward or PIN to write, and none deleted. */
	cr_assert(eq(int, peer_count(&peer, "DBPut") - puts, 300));
	cr_assert(eq(int, peer_count(&peer, "DBDel"), 0));
	/* Marked pending again with AstDB already right: nothing written, the marks cleared. */
	free(ut_sql("UPDATE users u SET astdb_pending = true FROM tenants t WHERE "
		    "t.id = u.tenant_id AND t.slug = $1 RETURNING 1", a, NULL));
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, a, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "DBPut") - puts, 300));
	expect_tenant_in_sync(a, 150);
}

/* Every tenant reconciled at once reads AstDB once (Asterisk scans its whole table for each
 * DBGetTree), and each tenant still sees only its own keys: a tenant whose slug begins with
 * another's keeps its keys, and a stale key is removed from its own tenant only. */
Test(selfservice, a_reconcile_of_every_tenant_reads_astdb_once_and_keeps_tenants_apart)
{
	struct pbx_tenant_spec spec = { .extensions = "1000-1999", .name = "Prefix Co" };
	struct pbx_selfservice_report rep;
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	char a[32], b[40], fa[64], fb[64], *v;
	int trees;

	tenant_with_users(a, "ssw", 4);
	/* b's slug is a's and more: its keys sort next to a's */
	snprintf(b, sizeof(b), "%.20s-x", a);
	spec.slug = b;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	{
		struct pbx_user_spec u = PBX_USER_SPEC_INIT;

		u.username = "u0";
		u.extension = "1000";
		u.dnd = true;
		cr_assert(eq(int, pbx_user_create(ctx, b, &u, &rows, &err), 0), "%s", err.message);
		pbx_rows_free(&rows);
	}
	snprintf(fa, sizeof(fa), "pbxctl/%s/1998", a);
	snprintf(fb, sizeof(fb), "pbxctl/%s/1999", b);
	astdb_put(fa, "dnd", "0");
	astdb_put(fb, "dnd", "0");
	trees = peer_count(&peer, "DBGetTree");
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, NULL, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "DBGetTree") - trees, 1), "one read for all tenants");
	cr_assert(ge(sz, rep.pushed, 5));
	cr_assert(ge(sz, rep.removed, 2));
	expect_tenant_in_sync(a, 4);
	v = astdb(fa, "dnd");
	cr_assert_null(v, "a's stale key was kept: %s", v);
	v = astdb(fb, "dnd");
	cr_assert_null(v, "b's stale key was kept: %s", v);
	snprintf(fb, sizeof(fb), "pbxctl/%s/1000", b);
	v = astdb(fb, "dnd");
	cr_assert(eq(str, v ? v : "(none)", "1"), "b's own user");
	free(v);
	/* One tenant alone reads only its own tree. */
	trees = peer_count(&peer, "DBGetTree");
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, b, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "DBGetTree") - trees, 1));
	cr_assert(eq(sz, rep.removed, 0));
}

Test(selfservice, one_refused_write_leaves_only_its_user_pending)
{
	struct pbx_selfservice_report rep;
	pbx_error err = PBX_ERROR_INIT;
	char t[32], control[96], *v;

	tenant_with_users(t, "ssf", 3);
	snprintf(control, sizeof(control), "db-error pbxctl/%s/1001\n", t);
	peer_control(&peer, control);
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, t, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rep.pushed, 2));
	cr_assert(eq(sz, rep.failed, 1));
	v = ut_sql("SELECT string_agg(u.username, ',' ORDER BY u.username) FROM users u "
		   "JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1 AND u.astdb_pending",
		   t, NULL);
	cr_assert(eq(str, v, "u1"));
	free(v);
	peer_control(&peer, "");
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, t, &rep, &err), 0), "%s", err.message);
	cr_assert(eq(sz, rep.pushed, 1));
	expect_tenant_in_sync(t, 3);
}

struct reconcile_run {
	const char *tenant;
	struct pbx_selfservice_report rep;
	int r;
	pbx_error err;
};

static void *reconcile_thread(void *arg)
{
	struct reconcile_run *run = arg;

	run->r = pbx_selfservice_reconcile(ctx, run->tenant, &run->rep, &run->err);
	return NULL;
}

Test(selfservice, a_user_changed_while_its_keys_are_written_stays_pending)
{
	struct reconcile_run run = { .err = PBX_ERROR_INIT };
	struct pbx_selfservice_report rep;
	pbx_error err = PBX_ERROR_INIT;
	char t[32], fam1[64], *v;
	pthread_t th;

	tenant_with_users(t, "ssr", 2);
	run.tenant = t;
	/* The DBPuts are answered a second late; meanwhile u1 is changed in PostgreSQL. */
	peer_control(&peer, "slow DBPut:1000\n");
	cr_assert(eq(int, pthread_create(&th, NULL, reconcile_thread, &run), 0));
	usleep(400 * 1000);
	free(ut_sql("UPDATE users u SET dnd = true FROM tenants t WHERE t.id = u.tenant_id AND "
		    "t.slug = $1 AND u.username = 'u1' RETURNING 1", t, NULL));
	pthread_join(th, NULL);
	peer_control(&peer, "");
	cr_assert(eq(int, run.r, 0), "%s", run.err.message);
	cr_assert(eq(sz, run.rep.pushed, 2));
	v = ut_sql("SELECT string_agg(u.username || '=' || u.astdb_pending::text, ',' ORDER BY "
		   "u.username) FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1", t, NULL);
	cr_assert(eq(str, v, "u0=false,u1=true"));
	free(v);
	snprintf(fam1, sizeof(fam1), "pbxctl/%s/1001", t);
	v = astdb(fam1, "dnd");
	cr_assert(eq(str, v ? v : "(absent)", "0"), "the write read before the change");
	free(v);
	/* The next reconcile writes the change. */
	cr_assert(eq(int, pbx_selfservice_reconcile(ctx, t, &rep, &err), 0), "%s", err.message);
	v = astdb(fam1, "dnd");
	cr_assert(eq(str, v ? v : "(absent)", "1"));
	free(v);
	v = ut_sql("SELECT count(*)::text FROM users u JOIN tenants t ON t.id = u.tenant_id "
		   "WHERE t.slug = $1 AND u.astdb_pending", t, NULL);
	cr_assert(eq(str, v, "0"));
	free(v);
}
