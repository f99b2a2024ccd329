/* SPDX-License-Identifier: MIT */
/*
 * The AMI client against a running amipeer: logins (plain, md5, refused), the read-only
 * retry after a dropped connection and its absence for Reload, deadlines against a slow
 * peer, and the apply proof after reloads of good and broken dialplan files.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "peerproc.h"

static struct peerproc peer;

static void stop(void)
{
	peer_stop(&peer);
}

static pbx_ami *connect_ok(int timeout_ms)
{
	struct pbx_ami_config cfg = peer_config(&peer, timeout_ms);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), 0), "%s", err.message);
	return ami;
}

Test(ami_peer, plain_login_and_ping, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(2000);
	cr_assert(eq(str, (char *)pbx_ami_version(ami), "13.0.0"));
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	pbx_ami_close(ami);
	cr_assert(eq(int, peer_count(&peer, "Login"), 1));
	cr_assert(eq(int, peer_count(&peer, "Logoff"), 1));
}

Test(ami_peer, md5_login, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	peer_start(&peer, NULL, NULL);
	cfg = peer_config(&peer, 2000);
	cfg.md5 = true;
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0));
	pbx_ami_close(ami);
	cr_assert(eq(int, peer_count(&peer, "Challenge"), 1));
}

Test(ami_peer, wrong_secret_is_eperm, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;
	char where[64];

	peer_start(&peer, NULL, NULL);
	cfg = peer_config(&peer, 2000);
	cfg.secret = "not-the-secret";
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EPERM));
	cr_assert(ami == NULL);
	snprintf(where, sizeof(where), "ami at 127.0.0.1:%d", peer.port);
	cr_assert(strstr(err.message, where) != NULL, "%s", err.message);
	cr_assert(strstr(err.message, "not-the-secret") == NULL);
	cfg.md5 = true;
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EPERM));
	cr_assert(strstr(err.message, "Authentication failed") != NULL, "%s", err.message);
}

Test(ami_peer, refuse_login_is_eperm, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	peer_start(&peer, NULL, (const char *[]){ "--refuse-login", NULL });
	cfg = peer_config(&peer, 2000);
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EPERM));
	cr_assert(strstr(err.message, "refused the login of user pbxctl") != NULL, "%s",
		  err.message);
}

Test(ami_peer, unreachable_port_is_unavailable, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;
	char want[128];

	peer_start(&peer, NULL, NULL);
	cfg = peer_config(&peer, 2000);
	peer_stop(&peer);   /* nothing listens there any more */
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	snprintf(want, sizeof(want), "ami at 127.0.0.1:%d is unreachable: connection refused",
		 cfg.port);
	cr_assert(eq(str, err.message, want));
}

Test(ami_peer, dropped_ping_is_retried_once, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, NULL, (const char *[]){ "--drop-after", "Ping", NULL });
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	/* The first Ping was dropped, the retry on a new connection answered. */
	cr_assert(eq(int, peer_count(&peer, "Ping"), 2));
	cr_assert(eq(int, peer_count(&peer, "Login"), 2));
	pbx_ami_close(ami);
}

Test(ami_peer, dropped_read_only_command_is_retried, .fini = stop)
{
	struct pbx_ami_response *resp = NULL;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, "reload-ok", (const char *[]){ "--drop-after", "Command", NULL });
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_command(ami, "dialplan show acme-internal", &resp, &err), 0),
		  "%s", err.message);
	cr_assert(eq(str, resp->output[resp->n_output - 1],
		     "-= 2 extensions (5 priorities) in 1 context. =-"));
	pbx_ami_response_free(resp);
	cr_assert(eq(int, peer_count(&peer, "Command"), 2));
	pbx_ami_close(ami);
}

Test(ami_peer, dropped_reload_is_not_retried, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, "reload-ok", (const char *[]){ "--drop-after", "Reload", NULL });
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "closed the connection") != NULL, "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "Reload"), 1), "a Reload must never be resent");
	/* The handle is still usable: the next action reconnects. */
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "Reload"), 1));
	pbx_ami_close(ami);
}

Test(ami_peer, dropped_dbput_is_not_retried, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, NULL, (const char *[]){ "--drop-after", "DBPut", NULL });
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_db_put(ami, "DND", "acme/1001", "YES", &err),
		     PBX_EUNAVAILABLE));
	cr_assert(eq(int, peer_count(&peer, "DBPut"), 1));
	pbx_ami_close(ami);
}

/* What a batch's callback was told: each answer's index and result, in order. */
struct answers {
	size_t n, index[300];
	int result[300];
};

static void record_answer(size_t i, int result, const pbx_error *why, void *userdata)
{
	struct answers *a = userdata;

	(void)why;
	a->index[a->n] = i;
	a->result[a->n++] = result;
}

Test(ami_peer, a_batch_answers_every_action_in_order_and_a_refused_one_alone, .fini = stop)
{
	static const char *const keys[] = { "1000", "1001", "1002" };
	struct pbx_ami_batch_action act[300];
	const char *kv[300][7];
	struct answers got = { 0 };
	pbx_error err = PBX_ERROR_INIT;
	char val[300][8], *v = NULL;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(2000);
	/* More actions than the window; the middle one of every three goes to a family whose
	 * writes fail, and one DBDel of a missing key. */
	peer_control(&peer, "db-error broken\n");
	for (size_t i = 0; i < 300; i++) {
		snprintf(val[i], sizeof(val[i]), "%zu", i);
		kv[i][0] = "Family";
		kv[i][1] = i % 3 == 1 ? "broken" : "batch";
		kv[i][2] = "Key";
		kv[i][3] = keys[i % 3];
		kv[i][4] = "Val";
		kv[i][5] = val[i];
		kv[i][6] = NULL;
		act[i] = (struct pbx_ami_batch_action){ .action = "DBPut", .kv = kv[i] };
	}
	kv[299][4] = NULL;
	act[299].action = "DBDel";
	kv[299][1] = "nothing-here";
	cr_assert(eq(int, pbx_ami_batch(ami, act, 300, record_answer, &got, &err), 0), "%s",
		  err.message);
	cr_assert(eq(sz, got.n, 300));
	for (size_t i = 0; i < 300; i++) {
		cr_assert(eq(sz, got.index[i], i));
		cr_assert(eq(int, got.result[i], i == 299 || i % 3 == 1 ? PBX_ERROR : 0), "#%zu", i);
	}
	/* The last of the writes to each key won. */
	cr_assert(eq(int, pbx_ami_db_get(ami, "batch", "1002", &v, &err), 0), "%s", err.message);
	cr_assert(eq(str, v, "296"));
	free(v);
	cr_assert(eq(int, peer_count(&peer, "DBPut"), 299));
	pbx_ami_close(ami);
}

Test(ami_peer, a_batch_stops_at_a_lost_connection_and_resends_nothing, .fini = stop)
{
	const char *kv[] = { "Family", "batch", "Key", "k", "Val", "1", NULL };
	struct pbx_ami_batch_action act[3] = {
		{ "Ping", NULL }, { "DBPut", kv }, { "Ping", NULL },
	};
	const char *bad[] = { "Family", "x\r\nAction: Reload", NULL };
	struct pbx_ami_batch_action refused[1] = { { "DBDel", bad } };
	struct answers got = { 0 };
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, NULL, (const char *[]){ "--drop-after", "DBPut", NULL });
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_batch(ami, refused, 1, record_answer, &got, &err), PBX_EINVALID));
	cr_assert(eq(int, peer_count(&peer, "DBDel"), 0), "a bad value sends nothing");
	cr_assert(eq(int, pbx_ami_batch(ami, act, 3, record_answer, &got, &err), PBX_EUNAVAILABLE));
	cr_assert(eq(sz, got.n, 1), "only the Ping before the drop was answered: %zu", got.n);
	cr_assert(eq(int, peer_count(&peer, "DBPut"), 1));
	pbx_ami_close(ami);
}

Test(ami_peer, slow_peer_hits_the_deadline, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	long long t0, took;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(500);
	peer_control(&peer, "slow 3000\n");
	t0 = mono_ms();
	cr_assert(eq(int, pbx_ami_ping(ami, &err), PBX_EUNAVAILABLE));
	took = mono_ms() - t0;
	cr_assert(took >= 450 && took < 1500, "took %lld ms", took);
	cr_assert(strstr(err.message, "did not answer within 500 ms") != NULL, "%s",
		  err.message);
	/* A timeout is not a broken connection: the Ping was not sent twice. */
	cr_assert(eq(int, peer_count(&peer, "Ping"), 1));
	peer_control(&peer, "");
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	pbx_ami_close(ami);
}

/* "slow ACTION:MS" delays that action's answer only: a Ping is answered at once, a Reload
 * after the delay, and the Reload's answer is still the recorded one (Success). */
Test(ami_peer, slow_named_action_delays_only_that_action, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	long long t0, took;
	pbx_ami *ami;

	peer_start(&peer, "reload-ok", NULL);
	ami = connect_ok(5000);
	peer_control(&peer, "slow Reload:1500\n");
	t0 = mono_ms();
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	took = mono_ms() - t0;
	cr_assert(took < 1000, "Ping took %lld ms", took);
	t0 = mono_ms();
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	took = mono_ms() - t0;
	cr_assert(took >= 1400, "Reload took only %lld ms", took);
	/* the case of the action's name does not matter, as in Asterisk */
	peer_control(&peer, "slow ping:1500\n");
	t0 = mono_ms();
	cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
	cr_assert(mono_ms() - t0 >= 1400);
	pbx_ami_close(ami);
}

/* A named delay past the client's deadline still times out only that action. */
Test(ami_peer, slow_named_action_past_the_deadline_fails_that_action, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, "reload-ok", NULL);
	ami = connect_ok(500);
	peer_control(&peer, "slow Reload:3000\n");
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "did not answer within 500 ms") != NULL, "%s",
		  err.message);
	pbx_ami_close(ami);
}

Test(ami_peer, slow_login_fails_connect_in_bounded_time, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;
	long long t0;

	peer_start(&peer, NULL, (const char *[]){ "--slow", "5000", NULL });
	cfg = peer_config(&peer, 300);
	t0 = mono_ms();
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(mono_ms() - t0 < 1500);
}

Test(ami_peer, reload_good_dir_proves_marker_and_counts, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	char marker[64];
	int e = 0, p = 0;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(2000);
	/* Nothing loaded yet: the proof must fail. */
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "acme-internal", &e, &p, &err),
		     PBX_ENOTFOUND));
	peer_use_file(&peer, "reload-ok", "acme.conf");
	peer_use_file(&peer, "reload-ok", "globex.conf");
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), 0), "%s", err.message);
	cr_assert(eq(str, marker, "job-0001"));
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "acme-internal", &e, &p, &err), 0));
	cr_assert(eq(int, e, 2));
	cr_assert(eq(int, p, 5));
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "globex-internal", &e, &p, &err), 0));
	cr_assert(eq(int, e, 1));
	cr_assert(eq(int, p, 2));
	pbx_ami_close(ami);
}

Test(ami_peer, reload_unclosed_bracket_drops_that_file_only, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	char marker[64];
	int e = 0, p = 0;
	pbx_ami *ami;

	peer_start(&peer, "reload-ok", NULL);
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), 0), "%s", err.message);
	peer_use_file(&peer, "reload-unclosed-bracket", "acme.conf");
	/* Reload says Success, as Asterisk does ... */
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	/* ... but both contexts of acme.conf are gone. */
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), PBX_ENOTFOUND));
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "acme-internal", &e, &p, &err),
		     PBX_ENOTFOUND));
	cr_assert(strstr(err.message, "Did not find context acme-internal") != NULL, "%s",
		  err.message);
	/* The other tenant's file stayed loaded. */
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-globex", marker, sizeof(marker),
					      &err), 0), "%s", err.message);
	cr_assert(eq(str, marker, "job-0100"));
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "globex-internal", &e, &p, &err), 0));
	cr_assert(eq(int, p, 2));
	/* Restoring the good file brings everything back. */
	peer_use_file(&peer, "reload-restore-good", "acme.conf");
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0));
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), 0), "%s", err.message);
	cr_assert(eq(str, marker, "job-0003"));
	pbx_ami_close(ami);
}

Test(ami_peer, reload_bad_priority_keeps_marker_loses_a_priority, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	char marker[64];
	int e = 0, p = 0;
	pbx_ami *ami;

	peer_start(&peer, "reload-bad-priority", NULL);
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0));
	cr_assert(eq(int, pbx_ami_read_marker(ami, "pbxctl-meta-acme", marker, sizeof(marker),
					      &err), 0), "%s", err.message);
	cr_assert(eq(str, marker, "job-0004"));
	cr_assert(eq(int, pbx_ami_dialplan_counts(ami, "acme-internal", &e, &p, &err), 0));
	cr_assert(eq(int, e, 2));
	cr_assert(eq(int, p, 4));
	pbx_ami_close(ami);
}

Test(ami_peer, reload_error_switch_from_control_file, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	peer_start(&peer, "reload-ok", NULL);
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	peer_control(&peer, "# set by the test\nreload-error\n");
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), PBX_ERROR));
	cr_assert(strstr(err.message, "Reload failed: An unknown error occurred") != NULL, "%s",
		  err.message);
	cr_assert(eq(int, pbx_ami_reload(ami, "no_such_module", &err), PBX_ERROR));
	peer_control(&peer, "");
	cr_assert(eq(int, pbx_ami_reload(ami, "pbx_config", &err), 0), "%s", err.message);
	pbx_ami_close(ami);
}

Test(ami_peer, astdb_roundtrip, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	char *v = NULL;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_db_get(ami, "CF", "acme/1001", &v, &err), PBX_ENOTFOUND));
	cr_assert(eq(int, pbx_ami_db_put(ami, "CF", "acme/1001", "+4930 123", &err), 0));
	cr_assert(eq(int, pbx_ami_db_put(ami, "CF", "acme/1002", "", &err), 0));
	cr_assert(eq(int, pbx_ami_db_get(ami, "CF", "acme/1001", &v, &err), 0));
	cr_assert(eq(str, v, "+4930 123"));
	free(v);
	cr_assert(eq(int, pbx_ami_db_get(ami, "CF", "acme/1002", &v, &err), 0));
	cr_assert(eq(str, v, ""));
	free(v);
	{
		struct pbx_ami_db_entry *e = NULL;
		size_t n = 0;

		cr_assert(eq(int, pbx_ami_db_put(ami, "CFX", "acme/1001", "no", &err), 0));
		cr_assert(eq(int, pbx_ami_db_gettree(ami, "CF", &e, &n, &err), 0), "%s", err.message);
		/* Whole path components: family CFX is not under CF. */
		cr_assert(eq(sz, n, 2));
		cr_assert(eq(str, e[0].key, "/CF/acme/1001"));
		cr_assert(eq(str, e[0].value, "+4930 123"));
		cr_assert(eq(str, e[1].key, "/CF/acme/1002"));
		pbx_ami_db_entries_free(e, n);
		cr_assert(eq(int, pbx_ami_db_gettree(ami, "nothing", &e, &n, &err), 0));
		cr_assert(eq(sz, n, 0));
		pbx_ami_db_entries_free(e, n);
	}
	cr_assert(eq(int, pbx_ami_db_deltree(ami, "CF", "acme", &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_db_get(ami, "CF", "acme/1002", &v, &err), PBX_ENOTFOUND));
	/* main/db.c answers "Database entry could not be deleted" for a missing key. */
	cr_assert(eq(int, pbx_ami_db_del(ami, "CF", "acme/1001", &err), PBX_ERROR));
	pbx_ami_close(ami);
}

/*
 * main/db.c keeps one key "/family/key": a family with slashes and a key with slashes name
 * the same entry, and DBDelTree of a family deletes every key below it (what the AstDB
 * reconcile and a tenant's removal rely on), whole path components only.
 */
Test(ami_peer, astdb_keys_are_full_paths_and_trees_are_subtrees, .fini = stop)
{
	pbx_error err = PBX_ERROR_INIT;
	char *v = NULL;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_db_put(ami, "pbxctl/acme/1001", "dnd", "1", &err), 0));
	cr_assert(eq(int, pbx_ami_db_put(ami, "pbxctl/acme2/1001", "dnd", "0", &err), 0));
	cr_assert(eq(int, pbx_ami_db_get(ami, "pbxctl", "acme/1001/dnd", &v, &err), 0));
	cr_assert(eq(str, v, "1"));
	free(v);
	cr_assert(eq(int, pbx_ami_db_deltree(ami, "pbxctl/acme", NULL, &err), 0), "%s",
		  err.message);
	cr_assert(eq(int, pbx_ami_db_get(ami, "pbxctl/acme/1001", "dnd", &v, &err), PBX_ENOTFOUND));
	/* acme2 is not below acme */
	cr_assert(eq(int, pbx_ami_db_get(ami, "pbxctl/acme2/1001", "dnd", &v, &err), 0));
	cr_assert(eq(str, v, "0"));
	free(v);
	cr_assert(eq(int, pbx_ami_db_deltree(ami, "pbxctl", NULL, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_db_get(ami, "pbxctl/acme2/1001", "dnd", &v, &err), PBX_ENOTFOUND));
	/* an empty tree: "Database entry not found" */
	cr_assert(eq(int, pbx_ami_db_deltree(ami, "pbxctl", NULL, &err), PBX_ENOTFOUND));
	pbx_ami_close(ami);
}

Test(ami_peer, contacts_follow_the_contacts_file, .fini = stop)
{
	struct pbx_ami_contact *c = NULL;
	struct pbx_ami_registration *g = NULL;
	pbx_error err = PBX_ERROR_INIT;
	size_t n = 0;
	pbx_ami *ami;

	peer_start(&peer, NULL, NULL);
	ami = connect_ok(2000);
	cr_assert(eq(int, pbx_ami_contacts(ami, &c, &n, &err), 0), "%s", err.message);
	cr_assert(eq(sz, n, 0));
	pbx_ami_contacts_free(c, n);
	write_text(peer.contacts, "acme-1001-soft sip:acme-1001-soft@10.0.0.7:5062;transport=udp "
		   "Reachable 1843 Linphone/5.2 (Debian)\nacme-1001-desk sip:acme-1001-desk@"
		   "10.0.0.5 Unreachable N/A\nacme-1009-desk\n");
	cr_assert(eq(int, pbx_ami_contacts(ami, &c, &n, &err), 0), "%s", err.message);
	cr_assert(eq(sz, n, 2));
	cr_assert(eq(str, c[0].endpoint, "acme-1001-desk"));
	cr_assert(eq(str, c[0].status, "Unreachable"));
	cr_assert(eq(int, c[0].via_port, 5060));
	cr_assert(eq(i64, c[0].roundtrip_usec, -1));
	cr_assert(eq(str, c[1].via_addr, "10.0.0.7"));
	cr_assert(eq(int, c[1].via_port, 5062));
	cr_assert(eq(i64, c[1].roundtrip_usec, 1843));
	cr_assert(eq(str, c[1].user_agent, "Linphone/5.2 (Debian)"));
	cr_assert(c[1].expiration_time > 0);
	pbx_ami_contacts_free(c, n);
	cr_assert(eq(int, pbx_ami_action(ami, "PJSIPShowEndpoint", (const char *[]){ "Endpoint",
					 "acme-1009-desk", NULL }, NULL, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_action(ami, "PJSIPShowEndpoint", (const char *[]){ "Endpoint",
					 "acme-1010-desk", NULL }, NULL, &err), PBX_ENOTFOUND));
	write_text(peer.regs, "trunk-a sip:sip.example.net sip:49301@sip.example.net Registered\n");
	cr_assert(eq(int, pbx_ami_registrations_outbound(ami, &g, &n, &err), 0));
	cr_assert(eq(sz, n, 1));
	cr_assert(eq(str, g[0].status, "Registered"));
	cr_assert(eq(str, g[0].client_uri, "sip:49301@sip.example.net"));
	pbx_ami_registrations_free(g, n);
	pbx_ami_close(ami);
}
