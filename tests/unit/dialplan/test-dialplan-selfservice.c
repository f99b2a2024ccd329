/* SPDX-License-Identifier: MIT */
/*
 * What calls do with the self-service state, run through the generated dialplan by the
 * evaluator of dp-eval.c: DND wins over a forward, a forward rings its target, a forward
 * loop ends, the feature codes write the calling user's own keys (and raise the event), and
 * *98 opens a mailbox with its current PIN only, hanging up after three wrong ones.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "pbx/dialplan.h"
#include "pbx/secret.h"

#include "dp-eval.h"
#include "dp-test.h"

/* acme of dp-test.c: alice 1001 (two devices, voicemail), bob 1002 (no voicemail), ... */
#define ALICE_EP "acme-k3f9x2q7m1ab"

static struct pbx_dp_file f;
static struct dpe_db db;

static void gen(void)
{
	struct pbx_dp_tenant t = dp_fixture_acme();
	pbx_error err = PBX_ERROR_INIT;

	memset(&db, 0, sizeof(db));
	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), 0), "%s", err.message);
	/* What apply writes for every active user. */
	for (const char *e = "1001\0" "1002\0" "1003\0" "1004\0" "1005\0" "1006\0" "1007\0"
			     "1008\0" "1010\0" "2000\0"; *e; e += strlen(e) + 1) {
		char k[64];

		snprintf(k, sizeof(k), "pbxctl/acme/%s/dnd", e);
		dpe_db_put(&db, k, "0");
	}
}

static void drop(void)
{
	pbx_dp_file_free(&f);
}

TestSuite(selfservice_calls, .init = gen, .fini = drop);

static struct dpe_call call_from(const char *endpoint, const char *exten)
{
	struct dpe_call c = { .endpoint = endpoint };

	dpe_run(f.text, "acme-internal", exten, &db, &c);
	return c;
}

Test(selfservice_calls, plain_call_rings_then_voicemail)
{
	struct dpe_call c = call_from("acme-b0b0desk0001", "1001");

	cr_assert(eq(int, dpe_find(&c, "Dial(PJSIP/acme-k3f9x2q7m1ab&PJSIP/acme-p8w2m4x9c7de,20)"), 0));
	cr_assert(ge(int, dpe_find(&c, "VoiceMail(1001@acme,u)"), 0));
}

Test(selfservice_calls, dnd_sends_to_voicemail_and_wins_over_a_forward)
{
	struct dpe_call c;

	dpe_db_put(&db, "pbxctl/acme/1001/dnd", "1");
	dpe_db_put(&db, "pbxctl/acme/1001/forward", "1002");
	c = call_from("acme-b0b0desk0001", "1001");
	cr_assert(eq(int, dpe_find(&c, "VoiceMail(1001@acme,b)"), 0), "%s", c.trace[0]);
	cr_assert(eq(int, dpe_find(&c, "Dial("), -1));
	/* bob has no voicemail: DND is busy. */
	dpe_db_put(&db, "pbxctl/acme/1002/dnd", "1");
	c = call_from(ALICE_EP, "1002");
	cr_assert(eq(int, dpe_find(&c, "Busy("), 0));
}

Test(selfservice_calls, a_forward_rings_its_target_and_dnd_off_restores)
{
	struct dpe_call c;

	dpe_db_put(&db, "pbxctl/acme/1001/forward", "1002");
	c = call_from("acme-e7r1n0000001", "1001");
	cr_assert(eq(int, dpe_find(&c, "Dial(PJSIP/acme-b0b0desk0001,20)"), 0), "%s", c.trace[0]);
	cr_assert(eq(int, dpe_find(&c, "Dial(PJSIP/acme-k3f9x2q7m1ab"), -1));
	/* Cleared (the key empty, as *73 leaves it): alice's phones ring again. */
	dpe_db_put(&db, "pbxctl/acme/1001/forward", "");
	c = call_from("acme-e7r1n0000001", "1001");
	cr_assert(eq(int, dpe_find(&c, "Dial(PJSIP/acme-k3f9x2q7m1ab"), 0));
}

Test(selfservice_calls, a_forward_to_nobody_or_garbage_rings_the_user)
{
	static const char *const bad[] = { "1009", "5", "12*3", "1001;x", "${EXTEN}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dpe_call c;

		dpe_db_put(&db, "pbxctl/acme/1002/forward", bad[i]);
		c = call_from(ALICE_EP, "1002");
		cr_assert(eq(int, dpe_find(&c, "Dial(PJSIP/acme-b0b0desk0001,20)"), 0), "%s: %s",
			  bad[i], c.trace[0]);
	}
}

Test(selfservice_calls, a_forward_loop_ends_after_the_hop_limit)
{
	struct dpe_call c;

	dpe_db_put(&db, "pbxctl/acme/1001/forward", "1002");
	dpe_db_put(&db, "pbxctl/acme/1002/forward", "1001");
	c = call_from("acme-e7r1n0000001", "1001");
	cr_assert(eq(sz, c.n_trace >= 1, 1));
	cr_assert(eq(int, dpe_find(&c, "Dial("), 0), "%s", c.trace[0]);
}

Test(selfservice_calls, feature_codes_write_the_callers_own_keys_and_raise_the_event)
{
	struct dpe_call c = call_from(ALICE_EP, PBX_DP_CODE_DND_ON);

	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/dnd"), "1"));
	cr_assert(eq(int, dpe_find(&c, "UserEvent(PbxctlSelfService,Tenant: acme,Extension: 1001,"
				       "Setting: dnd,Value: 1)"), 0));
	c = call_from(ALICE_EP, PBX_DP_CODE_DND_TOGGLE);
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/dnd"), "0"));
	cr_assert(ge(int, dpe_find(&c, "Playback(do-not-disturb&de-activated)"), 0));
	c = call_from(ALICE_EP, PBX_DP_CODE_DND_TOGGLE);
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/dnd"), "1"));
	c = call_from(ALICE_EP, PBX_DP_CODE_DND_OFF);
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/dnd"), "0"));
	/* *72NUMBER, *72 asking, *73. */
	c = call_from(ALICE_EP, "*721002");
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/forward"), "1002"));
	cr_assert(ge(int, dpe_find(&c, "UserEvent(PbxctlSelfService,Tenant: acme,Extension: 1001,"
				       "Setting: forward,Value: 1002)"), 0));
	c = (struct dpe_call){ .endpoint = ALICE_EP, .input = { "1005" } };
	dpe_run(f.text, "acme-internal", PBX_DP_CODE_FORWARD, &db, &c);
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/forward"), "1005"));
	c = call_from(ALICE_EP, PBX_DP_CODE_FORWARD_OFF);
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/forward"), ""));
	/* Only acme's own family was touched. */
	for (size_t i = 0; i < db.n; i++)
		cr_assert(eq(int, strncmp(db.key[i], "pbxctl/acme/", 12), 0), "%s", db.key[i]);
}

Test(selfservice_calls, feature_codes_refuse_unknown_devices_and_bad_numbers)
{
	struct dpe_call c = call_from("globex-aaaa", PBX_DP_CODE_DND_ON);

	cr_assert(eq(int, dpe_find(&c, "Playback(pbx-invalid)"), 0));
	cr_assert(eq(str, (char *)dpe_db_get(&db, "pbxctl/acme/1001/dnd"), "0"));
	cr_assert(eq(int, dpe_find(&c, "UserEvent"), -1));
	/* Own extension, a star in the number, too short, a number without outbound calling. */
	for (const char *n = "*721001\0*7212*3\0*725\0*72004930123456\0"; *n; n += strlen(n) + 1) {
		c = call_from(ALICE_EP, n);
		cr_assert(ge(int, dpe_find(&c, "Playback(pbx-invalid)"), 0), "%s", n);
		cr_assert_null(dpe_db_get(&db, "pbxctl/acme/1001/forward"), "%s was stored", n);
	}
}

/* Put @pin's verifier where apply puts it. */
static void set_pin(const char *ext, const char *pin)
{
	char v[PBX_SECRET_VERIFIER_BUFSZ], k[64];
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_secret_pin_verifier(pin, v, sizeof(v), &err), 0), "%s", err.message);
	snprintf(k, sizeof(k), "pbxctl/acme/%s/pin", ext);
	dpe_db_put(&db, k, v);
}

static struct dpe_call mailbox(const char *a, const char *b, const char *c2, const char *d,
			       const char *e, const char *g)
{
	struct dpe_call c = { .endpoint = "acme-b0b0desk0001", .input = { a, b, c2, d, e, g } };

	dpe_run(f.text, "acme-internal", PBX_DP_CODE_MAILBOX, &db, &c);
	return c;
}

Test(selfservice_calls, star98_opens_with_the_current_pin_only)
{
	struct dpe_call c;

	set_pin("1001", "4821");
	c = mailbox("1001", "4821", NULL, NULL, NULL, NULL);
	cr_assert(ge(int, dpe_find(&c, "VoiceMailMain(1001@acme,s)"), 0), "%s", c.trace[1]);
	/* The PIN changes: the previous one fails, the new one opens. */
	set_pin("1001", "5930");
	c = mailbox("1001", "4821", "1001", "5930", NULL, NULL);
	cr_assert(ge(int, dpe_find(&c, "Playback(vm-incorrect)"), 0));
	cr_assert(ge(int, dpe_find(&c, "VoiceMailMain(1001@acme,s)"), 0));
	cr_assert(lt(int, dpe_find(&c, "Playback(vm-incorrect)"),
		     dpe_find(&c, "VoiceMailMain(1001@acme,s)")));
}

Test(selfservice_calls, star98_hangs_up_after_three_wrong_pins)
{
	struct dpe_call c;

	set_pin("1001", "4821");
	c = mailbox("1001", "1111", "1001", "4820", "1001", "48210");
	cr_assert(eq(int, dpe_find(&c, "VoiceMailMain"), -1));
	cr_assert(ge(int, dpe_find(&c, "Playback(vm-incorrect&vm-goodbye)"), 0));
	cr_assert(ge(int, dpe_find(&c, "Hangup"), 0));
}

Test(selfservice_calls, star98_never_opens_a_box_without_a_pin_or_a_non_extension)
{
	struct dpe_call c;

	/* carol 1003 has voicemail but no PIN: an empty PIN must not match an empty key. */
	c = mailbox("1003", "", "1003", "0000", "1*", "");
	cr_assert(eq(int, dpe_find(&c, "VoiceMailMain"), -1));
	/* A verifier under a non-extension key is never read. */
	set_pin("0", "4821");
	c = mailbox("*0", "4821", "0", "4821", "01001", "4821");
	cr_assert(eq(int, dpe_find(&c, "VoiceMailMain"), -1));
}
