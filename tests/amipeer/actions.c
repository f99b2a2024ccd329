/* SPDX-License-Identifier: MIT */
/*
 * amipeer's actions: the session (Login, Challenge, Logoff), Ping, CoreStatus, CoreSettings,
 * Reload, AstDB, and the dispatch to Command, ShowDialPlan and the PJSIP actions, answering
 * with the exact texts and header order of the recordings of a real Asterisk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "peer.h"

void action_id(struct sb *out, const struct req *r)
{
	if (req_has(r, "ActionID"))
		sb_add(out, "ActionID: %s\r\n", req_get(r, "ActionID"));
}

void send_response(struct sb *out, const struct req *r, const char *resp, const char *msg,
		   bool end)
{
	sb_add(out, "Response: %s\r\n", resp);
	action_id(out, r);
	if (msg)
		sb_add(out, "Message: %s\r\n", msg);
	if (end)
		sb_add(out, "\r\n");
}

void send_error(struct sb *out, const struct req *r, const char *msg)
{
	send_response(out, r, "Error", msg, true);
}

static void send_ack(struct sb *out, const struct req *r, const char *msg)
{
	send_response(out, r, "Success", msg, true);
}

void send_listack(struct sb *out, const struct req *r, const char *msg)
{
	sb_add(out, "Response: Success\r\n");
	action_id(out, r);
	sb_add(out, "EventList: start\r\nMessage: %s\r\n\r\n", msg);
}

void send_list_complete(struct sb *out, const struct req *r, const char *event, int items)
{
	sb_add(out, "Event: %s\r\n", event);
	action_id(out, r);
	sb_add(out, "EventList: Complete\r\nListItems: %d\r\n", items);
}

void peer_reload_dialplan(struct peer *p)
{
	dp_free(&p->dp);
	if (p->dialplan_dir)
		dp_load_dir(p->dialplan_dir, &p->dp, stderr, p->sw.skip_line);
}

/* ---- session ---- */

/* Does a Login Events value ("on", "all", "system,user", ...) subscribe to @cls? */
static bool events_name(const char *v, const char *cls)
{
	size_t n = strlen(cls);

	if (!strcasecmp(v, "on") || !strcasecmp(v, "all") || !strcasecmp(v, "yes"))
		return true;
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");

		if ((len == n && !strncasecmp(p, cls, n)) || (len == 3 && !strncasecmp(p, "all", 3)))
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

static int do_login(struct peer *p, struct session *s, const struct req *r, struct sb *out)
{
	const char *user = req_get(r, "Username");
	bool ok;

	if (s->authed) {
		send_ack(out, r, "Already authenticated");
		return KEEP;
	}
	if (strcasecmp(req_get(r, "AuthType"), "md5") == 0) {
		char *text = NULL, key[33];

		if (!s->challenge[0] || asprintf(&text, "%s%s", s->challenge, p->secret) < 0) {
			ok = false;
		} else {
			pbx_ami_md5_hex(text, strlen(text), key);
			ok = strcasecmp(key, req_get(r, "Key")) == 0;
			free(text);
		}
	} else {
		ok = strcmp(req_get(r, "Secret"), p->secret) == 0;
	}
	ok = ok && strcmp(user, p->user) == 0 && !p->sw.refuse_login;
	if (!ok) {
		/* Asterisk ends the session after a failed login. */
		send_error(out, r, "Authentication failed");
		return CLOSE;
	}
	s->authed = true;
	s->events = strcasecmp(req_get(r, "Events"), "off") != 0;
	s->user_events = events_name(req_get(r, "Events"), "user");
	send_ack(out, r, "Authentication accepted");
	/* FullyBooted is a system event: a session with only user events does not get it. */
	if (s->events && events_name(req_get(r, "Events"), "system")) {
		time_t now = time(NULL);

		sb_add(out, "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: %ld\r\n"
		       "LastReload: %ld\r\nStatus: Fully Booted\r\n\r\n",
		       (long)(now - p->started), (long)(now - p->reloaded));
	}
	return KEEP;
}

static void do_challenge(struct session *s, const struct req *r, struct sb *out)
{
	if (strcasecmp(req_get(r, "AuthType"), "md5") != 0) {
		send_error(out, r, "Must specify AuthType");
		return;
	}
	if (!s->challenge[0]) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		srandom((unsigned)(tv.tv_sec ^ tv.tv_usec));
		snprintf(s->challenge, sizeof(s->challenge), "%ld", random());
	}
	send_response(out, r, "Success", NULL, false);
	sb_add(out, "Challenge: %s\r\n\r\n", s->challenge);
}

/* ---- core ---- */

static void do_ping(const struct req *r, struct sb *out)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	send_response(out, r, "Success", NULL, false);
	sb_add(out, "Ping: Pong\r\nTimestamp: %ld.%06ld\r\n\r\n", (long)tv.tv_sec,
	       (long)tv.tv_usec);
}

static void do_corestatus(struct peer *p, const struct req *r, struct sb *out)
{
	char sd[32], st[32], rd[32], rt[32];
	struct tm tm;

	localtime_r(&p->started, &tm);
	strftime(sd, sizeof(sd), "%Y-%m-%d", &tm);
	strftime(st, sizeof(st), "%H:%M:%S", &tm);
	localtime_r(&p->reloaded, &tm);
	strftime(rd, sizeof(rd), "%Y-%m-%d", &tm);
	strftime(rt, sizeof(rt), "%H:%M:%S", &tm);
	send_response(out, r, "Success", NULL, false);
	sb_add(out, "CoreStartupDate: %s\r\nCoreStartupTime: %s\r\nCoreReloadDate: %s\r\n"
	       "CoreReloadTime: %s\r\nCoreCurrentCalls: 0\r\nCoreProcessedCalls: 0\r\n\r\n",
	       sd, st, rd, rt);
}

static void do_coresettings(const struct req *r, struct sb *out)
{
	send_response(out, r, "Success", NULL, false);
	sb_add(out, "AMIversion: %s\r\nAsteriskVersion: %s\r\nSystemName: \r\n"
	       "CoreMaxCalls: 0\r\nCoreMaxLoadAvg: 0.000000\r\nCoreRunUser: root\r\n"
	       "CoreRunGroup: root\r\nCoreMaxFilehandles: 0\r\nCoreRealTimeEnabled: Yes\r\n"
	       "CoreCDRenabled: Yes\r\nCoreHTTPenabled: No\r\nSoundsSearchCustomDir: No\r\n\r\n",
	       AMI_VERSION, ASTERISK_VERSION);
}

/* Modules a pbxctl deployment reloads; anything else is "No such module". */
static bool known_module(const char *m)
{
	static const char *const mods[] = {
		"pbx_config", "app_voicemail", "res_pjsip", "chan_pjsip",
		"res_pjsip_outbound_registration", "res_pjsip_endpoint_identifier_ip",
		"res_odbc", "res_config_odbc", "res_sorcery_realtime", "manager", "extconfig",
		"cdr", "logger", "features", "res_musiconhold",
	};
	size_t n = strlen(m);

	if (n > 3 && strcmp(m + n - 3, ".so") == 0)
		n -= 3;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (strlen(mods[i]) == n && strncasecmp(m, mods[i], n) == 0)
			return true;
	return false;
}

static void do_reload(struct peer *p, const struct req *r, struct sb *out)
{
	const char *m = req_get(r, "Module");

	if (*m && (!known_module(m) || (p->sw.not_loaded &&
					 strncasecmp(m, p->sw.not_loaded, strlen(p->sw.not_loaded)) == 0))) {
		send_error(out, r, "No such module");
		return;
	}
	if (p->sw.reload_error) {
		send_error(out, r, "An unknown error occurred");
		return;
	}
	/* stale-reload: Success, but the old dialplan stays, as when Asterisk did not pick up
	 * the files (a wrong include path, a second node) */
	if ((!*m || strncasecmp(m, "pbx_config", 10) == 0) && !p->sw.stale_reload)
		peer_reload_dialplan(p);
	p->reloaded = time(NULL);
	send_ack(out, r, "Module Reloaded");
}

/* ---- AstDB ---- */

/* main/db.c's key: "/family/key" (ast_db_put, ast_db_get and ast_db_del2 build it so). */
static char *db_key(const char *family, const char *key)
{
	struct sb k = { 0 };

	sb_add(&k, "/%s%s%s", family, *key ? "/" : "", key);
	return k.p;
}

static void do_db(struct peer *p, const char *action, const struct req *r, struct sb *out)
{
	const char *family = req_get(r, "Family"), *key = req_get(r, "Key"), *value;
	bool tree = strcasecmp(action, "DBDelTree") == 0;
	char *full;

	if (!*family) {
		send_error(out, r, "No family specified.");
		return;
	}
	if (!*key && !tree) {
		send_error(out, r, "No key specified.");
		return;
	}
	full = db_key(family, key);
	value = tree ? NULL : astdb_get(&p->db, full);
	if (strcasecmp(action, "DBPut") == 0) {
		if (p->sw.db_error && (!p->sw.db_error_family ||
					 strcmp(p->sw.db_error_family, family) == 0)) {
			/* main/db.c: ast_db_put() failed (astdb.sqlite3 not writable). */
			send_error(out, r, "Failed to update entry");
		} else {
			astdb_put(&p->db, full, req_get(r, "Val"));
			send_ack(out, r, "Updated database successfully");
		}
	} else if (strcasecmp(action, "DBGet") == 0) {
		if (!value) {
			send_error(out, r, "Database entry not found");
		} else {
			send_listack(out, r, "Result will follow");
			sb_add(out, "Event: DBGetResponse\r\nFamily: %s\r\nKey: %s\r\nVal: %s\r\n",
			       family, key, value);
			action_id(out, r);
			sb_add(out, "\r\n");
			send_list_complete(out, r, "DBGetComplete", 1);
			sb_add(out, "\r\n");
		}
	} else if (!tree) {
		/* main/db.c manager_dbdel: ast_db_del2() fails for a missing key. */
		if (!astdb_del(&p->db, full))
			send_error(out, r, "Database entry could not be deleted");
		else
			send_ack(out, r, "Key deleted successfully");
	} else if (!astdb_deltree(&p->db, full)) {
		send_error(out, r, "Database entry not found");
	} else {
		send_ack(out, r, "Key tree deleted successfully");
	}
	free(full);
}

/* DBGetTree: every key under /Family[/Key], with its full path, as main/db.c lists them. */
static void do_db_tree(struct peer *p, const struct req *r, struct sb *out)
{
	const char *family = req_get(r, "Family"), *key = req_get(r, "Key");
	const char **keys, **values;
	char *prefix = *family ? db_key(family, key) : xstrdup("");
	size_t n = astdb_tree(&p->db, prefix, &keys, &values);

	send_listack(out, r, "Result will follow");
	for (size_t i = 0; i < n; i++) {
		sb_add(out, "Event: DBGetTreeResponse\r\nKey: %s\r\nVal: %s\r\n", keys[i],
		       values[i]);
		action_id(out, r);
		sb_add(out, "\r\n");
	}
	send_list_complete(out, r, "DBGetTreeComplete", (int)n);
	sb_add(out, "\r\n");
	free(keys);
	free(values);
	free(prefix);
}

/*
 * UserEvent: "Event Sent" to the sender, then (main/manager.c action_userevent) the event
 * to every session with user events: "UserEvent: name" and every other header of the
 * action but Action, ActionID included, in the order sent.
 */
static void do_userevent(struct peer *p, const struct req *r, struct sb *out)
{
	send_ack(out, r, "Event Sent");
	sb_add(&p->broadcast, "Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: %s\r\n",
	       req_get(r, "UserEvent"));
	for (size_t i = 0; i < r->n; i++) {
		if (!strcasecmp(r->h[i].key, "UserEvent") || !strcasecmp(r->h[i].key, "Action"))
			continue;
		sb_add(&p->broadcast, "%s: %s\r\n", r->h[i].key, r->h[i].value);
	}
	sb_add(&p->broadcast, "\r\n");
}

/* ---- dispatch ---- */

int peer_handle(struct peer *p, struct session *s, const struct req *r, struct sb *out)
{
	const char *a = req_get(r, "Action");

	if (!*a) {
		send_error(out, r, "Missing action in request");
		return KEEP;
	}
	if (!s->authed && strcasecmp(a, "Login") != 0 && strcasecmp(a, "Logoff") != 0 &&
	    strcasecmp(a, "Challenge") != 0) {
		send_error(out, r, "Permission denied");
		return KEEP;
	}
	if (strcasecmp(a, "Login") == 0)
		return do_login(p, s, r, out);
	if (strcasecmp(a, "Logoff") == 0) {
		send_response(out, r, "Goodbye", "Thanks for all the fish.", true);
		return CLOSE;
	}
	if (strcasecmp(a, "Challenge") == 0)
		do_challenge(s, r, out);
	else if (strcasecmp(a, "Ping") == 0)
		do_ping(r, out);
	else if (strcasecmp(a, "CoreStatus") == 0)
		do_corestatus(p, r, out);
	else if (strcasecmp(a, "CoreSettings") == 0)
		do_coresettings(r, out);
	else if (strcasecmp(a, "Reload") == 0) {
		size_t before = out->len;

		do_reload(p, r, out);
		/* a session that takes events hears the reload (reload-events-registrations) */
		if (s->events && out->p && strstr(out->p + before, "Module Reloaded"))
			sb_add(out, "Event: Reload\r\nPrivilege: system,all\r\nModule: %s\r\n"
			       "Status: 0\r\n\r\n", req_get(r, "Module"));
	}
	else if (strcasecmp(a, "Command") == 0)
		peer_command(p, r, out);
	else if (strcasecmp(a, "ShowDialPlan") == 0)
		peer_show_dialplan(p, r, out);
	else if (strcasecmp(a, "DBPut") == 0 || strcasecmp(a, "DBGet") == 0 ||
		 strcasecmp(a, "DBDel") == 0 || strcasecmp(a, "DBDelTree") == 0)
		do_db(p, a, r, out);
	else if (strcasecmp(a, "DBGetTree") == 0)
		do_db_tree(p, r, out);
	else if (strcasecmp(a, "UserEvent") == 0)
		do_userevent(p, r, out);
	else if (strcasecmp(a, "PJSIPShowContacts") == 0)
		peer_pjsip_contacts(p, r, out);
	else if (strcasecmp(a, "PJSIPShowEndpoints") == 0)
		peer_pjsip_endpoints(p, r, out);
	else if (strcasecmp(a, "PJSIPShowEndpoint") == 0)
		peer_pjsip_endpoint(p, r, out);
	else if (strcasecmp(a, "PJSIPShowRegistrationsOutbound") == 0)
		peer_pjsip_registrations(p, r, out);
	else {
		char *msg = NULL;

		if (asprintf(&msg, "Invalid/unknown command: %s. Use Action: ListCommands to "
			     "show available commands.", a) < 0)
			msg = NULL;
		send_error(out, r, msg ? msg : "Invalid/unknown command");
		free(msg);
	}
	return KEEP;
}
