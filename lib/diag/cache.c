/* SPDX-License-Identifier: MIT */
/*
 * The PJSIP status cache: a short-lived CLI cannot keep Asterisk's answers in memory, so the
 * contacts and outbound registrations of one AMI round trip are kept in a file, one per AMI
 * server, in a directory only the invoking user can write (0700, owned by it), replaced
 * atomically by apply's safe-path writer (O_EXCL temporary file, rename) and trusted for
 * PBX_DIAG_CACHE_TTL seconds. apply removes it after every reload, since registrations and
 * contacts change with the rows.
 * Format: a version line, "fetched UNIXTIME", then one tab-separated line per contact
 * ("c") or registration ("r"), values escaped as in tsv output (\t \n \\).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbx/config.h"
#include "pbx/diag.h"
#include "ctx.h"
#include "../apply/files.h"

#define CACHE_MAGIC "pbxctl-pjsip-cache 1"
#define CACHE_MAX (64 * 1024 * 1024)

static int cache_dir(const struct pbx_config *cfg, char *buf, size_t n)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int k;

	if (cfg->cache_dir && cfg->cache_dir[0])
		k = snprintf(buf, n, "%s", cfg->cache_dir);
	else if (access("/run/pbxctl", W_OK | X_OK) == 0)
		k = snprintf(buf, n, "/run/pbxctl");
	else if (xdg && xdg[0] == '/')
		k = snprintf(buf, n, "%s/pbxctl", xdg);
	else
		k = snprintf(buf, n, "/tmp/pbxctl-%u", (unsigned)geteuid());
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int pbx_diag_cache_path(const struct pbx_config *cfg, char *buf, size_t n, pbx_error *err)
{
	char dir[3072], host[256];
	const char *h = cfg->ami_host ? cfg->ami_host : "127.0.0.1";
	size_t i;
	int k;

	/* The host becomes part of a file name: only [A-Za-z0-9.-], the rest as '_'. */
	for (i = 0; h[i] && i < sizeof(host) - 1; i++)
		host[i] = (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
			  (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' ? h[i] : '_';
	host[i] = '\0';
	if (cache_dir(cfg, dir, sizeof(dir)) < 0)
		return pbx_errorf(err, PBX_EINVALID, "configuration", "diag.cache_dir",
				  "diag.cache_dir is too long");
	k = snprintf(buf, n, "%s/pjsip-%s-%d.cache", dir, host,
		     cfg->ami_port ? cfg->ami_port : PBX_AMI_DEFAULT_PORT);
	if (k < 0 || (size_t)k >= n)
		return pbx_errorf(err, PBX_EINVALID, "configuration", "diag.cache_dir",
				  "diag.cache_dir is too long");
	return 0;
}

/* ---- escaping ---- */

static void put(FILE *f, const char *s)
{
	fputc('\t', f);
	for (; s && *s; s++) {
		if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

/* Split @line (modified) at tabs into at most @max unescaped fields. */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		char *end = strchr(p, '\t'), *o = p;

		if (end)
			*end = '\0';
		fields[n++] = p;
		for (char *q = p; *q; q++) {
			if (*q == '\\' && q[1]) {
				q++;
				*o++ = *q == 't' ? '\t' : *q == 'n' ? '\n' : *q;
			} else {
				*o++ = *q;
			}
		}
		*o = '\0';
		if (!end)
			break;
		p = end + 1;
	}
	return n;
}

/* ---- reading ---- */

static bool dir_is_private(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

static char *dir_of(const char *path)
{
	char *d = strdup(path), *slash = d ? strrchr(d, '/') : NULL;

	if (slash)
		*slash = '\0';
	return d;
}

static char *dup_or_oom(const char *s, bool *oom)
{
	char *d = strdup(s);

	if (!d)
		*oom = true;
	return d;
}

/* Parse the cache text into @p; false when it is not a complete, fresh cache. */
static bool parse(char *text, long long now, struct pbx_diag_pjsip *p)
{
	size_t nc = 0, nr = 0, lines = 0;
	bool oom = false;
	char *save = NULL, *line;

	line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, CACHE_MAGIC) != 0)
		return false;
	line = strtok_r(NULL, "\n", &save);
	if (!line || sscanf(line, "fetched %lld", &p->fetched) != 1 || p->fetched > now ||
	    now - p->fetched >= PBX_DIAG_CACHE_TTL)
		return false;
	for (char *q = save; q && *q; q++)
		lines += *q == '\n';
	p->contacts = calloc(lines + 1, sizeof(*p->contacts));
	p->regs = calloc(lines + 1, sizeof(*p->regs));
	if (!p->contacts || !p->regs)
		return false;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *f[10];
		size_t n = split(line, f, 10);

		if (n == 10 && !strcmp(f[0], "c")) {
			struct pbx_ami_contact *c = &p->contacts[nc++];

			c->aor = dup_or_oom(f[1], &oom);
			c->endpoint = dup_or_oom(f[2], &oom);
			c->uri = dup_or_oom(f[3], &oom);
			c->via_addr = dup_or_oom(f[4], &oom);
			c->via_port = atoi(f[5]);
			c->user_agent = dup_or_oom(f[6], &oom);
			c->expiration_time = atoll(f[7]);
			c->status = dup_or_oom(f[8], &oom);
			c->roundtrip_usec = atoll(f[9]);
		} else if (n == 7 && !strcmp(f[0], "r")) {
			struct pbx_ami_registration *g = &p->regs[nr++];

			g->name = dup_or_oom(f[1], &oom);
			g->server_uri = dup_or_oom(f[2], &oom);
			g->client_uri = dup_or_oom(f[3], &oom);
			g->endpoint = dup_or_oom(f[4], &oom);
			g->status = dup_or_oom(f[5], &oom);
			g->next_reg = atoll(f[6]);
		} else if (n == 1 && !strcmp(f[0], "end")) {
			p->n_contacts = nc;
			p->n_regs = nr;
			return !oom;
		} else {
			break;
		}
	}
	p->n_contacts = nc;
	p->n_regs = nr;
	return false;   /* no "end" line: cut short */
}

static bool cache_read(const char *path, long long now, struct pbx_diag_pjsip *p)
{
	char *dir = dir_of(path), *text = NULL;
	struct stat st;
	bool ok = false;
	int fd = -1;

	if (!dir || !dir_is_private(dir))
		goto cleanup;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size <= 0 || st.st_size > CACHE_MAX)
		goto cleanup;
	text = malloc((size_t)st.st_size + 1);
	if (!text || read(fd, text, (size_t)st.st_size) != st.st_size)
		goto cleanup;
	text[st.st_size] = '\0';
	ok = parse(text, now, p);
	if (!ok)
		pbx_diag_pjsip_free(p);
cleanup:
	if (fd >= 0)
		close(fd);
	free(text);
	free(dir);
	return ok;
}

/* ---- writing ---- */

/* The cache text of @p (malloc'd into *@ret). */
static int cache_text(const struct pbx_diag_pjsip *p, char **ret, pbx_error *err)
{
	size_t len = 0;
	FILE *f = open_memstream(ret, &len);

	if (!f)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	fprintf(f, "%s\nfetched %lld\n", CACHE_MAGIC, p->fetched);
	for (size_t i = 0; i < p->n_contacts; i++) {
		const struct pbx_ami_contact *c = &p->contacts[i];
		char num[64];

		fputc('c', f);
		put(f, c->aor);
		put(f, c->endpoint);
		put(f, c->uri);
		put(f, c->via_addr);
		snprintf(num, sizeof(num), "%d", c->via_port);
		put(f, num);
		put(f, c->user_agent);
		snprintf(num, sizeof(num), "%lld", c->expiration_time);
		put(f, num);
		put(f, c->status);
		snprintf(num, sizeof(num), "%lld", c->roundtrip_usec);
		put(f, num);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->n_regs; i++) {
		const struct pbx_ami_registration *g = &p->regs[i];
		char num[32];

		fputc('r', f);
		put(f, g->name);
		put(f, g->server_uri);
		put(f, g->client_uri);
		put(f, g->endpoint);
		put(f, g->status);
		snprintf(num, sizeof(num), "%lld", g->next_reg);
		put(f, num);
		fputc('\n', f);
	}
	fputs("end\n", f);
	if (ferror(f) | (fclose(f) != 0)) {
		free(*ret);
		*ret = NULL;
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	return 0;
}

/*
 * Replace the cache file through apply's safe-path writer: the directory is reached without
 * following a link and made 0700 when missing, must belong to this user and be closed to
 * others, and the file is a 0600 temporary file created with O_EXCL, then renamed.
 */
static int cache_write(const char *path, const struct pbx_diag_pjsip *p, pbx_error *err)
{
	char *dir = dir_of(path), *text = NULL;
	const char *name = strrchr(path, '/');
	struct stat st;
	int dfd = -1, r;

	if (!dir || !name) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	if ((r = pbx_dir_open(dir, true, 0700, &dfd, err)) < 0)
		goto cleanup;
	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		r = pbx_errorf(err, PBX_EPERM, "cache", NULL,
			       "%s is not a directory owned by this user and closed to others; not caching",
			       dir);
		goto cleanup;
	}
	if ((r = cache_text(p, &text, err)) < 0)
		goto cleanup;
	r = pbx_file_write_at(dfd, dir, name + 1, text, 0600, err);
cleanup:
	if (dfd >= 0)
		close(dfd);
	free(text);
	free(dir);
	return r;
}

void pbx_diag_pjsip_free(struct pbx_diag_pjsip *p)
{
	pbx_ami_contacts_free(p->contacts, p->n_contacts);
	pbx_ami_registrations_free(p->regs, p->n_regs);
	*p = (struct pbx_diag_pjsip){ 0 };
}

int pbx_diag_pjsip_load(pbx_ctx *ctx, bool refresh, struct pbx_diag_pjsip *ret, pbx_error *err)
{
	struct pbx_diag_pjsip p = { 0 };
	long long now = (long long)time(NULL);
	char path[4096];
	pbx_error e = PBX_ERROR_INIT;
	struct pbx_ami *ami;
	bool have_path;
	int r;

	have_path = pbx_diag_cache_path(pbx_ctx_config(ctx), path, sizeof(path), &e) == 0;
	if (have_path && !refresh && cache_read(path, now, &p)) {
		p.cached = true;
		*ret = p;
		return 0;
	}
	if (!(ami = pbx_ctx_ami(ctx, err)))
		return err->code;
	if ((r = pbx_ami_contacts(ami, &p.contacts, &p.n_contacts, err)) < 0 ||
	    (r = pbx_ami_registrations_outbound(ami, &p.regs, &p.n_regs, err)) < 0) {
		pbx_diag_pjsip_free(&p);
		return r;
	}
	p.fetched = now;
	if (!have_path || cache_write(path, &p, &e) < 0)
		pbx_log(ctx, PBX_LOG_INFO, "status cache not written: %s", e.message);
	*ret = p;
	return 0;
}

void pbx_diag_cache_invalidate(pbx_ctx *ctx)
{
	char path[4096];
	pbx_error e = PBX_ERROR_INIT;

	if (pbx_diag_cache_path(pbx_ctx_config(ctx), path, sizeof(path), &e) < 0)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		pbx_log(ctx, PBX_LOG_WARN, "cannot remove the status cache %s: %s", path,
			strerror(errno));
}
