/* SPDX-License-Identifier: MIT */
/*
 * `pbxctl me voicemail pin` and `me voicemail greeting` as an end user, settled by a real
 * `pbxctl apply worker`: the right current PIN changes what *98 checks, a wrong one is
 * refused and rate-limited, bad PINs and bad greeting files are refused before anything is
 * filed, and the end user's login can read neither hashes nor sealed requests.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "me-itest.h"

static void setup(void)
{
	me_setup();
}

TestSuite(me, .init = setup, .fini = me_teardown, .timeout = 90);

/* ---- voicemail PIN (through the apply worker) ------------------------------------- */

static const char *pin_file(const char *text)
{
	const char *path = pt_path(&pt, "pins");

	write_text(path, text);
	return path;
}

#define ALICE_HASH "SELECT u.pin_hash FROM users u JOIN tenants t ON t.id = u.tenant_id " \
	"WHERE t.slug = $1 AND u.username = 'alice'"

/* Does the PIN verifier in AstDB (what *98 checks) open with @pin? */
static bool star98_opens(const char *pin)
{
	char *v = astdb("pin");
	bool ok = v && pbx_secret_pin_verifier_matches(v, pin);

	free(v);
	return ok;
}

/* Does PostgreSQL's argon2id hash match @pin? */
static bool hash_matches(const char *pin)
{
	char *h = sql(ALICE_HASH);
	pbx_error e = PBX_ERROR_INIT;
	bool ok = pbx_secret_pin_verify(h, pin, &e) == 0;

	free(h);
	return ok;
}

Test(me, a_pin_change_with_the_right_current_pin_takes_effect)
{
	char *out, *err, *row, want[160];

	alice();
	cr_assert(star98_opens("4821"));
	start_worker();
	cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file",
			     pin_file("4821\n5930\n")), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"status\": \"done\""), "%s", out);
	cr_assert_null(strstr(out, "5930"), "the PIN in the output: %s", out);
	free(out);
	free(err);
	cr_assert(hash_matches("5930"));
	cr_assert(not(hash_matches("4821")));
	/* The generated check: the new PIN opens *98, the old one no longer does. */
	cr_assert(star98_opens("5930"));
	cr_assert(not(star98_opens("4821")), "the previous PIN still opens the mailbox");
	row = sql("SELECT actor || '|' || source || '|' || after::text FROM audit_log "
		  "WHERE tenant = $1 ORDER BY id DESC LIMIT 1");
	snprintf(want, sizeof(want), "%s|self-service|", login);
	cr_assert(eq(int, strncmp(row, want, strlen(want)), 0), "%s", row);
	cr_assert_null(strstr(row, "5930"));
	free(row);
	/* Nothing sealed is left behind. */
	expect_sql("SELECT count(*)::text FROM pin_change_requests WHERE sealed IS NOT NULL "
		   "AND $1::text IS NOT NULL", "0");
}

Test(me, a_wrong_current_pin_is_refused_and_repeated_ones_are_rate_limited)
{
	char *out, *err, *hash;

	alice();
	hash = sql(ALICE_HASH);
	start_worker();
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file",
				     pin_file("1111\n5930\n")), 3), "%s", out);
		expect_one_line(err, "pin", "the current PIN is wrong");
		free(out);
		free(err);
	}
	/* Now even the right one is refused, by the server, before any guess is checked. */
	cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file",
			     pin_file("4821\n5930\n")), 5), "%s %s", out, err);
	expect_one_line(err, "pin", "too many wrong current PINs");
	free(out);
	free(err);
	expect_sql(ALICE_HASH, hash);
	cr_assert(star98_opens("4821"));
	cr_assert(not(star98_opens("5930")));
	free(hash);
}

Test(me, bad_pins_and_missing_input_are_refused_before_anything_is_filed)
{
	char *out, *err;

	alice();
	/* The new PIN breaks the rules: refused here, nothing reaches the queue. */
	cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file",
			     pin_file("4821\n1234\n")), 3));
	expect_one_line(err, "pin", "run like 1234");
	free(out);
	free(err);
	cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file",
			     pin_file("48x1\n5930\n")), 3));
	expect_one_line(err, "current_pin", "digits");
	free(out);
	free(err);
	/* Only one line in the file. */
	cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file", pin_file("4821\n")), 2));
	cr_assert_not_null(strstr(err, "second"), "%s", err);
	free(out);
	free(err);
	expect_sql("SELECT count(*)::text FROM pin_change_requests WHERE $1::text IS NOT NULL", "0");
	/* An admin is no end user: `me` refuses it. */
	cr_assert(eq(int, testenv_run_conf(pt.priv_conf, NULL, &out, &err, "me", "voicemail",
					   "pin", "--pin-file", pin_file("4821\n5930\n"), NULL), 6),
		  "%s", err);
	free(out);
	free(err);
}

Test(me, without_a_worker_the_change_is_queued_and_settled_when_one_runs)
{
	char *out, *err;

	alice();
	cr_assert(eq(int, me(&out, &err, "voicemail", "pin", "--pin-file",
			     pin_file("4821\n5930\n")), 0), "%s", err);
	cr_assert_not_null(strstr(out, "\"status\": \"queued\""), "%s", out);
	cr_assert_not_null(strstr(err, "is queued"), "%s", err);
	free(out);
	free(err);
	cr_assert(hash_matches("4821"));
	cr_assert(eq(int, testenv_run_conf(pt.priv_conf, NULL,
					   &out, &err, "apply", "worker", "--once", NULL), 0), "%s", err);
	free(out);
	free(err);
	cr_assert(hash_matches("5930"));
	cr_assert(star98_opens("5930"));
}

Test(me, an_end_user_cannot_read_pin_hashes_or_sealed_requests)
{
	char conninfo[1200];
	PGconn *c;
	static const char *const denied[] = {
		"SELECT pin_hash FROM users", "SELECT vm_pin_verifier_sealed FROM users",
		"SELECT sealed FROM pin_change_requests", "SELECT pcm FROM greeting_requests",
		"INSERT INTO pin_change_requests (tenant_id, user_id, sealed) SELECT tenant_id, id, "
		"'x' FROM users",
	};

	alice();
	snprintf(conninfo, sizeof(conninfo), "%s user=%s", pt.url, login);
	c = PQconnectdb(conninfo);
	cr_assert(eq(int, PQstatus(c), CONNECTION_OK), "%s", PQerrorMessage(c));
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		PGresult *res = PQexec(c, denied[i]);

		cr_assert(eq(str, PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
			     PQresultErrorField(res, PG_DIAG_SQLSTATE) : "ok", "42501"), "%s", denied[i]);
		PQclear(res);
	}
	/* A request not sealed to the published key is refused by the server function. */
	{
		PGresult *res = PQexec(c, "SELECT pbx_me_request_pin_change('4821\n5930')");

		cr_assert(eq(str, PQresultErrorField(res, PG_DIAG_SQLSTATE), "22023"));
		PQclear(res);
	}
	PQfinish(c);
}

/* ---- greeting (through the apply worker) ----------------------------------------- */

/* A 16-bit 8 kHz mono WAV of @seconds of silence and a beep, written by hand. */
static const char *wav_file(const char *name, double seconds)
{
	const char *path = pt_path(&pt, name);
	unsigned n = (unsigned)(seconds * 8000), bytes = n * 2;
	FILE *f = fopen(path, "wb");
	unsigned char h[44] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0"
			      "\x02\0\x10\0data";

	cr_assert_not_null(f);
	h[4] = (unsigned char)(36 + bytes);
	h[5] = (unsigned char)((36 + bytes) >> 8);
	h[6] = (unsigned char)((36 + bytes) >> 16);
	h[40] = (unsigned char)bytes;
	h[41] = (unsigned char)(bytes >> 8);
	h[42] = (unsigned char)(bytes >> 16);
	h[43] = 0;
	fwrite(h, 1, 44, f);
	for (unsigned i = 0; i < n; i++) {
		short v = (short)((i / 8) % 2 ? 8000 : -8000);

		fputc(v & 0xff, f);
		fputc((v >> 8) & 0xff, f);
	}
	fclose(f);
	return path;
}

static const char *box(void)
{
	static char path[400];

	snprintf(path, sizeof(path), "%s/%s/1000/unavail.wav", cfg.voicemail_spool, slug);
	return path;
}

Test(me, a_greeting_is_written_by_the_worker_and_can_be_deleted)
{
	char *out, *err, *row, want[160];
	struct stat st;

	alice();
	start_worker();
	cr_assert(eq(int, me(&out, &err, "voicemail", "greeting", wav_file("hi.wav", 2.0), NULL),
		     0), "%s", err);
	cr_assert_not_null(strstr(out, "\"status\": \"done\""), "%s", out);
	free(out);
	free(err);
	cr_assert(eq(int, stat(box(), &st), 0), "no greeting at %s", box());
	cr_assert(eq(i64, (long long)st.st_size, 44 + 2 * 16000LL));
	row = sql("SELECT actor || '|' || action FROM audit_log WHERE tenant = $1 "
		  "ORDER BY id DESC LIMIT 1");
	snprintf(want, sizeof(want), "%s|greeting", login);
	cr_assert(eq(str, row, want));
	free(row);
	expect_sql("SELECT count(*)::text FROM greeting_requests WHERE pcm IS NOT NULL "
		   "AND $1::text IS NOT NULL", "0");
	cr_assert(eq(int, me(&out, &err, "voicemail", "greeting", "--delete", NULL), 0), "%s", err);
	free(out);
	free(err);
	cr_assert(ne(int, stat(box(), &st), 0), "the greeting is still there");
}

Test(me, bad_greeting_files_are_refused_and_nothing_is_filed)
{
	char *out, *err;
	static const char *const words[] = { "neither WAV nor MP3", "at most 5242880",
					     "cannot open", "longer than 5 minutes" };
	char *files[4];

	alice();
	write_text(pt_path(&pt, "notes.wav"), "this is not audio, whatever its name says\n");
	files[0] = strdup(pt_path(&pt, "notes.wav"));
	{
		FILE *f = fopen(pt_path(&pt, "big.wav"), "w");

		cr_assert_not_null(f);
		cr_assert(eq(int, ftruncate(fileno(f), 6 * 1024 * 1024), 0));
		fclose(f);
	}
	files[1] = strdup(pt_path(&pt, "big.wav"));
	files[2] = strdup(pt_path(&pt, "missing.wav"));
	files[3] = strdup(wav_file("long.wav", 301.0));
	for (size_t i = 0; i < 4; i++) {
		/* A missing file is "not found" (4), as for `user greeting set`. */
		cr_assert(eq(int, me(&out, &err, "voicemail", "greeting", files[i], NULL),
			     i == 2 ? 4 : 3),
			  "%s accepted: %s", files[i], out);
		expect_one_line(err, "file", words[i]);
		free(out);
		free(err);
	}
	/* Neither a FILE and --delete, nor nothing at all. */
	cr_assert(eq(int, me(&out, &err, "voicemail", "greeting", files[0], "--delete"), 2));
	free(out);
	free(err);
	cr_assert(eq(int, me(&out, &err, "voicemail", "greeting", NULL, NULL), 2));
	free(out);
	free(err);
	expect_sql("SELECT count(*)::text FROM greeting_requests WHERE $1::text IS NOT NULL", "0");
	for (size_t i = 0; i < 4; i++)
		free(files[i]);
}
