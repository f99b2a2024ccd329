/* SPDX-License-Identifier: MIT */
/*
 * The world of the `pbxctl me` tests (me-itest.h).
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
#include <time.h>
#include <unistd.h>

#include "pbx/ami.h"
#include "pbx/operator.h"
#include "pbx/policy.h"
#include "pbx/sealing.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "peerproc.h"
#include "me-itest.h"
#include "privtest.h"
#include "testenv.h"

struct privtest pt;
struct peerproc peer;
struct pbx_config cfg;
pbx_ctx *ctx;
char slug[32], fam[64], login[48], eu_conf[320], events[320];
static pid_t worker = -1;

static char *dupenv(const char *name)
{
	const char *v = getenv(name);

	cr_assert_not_null(v, "%s is not set: run the tests through scripts/test", name);
	return strdup(v);
}

/*
 * A database of its own (the published key and the request queues are database-wide), an
 * AMI peer that also plays recorded events, a published sealing key, tenant "me-..." with
 * its emergency route, and a library context on it as the platform admin.
 */
void me_setup(void)
{
	static int n;
	struct pbx_tenant_spec spec = { .extensions = "1000-1999", .name = "Me Co" };
	const char *extra[] = { "--events", events, NULL };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	snprintf(events, sizeof(events), "/tmp/pbxctl-me-events-%d-%d", (int)getpid(), ++n);
	unlink(events);
	pt_setup_peer(&pt, true, extra);
	peer = pt.site.peer;    /* the site's peer; pt_teardown stops it */
	cr_assert(eq(int, pbx_config_defaults(&cfg, &err), 0));
	free(cfg.database_url);
	cfg.database_url = strdup(pt.url);
	free(cfg.rt_socket);
	cfg.rt_socket = dupenv("PBXCTL_TEST_MARIADB_SOCKET");
	free(cfg.rt_user);
	cfg.rt_user = dupenv("PBXCTL_TEST_MARIADB_USER");
	free(cfg.rt_password);
	cfg.rt_password = dupenv("PBXCTL_TEST_MARIADB_PASSWORD");
	free(cfg.rt_database);
	cfg.rt_database = dupenv("PBXCTL_TEST_MARIADB_DATABASE");
	free(cfg.key_file);
	cfg.key_file = strdup(pt.key);
	free(cfg.config_dir);
	cfg.config_dir = strdup(peer.dialplan);
	free(cfg.voicemail_spool);
	cfg.voicemail_spool = strdup(pt_path(&pt, "spool"));
	mkdir(cfg.voicemail_spool, 0755);
	free(cfg.ami_username);
	cfg.ami_username = strdup("pbxctl");
	free(cfg.ami_secret);
	cfg.ami_secret = strdup("secret");
	cfg.ami_port = peer.port;
	cfg.ami_timeout_ms = 2000;
	cr_assert(eq(int, pbx_ctx_new(&cfg, &ctx, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_secret_key_init(pt.key, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_sealing_publish(ctx, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	snprintf(slug, sizeof(slug), "%s", testenv_slug("me"));
	spec.slug = slug;
	cr_assert(eq(int, pbx_tenant_create(ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	testenv_emergency_route(ctx, slug);
	snprintf(fam, sizeof(fam), "pbxctl/%s/1000", slug);
}

void stop_worker(void)
{
	if (worker > 0) {
		kill(worker, SIGTERM);
		waitpid(worker, NULL, 0);
		worker = -1;
	}
}

void me_teardown(void)
{
	stop_worker();
	pbx_ctx_free(ctx);
	pbx_config_free(&cfg);
	pt_teardown(&pt);
	unlink(events);
}


/* `pbxctl apply worker` on the privileged config, in the background, with the spool. */
void start_worker(void)
{
	worker = fork();
	cr_assert(ge(int, worker, 0));
	if (worker == 0) {
		unsetenv("PBXCTL_DATABASE_URL");
		setenv("PBXCTL_ASTERISK_VOICEMAIL_SPOOL", cfg.voicemail_spool, 1);
		execl(getenv("PBXCTL_BIN"), "pbxctl", "-q", "-c", pt.priv_conf, "apply", "worker",
		      (char *)NULL);
		_exit(127);
	}
}

/* The operator config of @login: op.conf with the database user set to it. */
static void write_eu_conf(void)
{
	FILE *in = fopen(pt.op_conf, "r"), *out;
	char line[2048];

	snprintf(eu_conf, sizeof(eu_conf), "%s", pt_path(&pt, "eu.conf"));
	out = fopen(eu_conf, "w");
	cr_assert(in && out);
	while (fgets(line, sizeof(line), in)) {
		char *q = strstr(line, "url: \"");

		if (q) {
			line[strcspn(line, "\n") - 1] = '\0';
			fprintf(out, "%s user=%s\"\n", line, login);
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	fclose(out);
}

/* User alice (1000, voicemail, PIN 4821) and an end_user login mapped to her. */
void alice(void)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_operator_spec op = { .role = "end_user", .user = "alice", .create_login = true };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	static int n;

	u.username = "alice";
	u.extension = "1000";
	u.voicemail = 1;
	u.pin = "4821";
	cr_assert(eq(int, pbx_user_create(ctx, slug, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	snprintf(login, sizeof(login), "me_eu_%d_%d", (int)getpid(), ++n);
	op.login = login;
	op.tenant = slug;
	cr_assert(eq(int, pbx_operator_add(ctx, &op, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	write_eu_conf();
	cr_assert(eq(int, pbx_selfservice_push(ctx, slug, "alice", &err), 0), "%s", err.message);
}

/*
 * Policy "domestic", the tenant's default: German numbers allowed over a trunk of the
 * tenant, international ones (00..., +44...) blocked by a rule, anything else by no rule.
 */
void domestic_policy(void)
{
	struct pbx_trunk_spec k = PBX_TRUNK_SPEC_INIT;
	struct pbx_policy_spec ps = { .name = "domestic" };
	struct pbx_tenant_spec ts = { .default_policy = "domestic" };
	struct pbx_policy_rule_spec block = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_policy_rule_spec allow = PBX_POLICY_RULE_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char trunk[32];

	snprintf(trunk, sizeof(trunk), "me%d", (int)getpid());
	k.name = trunk;
	k.tenant = slug;
	k.host = "sip.provider.example";
	k.auth = "ip_auth";
	k.match = testenv_unique_match();
	cr_assert(eq(int, pbx_trunk_create(ctx, &k, &rows, &err), 0), "%s", err.message);
	pbx_trunk_rows_free(&rows);
	cr_assert(eq(int, pbx_policy_create(ctx, slug, &ps, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	allow.pattern = "^([+]49|0)[1-9][0-9]{5,12}$";
	allow.action = "allow";
	allow.trunks = trunk;
	cr_assert(eq(int, pbx_policy_rule_add(ctx, slug, "domestic", &allow, &rows, &err), 0),
		  "%s", err.message);
	pbx_rows_free(&rows);
	block.pattern = "^(00|[+])";
	block.action = "block";
	cr_assert(eq(int, pbx_policy_rule_add(ctx, slug, "domestic", &block, &rows, &err), 0),
		  "%s", err.message);
	pbx_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_update(ctx, slug, &ts, &rows, NULL, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
}

char *sql(const char *query)
{
	return pt_sql(&pt, query, slug, NULL);
}

void expect_sql(const char *query, const char *want)
{
	char *v = sql(query);

	cr_assert(eq(str, v, (char *)want), "%s", query);
	free(v);
}


char *astdb(const char *key)
{
	struct pbx_ami_config c = peer_config(&peer, 2000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;
	char *v = NULL;

	cr_assert(eq(int, pbx_ami_connect(&c, &ami, &err), 0), "%s", err.message);
	if (pbx_ami_db_get(ami, fam, key, &v, &err) < 0)
		v = NULL;
	pbx_ami_close(ami);
	return v;
}

void astdb_put(const char *key, const char *value)
{
	struct pbx_ami_config c = peer_config(&peer, 2000);
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami;

	cr_assert(eq(int, pbx_ami_connect(&c, &ami, &err), 0), "%s", err.message);
	cr_assert(eq(int, pbx_ami_db_put(ami, fam, key, value, &err), 0), "%s", err.message);
	pbx_ami_close(ami);
}

/* Run pbxctl as alice's login (its own config: no key, no AMI); the exit status. */
int me(char **out, char **err, const char *a1, const char *a2, const char *a3,
	      const char *a4)
{
	return testenv_run_conf(eu_conf, NULL, out, err, "-o", "json", "me", a1, a2, a3, a4, NULL);
}

/* One line on stderr, naming the field, containing @words. */
void expect_one_line(const char *err, const char *field, const char *words)
{
	const char *nl = strchr(err, '\n');

	cr_assert_not_null(strstr(err, field), "%s", err);
	cr_assert_not_null(strstr(err, words), "%s", err);
	cr_assert(nl == NULL || nl[1] == '\0', "more than one line: %s", err);
}

void inject_event(const char *setting, const char *value)
{
	size_t len;
	char *text = read_fixture("userevent-from-dialplan.recv", &len), buf[2048];
	char *ev = strstr(text, "Event: UserEvent\r\n"), *tenant, *end;

	cr_assert_not_null(ev);
	tenant = strstr(ev, "Tenant: acme\r\n");
	end = strstr(ev, "Setting: ");
	cr_assert(tenant && end);
	snprintf(buf, sizeof(buf), "%.*sTenant: %s\r\nExtension: 1000\r\nSetting: %s\r\n"
		 "Value: %s\r\n\r\n", (int)(tenant - ev), ev, slug, setting, value);
	free(text);
	for (int i = 0; i < 100 && access(events, F_OK) == 0; i++)
		usleep(50 * 1000);
	write_text(events, buf);
}

/* Wait up to @ms for @query to give @want. */
bool eventually(const char *query, const char *want, int ms)
{
	for (int t = 0; t < ms; t += 100) {
		char *v = sql(query);
		bool ok = !strcmp(v, want);

		free(v);
		if (ok)
			return true;
		usleep(100 * 1000);
	}
	return false;
}
