/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up for integration tests; see testenv.h.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "pbx/db.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "testenv.h"

static const char *need(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		cr_fatal("%s is not set: run the tests through scripts/test, which starts "
			 "PostgreSQL and MariaDB", name);
	return v;
}

pbx_ctx *testenv_ctx(struct pbx_config *cfg)
{
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_rows rows;
	pbx_ctx *ctx;

	cr_assert_eq(pbx_config_defaults(cfg, &err), 0);
	free(cfg->database_url);
	cfg->database_url = strdup(need("PBXCTL_TEST_DATABASE_URL"));
	free(cfg->rt_socket);
	cfg->rt_socket = strdup(need("PBXCTL_TEST_MARIADB_SOCKET"));
	free(cfg->rt_user);
	cfg->rt_user = strdup(need("PBXCTL_TEST_MARIADB_USER"));
	free(cfg->rt_password);
	cfg->rt_password = strdup(need("PBXCTL_TEST_MARIADB_PASSWORD"));
	free(cfg->rt_database);
	cfg->rt_database = strdup(need("PBXCTL_TEST_MARIADB_DATABASE"));
	cr_assert_eq(pbx_ctx_new(cfg, &ctx, &err), 0);
	if (pbx_db_migrate(ctx, &rows, &err) < 0)
		cr_fatal("migrate failed: %s (%s)", err.message, err.detail);
	pbx_rows_free(&rows);
	return ctx;
}

void testenv_free(pbx_ctx *ctx, struct pbx_config *cfg)
{
	pbx_ctx_free(ctx);
	pbx_config_free(cfg);
}

const char *testenv_slug(const char *prefix)
{
	static char buf[32];
	static unsigned counter;

	snprintf(buf, sizeof(buf), "%.10s-%d-%u", prefix, (int)getpid() % 100000, counter++);
	buf[24] = '\0';
	return buf;
}

const char *testenv_config_file(void)
{
	static char path[256];
	char dir[] = "/tmp/pbxctl-test-XXXXXX";
	FILE *f;

	if (path[0])
		return path;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pbxctl.conf", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "database:\n  url: \"%s\"\nrealtime:\n  socket: \"%s\"\n  user: \"%s\"\n"
		   "  password: \"%s\"\n  database: \"%s\"\nasterisk:\n  config_dir: \"%s/dialplan\"\n"
		   "  voicemail_dir: \"%s/voicemail\"\n  backup_dir: \"%s/backup\"\n"
		   "secrets:\n  key_file: \"%s/pbxctl.key\"\n",
		need("PBXCTL_TEST_DATABASE_URL"), need("PBXCTL_TEST_MARIADB_SOCKET"),
		need("PBXCTL_TEST_MARIADB_USER"), need("PBXCTL_TEST_MARIADB_PASSWORD"),
		need("PBXCTL_TEST_MARIADB_DATABASE"), dir, dir, dir, dir);
	fclose(f);
	return path;
}

static char *slurp(int fd)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t k;

	while ((k = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = '\0';
	return buf;
}

const char *testenv_config_file_as(const char *login)
{
	static char path[256];
	const char *base = testenv_config_file();
	char url[1024];
	FILE *in, *f;
	char line[1024];

	snprintf(path, sizeof(path), "%.200s.%s", base, login);
	snprintf(url, sizeof(url), "%s user=%s", need("PBXCTL_TEST_DATABASE_URL"), login);
	cr_assert_not_null(in = fopen(base, "r"));
	cr_assert_not_null(f = fopen(path, "w"));
	while (fgets(line, sizeof(line), in)) {
		if (!strncmp(line, "  url: ", 7))
			fprintf(f, "  url: \"%s\"\n", url);
		else
			fputs(line, f);
	}
	fclose(in);
	fclose(f);
	return path;
}

/* Drop every PBXCTL_* override, so only the config file speaks. */
static void clean_env(void)
{
	for (char **e = environ; *e;) {
		if (!strncmp(*e, "PBXCTL_", 7)) {
			char name[128];

			snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
			unsetenv(name);
		} else {
			e++;
		}
	}
}

static int vrun(const char *conf, const char *env, char **ret_out, char **ret_err,
		const char *arg, va_list ap)
{
	static char bin[4096];
	const char *argv[64];
	int outp[2], errp[2], status, n = 0;
	char *out, *errs;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s", need("PBXCTL_BIN"));
	argv[n++] = bin;
	argv[n++] = "-c";
	argv[n++] = conf;
	for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	argv[n] = NULL;
	cr_assert_eq(pipe(outp), 0);
	cr_assert_eq(pipe(errp), 0);
	pid = fork();
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		unsetenv("PBXCTL_CONFIG");
		unsetenv("PBXCTL_TENANT");
		if (conf != testenv_config_file())
			clean_env();
		if (env)
			putenv((char *)env);
		setenv("NO_COLOR", "1", 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	/* stderr is small; read stdout first, then stderr. */
	out = slurp(outp[0]);
	errs = slurp(errp[0]);
	close(outp[0]);
	close(errp[0]);
	waitpid(pid, &status, 0);
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	if (ret_err)
		*ret_err = errs;
	else
		free(errs);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int testenv_run(char **ret_out, char **ret_err, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = vrun(testenv_config_file(), NULL, ret_out, ret_err, arg, ap);
	va_end(ap);
	return r;
}

int testenv_run_as(const char *login, char **ret_out, char **ret_err, const char *arg, ...)
{
	char config[256];
	va_list ap;
	int r;

	snprintf(config, sizeof(config), "%s", testenv_config_file_as(login));
	va_start(ap, arg);
	r = vrun(config, NULL, ret_out, ret_err, arg, ap);
	va_end(ap);
	return r;
}

int testenv_run_conf(const char *conf, const char *env, char **ret_out, char **ret_err,
		     const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = vrun(conf, env, ret_out, ret_err, arg, ap);
	va_end(ap);
	return r;
}

const char *testenv_unique_match(void)
{
	static char buf[32];
	static int n;

	n++;
	snprintf(buf, sizeof(buf), "10.%d.%d.%d/32", 128 + ((int)getpid() >> 8 & 127),
		 (int)getpid() & 255, n % 250 + 1);
	return buf;
}

void testenv_emergency_route(pbx_ctx *ctx, const char *slug)
{
	struct pbx_trunk_spec k = PBX_TRUNK_SPEC_INIT;
	struct pbx_tenant_spec t = { 0 };
	static int n;
	char name[32];
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	snprintf(name, sizeof(name), "em%d-%d", (int)getpid(), ++n);
	k.name = name;
	t.emergency_trunk = name;
	k.tenant = slug;
	k.host = "sip.emergency.example";
	k.auth = "ip_auth";
	k.match = testenv_unique_match();
	cr_assert(eq(int, pbx_trunk_create(ctx, &k, &rows, &err), 0), "%s", err.message);
	pbx_trunk_rows_free(&rows);
	cr_assert(eq(int, pbx_tenant_update(ctx, slug, &t, &rows, NULL, &err), 0), "%s",
		  err.message);
	pbx_rows_free(&rows);
}

void testenv_site_open(struct testenv_site *s, const char *tag, bool peer,
		       const char *const *peer_extra)
{
	*s = (struct testenv_site){ .peer = { .pid = -1 } };
	snprintf(s->dir, sizeof(s->dir), "/tmp/pbxctl-%.12s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(s->dir), "mkdtemp %s", s->dir);
	if (peer)
		peer_start_in(&s->peer, s->dir, NULL, peer_extra);
}

void testenv_site_close(struct testenv_site *s)
{
	char cmd[128];

	peer_stop(&s->peer);
	if (!s->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", s->dir);
	s->dir[0] = '\0';
}

const char *testenv_site_path(const struct testenv_site *s, const char *name)
{
	static char buf[8][320];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", s->dir, name);
	return buf[k];
}

static void set(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
}

void testenv_site_config(const struct testenv_site *s, struct pbx_config *cfg)
{
	set(&cfg->config_dir, s->peer.dialplan[0] ? s->peer.dialplan :
		testenv_site_path(s, "dialplan"));
	set(&cfg->voicemail_dir, testenv_site_path(s, "vm"));
	set(&cfg->backup_dir, testenv_site_path(s, "backup"));
	set(&cfg->cache_dir, testenv_site_path(s, "cache"));
	set(&cfg->ami_username, "pbxctl");
	set(&cfg->ami_secret, "secret");
	cfg->ami_port = s->peer.port;
	cfg->ami_timeout_ms = 2000;
}

pbx_ctx *testenv_site_ctx(const struct testenv_site *s, struct pbx_config *cfg)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_ctx *ctx = testenv_ctx(cfg);

	testenv_site_config(s, cfg);
	set(&cfg->key_file, testenv_site_path(s, "key"));
	cr_assert(eq(int, pbx_secret_key_init(cfg->key_file, &err), 0), "%s", err.message);
	return ctx;
}

char *testenv_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}
