/* SPDX-License-Identifier: MIT */
/*
 * diag under the roles, through the built pbxctl connected as real non-superuser logins:
 * an operator tied to one tenant sees that tenant's diagnostics only (Asterisk's contacts
 * are filtered by the tenant's own endpoints, another tenant is refused), support runs every
 * diag verb, and nothing a support operator tries to change is changed.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbx/device.h"
#include "diag-itest.h"
#include "roles-itest.h"
#include "testenv.h"

static struct diag_env env;
static struct world w;
static char errbuf[4096];

static void setup(void)
{
	diag_env_setup(&env);
	world_make(&w);
}

static void teardown(void)
{
	world_drop(&w);
	diag_env_teardown(&env);
}

TestSuite(diag_roles, .init = setup, .fini = teardown, .timeout = 120);

/* The connection string of @login. */
static const char *url_of(const char *login)
{
	static char url[1200];

	snprintf(url, sizeof(url), "PBXCTL_DATABASE_URL=%s user=%s",
		 getenv("PBXCTL_TEST_DATABASE_URL"), login);
	return url;
}

#define AS(login, status, ...) as_run(login, status, __LINE__, __VA_ARGS__, NULL)

/* Run pbxctl as @login with the env's AMI peer and directories; stdout (caller frees),
 * stderr in errbuf. */
static char *as_run(const char *login, int status, int line, const char *arg, ...)
{
	const char *a[16] = { 0 };
	char *out, *err;
	va_list ap;
	int n = 0, r;

	va_start(ap, arg);
	for (const char *s = arg; s && n < 15; s = va_arg(ap, const char *))
		a[n++] = s;
	va_end(ap);
	r = testenv_run_conf(testenv_config_file(), url_of(login), &out, &err, a[0], a[1], a[2],
			     a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], NULL);
	snprintf(errbuf, sizeof(errbuf), "%s", err);
	free(err);
	cr_assert(eq(int, r, status), "line %d: %s %s %s: exit %d, stderr: %s", line, login,
		  arg, a[1] ? a[1] : "", r, errbuf);
	return out;
}

static void contacts_of_both_tenants(void)
{
	char text[1024];
	long long exp = (long long)time(NULL) + 55;

	snprintf(text, sizeof(text),
		 "%s-d sip:%s-d@192.0.2.10:5062 NonQualified N/A exp=%lld Yealink T46U\n"
		 "%s-d sip:%s-d@198.51.100.20:5062 NonQualified N/A exp=%lld Snom D785\n",
		 w.a, w.a, exp, w.b, w.b, exp);
	write_text(env.site.peer.contacts, text);
}

static void one_line(void)
{
	cr_assert(eq(int, (int)(strchr(errbuf, '\n') - errbuf) + 1, (int)strlen(errbuf)),
		  "one line: %s", errbuf);
}

Test(diag_roles, tenant_admin_sees_only_its_tenants_devices_and_contacts)
{
	char *out;

	contacts_of_both_tenants();
	/* the owner sees both registrations: the peer does answer with B's contact */
	cr_assert(eq(int, testenv_run(&out, NULL, "-o", "json", "diag", "devices", "--refresh",
				      NULL), 0));
	cr_assert(strstr(out, "192.0.2.10") && strstr(out, "198.51.100.20"), "%s", out);
	free(out);
	/* the tenant admin of A: its own tenant by default, without B's contact */
	out = AS(w.ta, 0, "-o", "json", "diag", "devices", "--refresh");
	cr_assert(strstr(out, w.a) && strstr(out, "192.0.2.10"), "%s", out);
	cr_assert(strstr(out, w.b) == NULL && strstr(out, "198.51.100.20") == NULL &&
		  strstr(out, "Snom") == NULL, "%s", out);
	free(out);
	out = AS(w.ta, 0, "-o", "json", "diag", "metrics");
	cr_assert(strstr(out, w.a) && !strstr(out, w.b) && !strstr(out, env.slug), "%s", out);
	free(out);
	/* another tenant, by slug or id, is refused with one line naming the operator */
	free(AS(w.ta, 6, "diag", "devices", "--tenant", w.b));
	cr_assert(strstr(errbuf, "diag devices") && strstr(errbuf, w.ta) &&
		  strstr(errbuf, "sees only tenant"), "%s", errbuf);
	one_line();
	free(AS(w.ta, 6, "-t", w.b_id, "diag", "trunks"));
	free(AS(w.ta, 6, "diag", "health", "--tenant", w.b));
	free(AS(w.ta, 6, "diag", "metrics", "--tenant", w.b));
	free(AS(w.ta, 6, "diag", "drift", "--tenant", w.b));
	free(AS(w.ta, 6, "diag", "watch", "--tenant", w.b));
	/* its own tenant named explicitly is fine */
	free(AS(w.ta, 0, "diag", "devices", "--tenant", w.a_id));
	/* the support operator of A is limited the same way */
	out = AS(w.sup_a, 0, "-o", "json", "diag", "devices");
	cr_assert(strstr(out, "192.0.2.10") && !strstr(out, "198.51.100.20"), "%s", out);
	free(out);
	free(AS(w.sup_a, 6, "diag", "devices", "--tenant", w.b));
}

/* diag watch as @login until SIGTERM: its exit status. */
static int watch_as(const char *login, const char *tenant)
{
	const char *bin = getenv("PBXCTL_BIN");
	struct timespec ts = { 1, 0 };
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		putenv((char *)url_of(login));
		execl(bin, "pbxctl", "-c", testenv_config_file(), "-o", "json", "diag", "watch",
		      tenant ? "--tenant" : (char *)NULL, tenant, (char *)NULL);
		_exit(127);
	}
	nanosleep(&ts, NULL);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(diag_roles, support_runs_every_diag_verb)
{
	char *out;

	contacts_of_both_tenants();
	/* support without a tenant reads every tenant */
	out = AS(w.sup, 0, "-o", "json", "diag", "devices", "--refresh");
	cr_assert(strstr(out, w.a) && strstr(out, w.b), "%s", out);
	free(out);
	free(AS(w.sup, 0, "diag", "devices", "--tenant", w.b));
	free(AS(w.sup, 0, "-o", "json", "diag", "trunks"));
	/* every check runs; nothing was applied for the world's tenant, so realtime fails (one
	 * tenant: the shared test database holds other suites' tenants, sealed to other keys) */
	out = AS(w.sup, 1, "-o", "tsv", "diag", "health", "--tenant", w.a);
	cr_assert(strstr(out, "postgresql\tok") && strstr(out, "ami_login\tok") &&
		  strstr(out, "dialplan\tok") && strstr(out, "realtime_rows\tfail"), "%s", out);
	free(out);
	out = AS(w.sup, 0, "diag", "metrics");
	cr_assert(strstr(out, w.a) && strstr(out, w.b) && strstr(out, "pbxctl_healthy 0"), "%s", out);
	free(out);
	/* nothing was ever applied: drift reports differences (exit 1), not a refusal */
	free(AS(w.sup, 1, "-o", "json", "diag", "drift", "--tenant", w.a));
	cr_assert(strstr(errbuf, "not allowed") == NULL && strstr(errbuf, "permission") == NULL,
		  "%s", errbuf);
	cr_assert(eq(int, watch_as(w.sup, NULL), 0));
	cr_assert(eq(int, watch_as(w.sup_a, NULL), 0));
	/* the support operator of A, every verb of its tenant */
	free(AS(w.sup_a, 0, "-o", "json", "diag", "trunks"));
	free(AS(w.sup_a, 1, "-o", "json", "diag", "health"));
	free(AS(w.sup_a, 0, "diag", "metrics"));
	free(AS(w.sup_a, 1, "-o", "json", "diag", "drift"));
}

/* What a support operator tries to change in tenant $1 (users, devices, trunks, its name,
 * apply requests). */
#define SCOPE_STATE "SELECT (SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id " \
	"WHERE t.slug = $1) || '/' || (SELECT count(*) FROM devices d JOIN tenants t ON " \
	"t.id = d.tenant_id WHERE t.slug = $1) || '/' || (SELECT count(*) FROM trunks WHERE " \
	"name = 'evil-k') || '/' || (SELECT count(*) FROM apply_requests) || '/' || " \
	"(SELECT display_name FROM tenants WHERE slug = $1)"

Test(diag_roles, support_changes_nothing)
{
	char *before = rt_owner_value(SCOPE_STATE, w.a);
	char *after;

	free(AS(w.sup, 6, "-t", w.a, "user", "create", "intruder"));
	cr_assert(strstr(errbuf, "not allowed for operator") && strstr(errbuf, "support"), "%s", errbuf);
	one_line();
	free(AS(w.sup, 6, "-t", w.a, "device", "create", w.ua, "evil"));
	free(AS(w.sup, 6, "-t", w.a, "user", "update", w.ua, "--name", "x"));
	free(AS(w.sup, 6, "trunk", "create", "evil-k", "--tenant", w.a, "--host",
		"h.example.com", "--auth", "ip_auth", "--match", "192.0.2.7/32"));
	free(AS(w.sup, 6, "tenant", "update", w.a, "--name", "Evil"));
	free(AS(w.sup, 6, "-t", w.a, "apply"));
	free(AS(w.sup_a, 6, "-t", w.a, "user", "create", "intruder"));
	free(AS(w.sup_a, 6, "-t", w.a, "apply"));
	after = rt_owner_value(SCOPE_STATE, w.a);
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
}

/* A library context connected as @login (caller frees both). */
static pbx_ctx *ctx_as(const char *login, struct pbx_config *cfg)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ctx *ctx;
	char url[1200];

	cr_assert(eq(int, pbx_config_defaults(cfg, &err), 0), "%s", err.message);
	snprintf(url, sizeof(url), "%s user=%s", getenv("PBXCTL_TEST_DATABASE_URL"), login);
	free(cfg->database_url);
	cfg->database_url = strdup(url);
	cr_assert(eq(int, pbx_ctx_new(cfg, &ctx, &err), 0), "%s", err.message);
	return ctx;
}

/* The tenants of the devices every tenant's listing returned, as "a,b,..." in order. */
static void tenants_listed(pbx_ctx *ctx, char *buf, size_t n)
{
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	buf[0] = '\0';
	cr_assert(eq(int, pbx_device_list(ctx, NULL, NULL, &rows, &err), 0), "%s", err.message);
	for (size_t i = 0; i < rows.n_rows; i++) {
		const char *t = pbx_rows_get(&rows, i, "tenant");

		if (!strcmp(t, w.a) || !strcmp(t, w.b))
			snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "," : "", t);
	}
	pbx_device_rows_free(&rows);
}

/* diag devices reads every tenant's devices in one query (pbx_device_list without a tenant);
 * row-level security, not a loop over tenants, decides what each operator gets. */
Test(diag_roles, every_tenants_devices_in_one_query_scoped_by_row_level_security)
{
	struct pbx_config cfg_ta, cfg_sup;
	pbx_ctx *ta, *sup;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char got[512], want[128];

	/* the owner and support see both tenants, by slug */
	snprintf(want, sizeof(want), "%s,%s", strcmp(w.a, w.b) < 0 ? w.a : w.b,
		 strcmp(w.a, w.b) < 0 ? w.b : w.a);
	tenants_listed(env.ctx, got, sizeof(got));
	cr_assert(eq(str, got, want));
	sup = ctx_as(w.sup, &cfg_sup);
	tenants_listed(sup, got, sizeof(got));
	cr_assert(eq(str, got, want));
	testenv_free(sup, &cfg_sup);
	/* the tenant admin of A gets A's devices only, though it asked for every tenant */
	ta = ctx_as(w.ta, &cfg_ta);
	tenants_listed(ta, got, sizeof(got));
	cr_assert(eq(str, got, w.a));
	/* a user needs its tenant */
	cr_assert(eq(int, pbx_device_list(ta, NULL, w.ua, &rows, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "tenant"));
	testenv_free(ta, &cfg_ta);
}
