/* SPDX-License-Identifier: MIT */
/*
 * What the last successful apply left deployed, per tenant (tenant 0, "@global": the
 * inbound router and the rows of global trunks): the change generation it read, a digest
 * of each generated file and the digest of the tenant's realtime rows as MariaDB held them
 * after the verify. An apply first asks whether anything moved since: no generation moved,
 * every file hashes to its digest, no unknown generated file appeared and MariaDB's rows
 * digest the same. Then nothing needs planning, and the apply ends without reading any
 * user, device or row. A file edited or a row changed behind pbxctl's back changes a
 * digest, so the next apply plans, finds and repairs it as before.
 */
#include <dirent.h>
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

/*
 * Does every "path<TAB>digest" line of @files name a file that hashes to its digest? Each
 * path is also marked in @known (a newline-separated list) for the directory scan.
 */
static bool files_same(const char *files, char **known)
{
	const char *p = files;

	while (*p) {
		const char *tab = strchr(p, '\t'), *nl = tab ? strchr(tab, '\n') : NULL;
		char *path, *text = NULL, hex[DIGEST_HEX];
		pbx_error e = PBX_ERROR_INIT;
		bool same;

		if (!tab || !nl || nl - tab - 1 != DIGEST_HEX - 1)
			return false;
		if (!(path = strndup(p, (size_t)(tab - p))))
			return false;
		if (pbx_file_read(path, &text, &e) < 0 || !text) {
			free(path);
			free(text);
			return false;
		}
		digest_hex(text, hex);
		same = !memcmp(hex, tab + 1, DIGEST_HEX - 1);
		free(text);
		if (pbx_str_appendf(known, "%s\n", path) < 0)
			same = false;
		free(path);
		if (!same)
			return false;
		p = nl + 1;
	}
	return true;
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

int pbx_applied_unchanged(pbx_ctx *ctx, const char *tenant, bool *same, pbx_error *err)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	const char *p[2] = { tenant, NULL };
	struct pbx_rt_digest *dig = NULL;
	size_t n_dig = 0, n_owned = 0;
	char *setup = setup_of(ctx), *known = NULL;
	struct pbx_realtime *rt;
	PGresult *res = NULL;
	PGconn *pg;
	bool ok = true;
	int r = 0;

	*same = false;
	if (!setup)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	p[1] = setup;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		free(setup);
		return err->code;
	}
	/* Every tenant in scope, the shared part, and records of tenants that are gone. */
	res = pbx_pg_query(pg,
		"SELECT t.slug, COALESCE(c.gen, 0) = a.gen AND a.setup = $2, a.files, a.rows_digest "
		"FROM tenants t LEFT JOIN apply_changes c ON c.tenant_id = t.id "
		"LEFT JOIN apply_applied a ON a.tenant_id = t.id WHERE $1::text IS NULL OR t.slug = $1 "
		"UNION ALL SELECT '" PBX_RT_OWNER_GLOBAL "', COALESCE((SELECT gen FROM apply_changes "
		"WHERE tenant_id = 0), 0) = a.gen AND a.setup = $2, a.files, a.rows_digest "
		"FROM (SELECT 1) x LEFT JOIN apply_applied a ON a.tenant_id = 0 "
		"UNION ALL SELECT a.owner, false, '', '' FROM apply_applied a WHERE $1::text IS NULL "
		"AND a.tenant_id <> 0 AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id)",
		2, p, "apply", err);
	free(setup);
	if (!res)
		return err->code;
	if (tenant && PQntuples(res) < 2)
		ok = false;   /* no such tenant: the plan reports it */
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = PQgetvalue(res, i, 1)[0] == 't';
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = files_same(PQgetvalue(res, i, 2), &known);
	if (ok && !tenant)
		ok = !unknown_generated_file(cfg->config_dir, known) &&
		     !unknown_generated_file(cfg->voicemail_dir, known);
	free(known);
	if (ok) {
		if (!(rt = pbx_ctx_realtime(ctx, err)) ||
		    (r = pbx_realtime_digests(rt, &dig, &n_dig, err)) < 0) {
			PQclear(res);
			return rt ? r : err->code;
		}
		for (int i = 0; ok && i < PQntuples(res); i++) {
			const char *owner = PQgetvalue(res, i, 0);

			/* A scoped apply never touches the global rows: not its business. */
			if (tenant && !strcmp(owner, PBX_RT_OWNER_GLOBAL))
				continue;
			ok = !strcmp(pbx_rt_digest_of(dig, n_dig, owner), PQgetvalue(res, i, 3));
			n_owned += pbx_rt_digest_of(dig, n_dig, owner)[0] != '\0';
		}
		/* Rows of an owner that no tenant and no record names. */
		if (ok && !tenant && n_owned != n_dig)
			ok = false;
		pbx_rt_digests_free(dig, n_dig);
	}
	PQclear(res);
	*same = ok;
	return 0;
}

/* A PostgreSQL array literal of text: {"a","b"} with " and \ escaped. */
static int array_add(char **arr, const char *v)
{
	int r = pbx_str_appendf(arr, "%s\"", *arr ? "," : "{");

	for (; r == 0 && *v; v++)
		r = pbx_str_appendf(arr, (*v == '"' || *v == '\\') ? "\\%c" : "%c", *v);
	return r < 0 ? r : pbx_str_appendf(arr, "\"");
}

/* The "path<TAB>digest" lines of what @owner's artifacts left on disk. */
static int files_of(const struct pbx_apply_plan *plan, const char *owner, char **out)
{
	int r = pbx_str_appendf(out, "%s", "");

	for (size_t i = 0; r == 0 && i < plan->n_artifacts; i++) {
		const struct pbx_apply_artifact *a = &plan->artifacts[i];
		const char *slug = strcmp(a->slug, PBX_DP_INBOUND_OWNER) ? a->slug :
				   PBX_RT_OWNER_GLOBAL;
		char hex[DIGEST_HEX];

		if (!a->new_text || strcmp(slug, owner))
			continue;
		digest_hex(a->new_text, hex);
		r = pbx_str_appendf(out, "%s\t%s\n", a->path, hex);
	}
	return r;
}

int pbx_applied_record(pbx_ctx *ctx, const struct pbx_apply_plan *plan, const char *tenant,
		       long job, pbx_error *err)
{
	char *ids = NULL, *owners = NULL, *gens = NULL, *files = NULL, *rows = NULL;
	char *setup = setup_of(ctx), jobs[24], num[24];
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
	if ((r = pbx_realtime_digests(rt, &dig, &n_dig, err)) < 0) {
		free(setup);
		return r;
	}
	/* The global record only from full applies: a scoped one leaves global rows alone. */
	for (size_t i = 0; r == 0 && i < plan->n_tenants + !tenant; i++) {
		const struct pbx_apply_tenant *t = i < plan->n_tenants ? &plan->tenants[i] : NULL;
		const char *owner = t ? t->slug : PBX_RT_OWNER_GLOBAL;
		char *f = NULL;

		if (t && t->skipped)
			continue;
		snprintf(num, sizeof(num), "%ld", t ? t->id : 0L);
		r |= array_add(&ids, num);
		r |= array_add(&owners, owner);
		snprintf(num, sizeof(num), "%lld", t ? t->gen : plan->shared_gen);
		r |= array_add(&gens, num);
		r |= files_of(plan, owner, &f);
		r |= f ? array_add(&files, f) : -1;
		r |= array_add(&rows, pbx_rt_digest_of(dig, n_dig, owner));
		free(f);
	}
	pbx_rt_digests_free(dig, n_dig);
	if (r != 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	} else if (ids) {
		const char *p[8] = { NULL };

		snprintf(jobs, sizeof(jobs), "%ld", job);
		r |= pbx_str_appendf(&ids, "}") | pbx_str_appendf(&owners, "}") |
		     pbx_str_appendf(&gens, "}") | pbx_str_appendf(&files, "}") |
		     pbx_str_appendf(&rows, "}");
		p[0] = ids, p[1] = owners, p[2] = gens, p[3] = files, p[4] = rows;
		p[5] = setup, p[6] = jobs, p[7] = tenant ? "f" : "t";
		r = r ? pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory") :
		    pbx_pg_exec(pg,
			"WITH gone AS (DELETE FROM apply_applied a WHERE $8::boolean AND a.tenant_id <> 0 "
			"AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id)) "
			"INSERT INTO apply_applied (tenant_id, owner, gen, files, rows_digest, setup, "
			"job_id) SELECT u.*, $6, $7::bigint FROM unnest($1::bigint[], $2::text[], "
			"$3::bigint[], $4::text[], $5::text[]) u ON CONFLICT (tenant_id) DO UPDATE SET "
			"owner = EXCLUDED.owner, gen = EXCLUDED.gen, files = EXCLUDED.files, "
			"rows_digest = EXCLUDED.rows_digest, setup = EXCLUDED.setup, "
			"job_id = EXCLUDED.job_id, applied_at = now()", 8, p, "apply", err);
	}
	free(ids);
	free(owners);
	free(gens);
	free(files);
	free(rows);
	free(setup);
	return r;
}
