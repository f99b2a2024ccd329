/* SPDX-License-Identifier: MIT */
/*
 * What the last successful apply left deployed, per tenant (tenant 0, "@global": the
 * inbound router and the rows of global trunks): the change generation it read, a digest
 * of each generated file and the digest of the tenant's realtime rows as MariaDB held them
 * after the verify. An apply first asks whether anything moved since: no generation moved,
 * every file hashes to its digest, no unknown generated file appeared and MariaDB's rows
 * digest the same. Then nothing needs planning, and the apply ends without reading any
 * user, device or row. A file edited or a row changed behind pbxctl's back changes a
 * digest, so the next apply plans, finds and repairs it as before; when only one tenant
 * moved, the apply plans that tenant alone.
 *
 * Reading the rows' digest reads every owned row. Each record therefore also keeps the
 * change mark of the MariaDB tables taken just before its digest was read
 * (pbx_realtime_mark): while MariaDB reports the same mark, no row changed and the digest
 * is not read. A record whose mark is stale is compared by its digest, and given today's
 * mark when it matched.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbx-config.h"
#include "pbx/dialplan-routes.h"
#include "pbx/realtime.h"
#include "apply-internal.h"
#include "ctx.h"
#include "files.h"
#include "pg.h"

#define DIGEST_HEX (2 * 16 + 1)

/* What else the generated text depends on: the generator's version and where it wrote. */
static char *setup_of(pbx_ctx *ctx)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	char *s = NULL;

	if (pbx_str_appendf(&s, "pbxctl %s\t%s\t%s", PBX_VERSION, cfg->config_dir,
			    cfg->voicemail_dir) < 0)
		return NULL;
	return s;
}

static void digest_hex(const char *text, char hex[DIGEST_HEX])
{
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, strlen(text), NULL, 0);
	sodium_bin2hex(hex, DIGEST_HEX, h, sizeof(h));
}

#define STAT_MAX 96

/*
 * What changes whenever a file is written, replaced or edited: its device, inode, size,
 * modification and change times (the change time no user can set). "" when unknown.
 */
static void stat_of(const char *path, char out[STAT_MAX])
{
	struct stat st;

	out[0] = '\0';
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		snprintf(out, STAT_MAX, "%lx:%lx:%lld:%lld.%09ld:%lld.%09ld",
			 (unsigned long)st.st_dev, (unsigned long)st.st_ino, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* Does the file at @path hash to @hex? */
static bool file_hashes_to(const char *path, const char *hex)
{
	char *text = NULL, got[DIGEST_HEX];
	pbx_error e = PBX_ERROR_INIT;
	bool same = false;

	if (pbx_file_read(path, &text, &e) == 0 && text) {
		digest_hex(text, got);
		same = !memcmp(got, hex, DIGEST_HEX - 1);
	}
	free(text);
	return same;
}

/*
 * Does every "path<TAB>digest[<TAB>stat]" line of @files name a file that is as recorded
 * (with @hash; without, only the paths are taken)? A file whose stat is still the one
 * recorded is not read; any other is read and hashed. Each path is also marked in @known
 * (a newline-separated list) for the directory scan.
 */
static bool files_same(const char *files, bool hash, char **known)
{
	const char *p = files;
	bool same = true;

	while (*p) {
		const char *tab = strchr(p, '\t'), *nl = tab ? strchr(tab, '\n') : NULL;
		const char *after = tab ? tab + DIGEST_HEX : NULL;
		char *path, cur[STAT_MAX];

		if (!tab || !nl || nl < after || (*after != '\n' && *after != '\t'))
			return false;
		if (!(path = strndup(p, (size_t)(tab - p))))
			return false;
		if (pbx_str_appendf(known, "%s\n", path) < 0)
			same = false;
		if (hash && same) {
			if (*after == '\t')
				stat_of(path, cur);
			if (!(*after == '\t' && cur[0] && strlen(cur) == (size_t)(nl - after - 1) &&
			      !memcmp(cur, after + 1, strlen(cur))))
				same = file_hashes_to(path, tab + 1);
		}
		free(path);
		p = nl + 1;
	}
	return same;
}

/* Is there a generated file in @dir that no record names (a new tenant's leftover)? */
static bool unknown_generated_file(const char *dir, const char *known)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *path = NULL, *text = NULL, *marker;
		pbx_error err = PBX_ERROR_INIT;
		const char *hit;

		if (len < 6 || strcmp(e->d_name + len - 5, ".conf") ||
		    pbx_str_appendf(&path, "%s/%s", dir, e->d_name) < 0)
			continue;
		hit = known ? strstr(known, path) : NULL;
		while (hit && !((hit == known || hit[-1] == '\n') && hit[strlen(path)] == '\n'))
			hit = strstr(hit + 1, path);
		if (!hit && pbx_file_read(path, &text, &err) == 0 &&
		    (marker = pbx_apply_file_marker(text))) {
			free(marker);
			found = true;   /* ours, but no record names it */
		}
		free(text);
		free(path);
	}
	closedir(d);
	return found;
}

/* Columns of the check's query. */
enum { C_OWNER, C_GEN_OK, C_FILES, C_ROWS, C_MARK, C_ID, C_GONE };

/* A scoped apply never touches the global rows: their digest is not its business. */
static bool global_in_scoped(const char *tenant, PGresult *res, int i)
{
	return tenant && !strcmp(PQgetvalue(res, i, C_OWNER), PBX_RT_OWNER_GLOBAL);
}

/* Reading every owner's digest costs a scan of every owned row: above this many stale
 * records, one scan; up to it, one indexed query per stale owner. */
#define STALE_ONE_BY_ONE 16

/* Must record @i of @res be compared by its digest: still believed, in scope, and its
 * mark not today's @mark? */
static bool stale_record(const char *tenant, const char *mark, PGresult *res, const bool *ok,
			 int i)
{
	return ok[i] && !global_in_scoped(tenant, res, i) &&
	       !(mark && !strcmp(mark, PQgetvalue(res, i, C_MARK)));
}

/* Is every owner of @owners named by a record of @res? */
static bool owners_named(PGresult *res, char **owners, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool named = false;

		for (int j = 0; j < PQntuples(res) && !named; j++)
			named = !strcmp(owners[i], PQgetvalue(res, j, C_OWNER));
		if (!named)
			return false;
	}
	return true;
}

/*
 * Mark in @ok which records still match MariaDB's rows: those whose mark is today's
 * without reading a row, the others (stale) by their digest, and give those that matched
 * today's mark, so the next apply reads no digest. A few stale records are read owner by
 * owner; many, or a scoped apply's, in one query. Rows of an owner that no record names
 * clear *@extra_ok.
 */
static int rows_same(pbx_ctx *ctx, const char *tenant, PGresult *res, bool *ok,
		     bool *extra_ok, pbx_error *err)
{
	struct pbx_rt_digest *dig = NULL;
	struct pbx_realtime *rt = pbx_ctx_realtime(ctx, err);
	int rows = PQntuples(res);
	const char **stale = calloc((size_t)rows + 1, sizeof(*stale));
	struct pbx_pg_array ids;
	char *mark = NULL, **owners = NULL;
	size_t n_dig = 0, n_stale = 0, n_owners = 0;
	bool one_by_one;
	int r;

	if (!stale)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (!rt || (r = pbx_realtime_mark(rt, &mark, err)) < 0) {
		free(stale);
		return rt ? r : err->code;
	}
	for (int i = 0; i < rows; i++)
		if (stale_record(tenant, mark, res, ok, i))
			stale[n_stale++] = PQgetvalue(res, i, C_OWNER);
	if (n_stale == 0) {
		free(stale);
		free(mark);
		return 0;
	}
	one_by_one = !tenant && n_stale <= STALE_ONE_BY_ONE;
	/* The digests are read after the mark: a change between them changes the mark. */
	r = pbx_realtime_digests(rt, tenant ? &tenant : stale, tenant ? 1 : one_by_one ? n_stale : 0,
				 &dig, &n_dig, err);
	if (r == 0 && one_by_one)
		r = pbx_realtime_owners(rt, &owners, &n_owners, err);
	if (r < 0) {
		free(stale);
		free(mark);
		pbx_rt_digests_free(dig, n_dig);
		return r;
	}
	r = pbx_pg_array_open(&ids);
	for (int i = 0; i < rows; i++) {
		const char *owner = PQgetvalue(res, i, C_OWNER);

		/* Only the stale ones are compared: the others' marks prove them unchanged. */
		if (!stale_record(tenant, mark, res, ok, i))
			continue;
		ok[i] = !strcmp(pbx_rt_digest_of(dig, n_dig, owner), PQgetvalue(res, i, C_ROWS));
		if (ok[i] && mark)
			pbx_pg_array_add(&ids, PQgetvalue(res, i, C_ID));
	}
	/* Rows of an owner that no tenant and no record names. */
	if (one_by_one) {
		*extra_ok = owners_named(res, owners, n_owners);
	} else if (!tenant) {
		size_t n_owned = 0;

		for (int i = 0; i < rows; i++)
			n_owned += pbx_rt_digest_of(dig, n_dig, PQgetvalue(res, i, C_OWNER))[0] != '\0';
		*extra_ok = n_owned == n_dig;
	}
	pbx_rt_owners_free(owners, n_owners);
	pbx_rt_digests_free(dig, n_dig);
	free(stale);
	r |= pbx_pg_array_close(&ids);
	if (r == 0 && ids.n) {
		const char *p[2] = { ids.text, mark };
		pbx_error e = PBX_ERROR_INIT;
		PGconn *pg = pbx_ctx_pg(ctx, &e);

		/* Only a shortcut for the next apply: a failure here changes nothing. */
		if (pg)
			pbx_pg_exec(pg, "UPDATE apply_applied SET rt_mark = $2 "
				    "WHERE tenant_id = ANY($1::bigint[])", 2, p, "apply", &e);
	}
	free(ids.text);
	free(mark);
	return 0;
}

int pbx_applied_check(pbx_ctx *ctx, const char *tenant, struct pbx_applied_check *out,
		      pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	const char *p[2] = { tenant, NULL };
	char *setup = setup_of(ctx), *known = NULL;
	PGresult *res = NULL;
	bool *ok = NULL, others_ok = true, extra_ok = true;
	int n, changed = -1, n_changed = 0, r = 0;
	PGconn *pg;

	*out = (struct pbx_applied_check){ .same = false };
	if (!setup)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	p[1] = setup;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		free(setup);
		return err->code;
	}
	/* Every tenant in scope, the shared part, and records of tenants that are gone. */
	res = pbx_pg_query(pg,
		"SELECT t.slug, COALESCE(c.gen, 0) = a.gen AND a.setup = $2, a.files, a.rows_digest, "
		"a.rt_mark, t.id, false FROM tenants t "
		"LEFT JOIN apply_changes c ON c.tenant_id = t.id "
		"LEFT JOIN apply_applied a ON a.tenant_id = t.id WHERE $1::text IS NULL OR t.slug = $1 "
		"UNION ALL SELECT '" PBX_RT_OWNER_GLOBAL "', COALESCE((SELECT gen FROM apply_changes "
		"WHERE tenant_id = 0), 0) = a.gen AND a.setup = $2, a.files, a.rows_digest, a.rt_mark, "
		"0, false FROM (SELECT 1) x LEFT JOIN apply_applied a ON a.tenant_id = 0 "
		"UNION ALL SELECT a.owner, false, '', '', NULL, a.tenant_id, true FROM apply_applied a "
		"WHERE $1::text IS NULL AND a.tenant_id <> 0 "
		"AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id)",
		2, p, "apply", err);
	free(setup);
	if (!res)
		return err->code;
	n = PQntuples(res);
	if (!(ok = calloc((size_t)n + 1, sizeof(*ok)))) {
		PQclear(res);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		ok[i] = PQgetvalue(res, i, C_GEN_OK)[0] == 't';
		ok[i] = files_same(PQgetvalue(res, i, C_FILES), ok[i], &known) && ok[i];
	}
	if (!tenant)
		others_ok = !unknown_generated_file(cfg->config_dir, known) &&
			    !unknown_generated_file(cfg->voicemail_dir, known);
	free(known);
	if (others_ok && (r = rows_same(ctx, tenant, res, ok, &extra_ok, err)) < 0)
		goto done;
	for (int i = 0; i < n; i++) {
		bool global = !strcmp(PQgetvalue(res, i, C_OWNER), PBX_RT_OWNER_GLOBAL);

		if (ok[i])
			continue;
		n_changed++;
		/* the shared part, or a tenant that is gone: the whole plan */
		if (global || PQgetvalue(res, i, C_GONE)[0] == 't')
			others_ok = false;
		changed = i;
	}
	if (tenant && n < 2)
		others_ok = false;   /* no such tenant: the plan reports it */
	out->same = others_ok && extra_ok && n_changed == 0;
	if (!tenant && others_ok && extra_ok && n_changed == 1 &&
	    !(out->only = strdup(PQgetvalue(res, changed, C_OWNER))))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
done:
	free(ok);
	PQclear(res);
	return r;
}

/* The "path<TAB>digest" lines of what @owner's artifacts left on disk. */
static int files_of(const struct pbx_apply_plan *plan, const char *owner, char **out)
{
	size_t len;
	FILE *f = open_memstream(out, &len);

	if (!f)
		return -1;
	for (size_t i = 0; i < plan->n_artifacts; i++) {
		const struct pbx_apply_artifact *a = &plan->artifacts[i];
		const char *slug = strcmp(a->slug, PBX_DP_INBOUND_OWNER) ? a->slug :
				   PBX_RT_OWNER_GLOBAL;
		char hex[DIGEST_HEX], st[STAT_MAX];

		if (!a->new_text || strcmp(slug, owner))
			continue;
		digest_hex(a->new_text, hex);
		/* The stat before the read: an edit after it changes the stat, one before it
		 * the text, and then no stat is kept and the next check reads the file. */
		stat_of(a->path, st);
		if (st[0] && !file_hashes_to(a->path, hex))
			st[0] = '\0';
		fprintf(f, "%s\t%s%s%s\n", a->path, hex, st[0] ? "\t" : "", st);
	}
	return fclose(f) ? -1 : 0;
}

int pbx_applied_record(pbx_ctx *ctx, const struct pbx_apply_plan *plan, const char *tenant,
		       long job, pbx_error *err)
{
	enum { A_ID, A_OWNER, A_GEN, A_FILES, A_ROWS, A_N };
	struct pbx_pg_array col[A_N];
	char *setup = setup_of(ctx), *mark = NULL, jobs[24], num[24];
	struct pbx_rt_digest *dig = NULL;
	size_t n_dig = 0;
	struct pbx_realtime *rt;
	PGconn *pg;
	int r = 0;

	if (!setup)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (!(pg = pbx_ctx_pg(ctx, err)) || !(rt = pbx_ctx_realtime(ctx, err))) {
		free(setup);
		return err->code;
	}
	/* The mark before the digest: a change between them changes the mark. */
	if ((r = pbx_realtime_mark(rt, &mark, err)) < 0 ||
	    (r = pbx_realtime_digests(rt, &tenant, tenant ? 1 : 0, &dig, &n_dig, err)) < 0) {
		free(mark);
		free(setup);
		return r;
	}
	for (int j = 0; j < A_N; j++)
		r |= pbx_pg_array_open(&col[j]);
	/* The global record only from full applies: a scoped one leaves global rows alone. */
	for (size_t i = 0; r == 0 && i < plan->n_tenants + !tenant; i++) {
		const struct pbx_apply_tenant *t = i < plan->n_tenants ? &plan->tenants[i] : NULL;
		const char *owner = t ? t->slug : PBX_RT_OWNER_GLOBAL;
		char *f = NULL;

		if (t && t->skipped)
			continue;
		snprintf(num, sizeof(num), "%ld", t ? t->id : 0L);
		pbx_pg_array_add(&col[A_ID], num);
		pbx_pg_array_add(&col[A_OWNER], owner);
		snprintf(num, sizeof(num), "%lld", t ? t->gen : plan->shared_gen);
		pbx_pg_array_add(&col[A_GEN], num);
		r |= files_of(plan, owner, &f);
		pbx_pg_array_add(&col[A_FILES], f ? f : "");
		pbx_pg_array_add(&col[A_ROWS], pbx_rt_digest_of(dig, n_dig, owner));
		free(f);
	}
	pbx_rt_digests_free(dig, n_dig);
	for (int j = 0; j < A_N; j++)
		r |= pbx_pg_array_close(&col[j]);
	if (r != 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	} else if (col[A_ID].n) {
		const char *p[9] = { NULL };

		snprintf(jobs, sizeof(jobs), "%ld", job);
		p[0] = col[A_ID].text, p[1] = col[A_OWNER].text, p[2] = col[A_GEN].text;
		p[3] = col[A_FILES].text, p[4] = col[A_ROWS].text;
		p[5] = setup, p[6] = jobs, p[7] = tenant ? "f" : "t", p[8] = mark;
		r = pbx_pg_exec(pg,
			"WITH gone AS (DELETE FROM apply_applied a WHERE $8::boolean AND a.tenant_id <> 0 "
			"AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id)) "
			"INSERT INTO apply_applied (tenant_id, owner, gen, files, rows_digest, setup, "
			"job_id, rt_mark) SELECT u.*, $6, $7::bigint, $9 FROM unnest($1::bigint[], "
			"$2::text[], $3::bigint[], $4::text[], $5::text[]) u ON CONFLICT (tenant_id) DO "
			"UPDATE SET owner = EXCLUDED.owner, gen = EXCLUDED.gen, files = EXCLUDED.files, "
			"rows_digest = EXCLUDED.rows_digest, setup = EXCLUDED.setup, "
			"job_id = EXCLUDED.job_id, rt_mark = EXCLUDED.rt_mark, applied_at = now()",
			9, p, "apply", err);
	}
	for (int j = 0; j < A_N; j++)
		free(col[j].text);
	free(setup);
	free(mark);
	return r;
}
