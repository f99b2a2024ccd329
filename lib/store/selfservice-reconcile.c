/* SPDX-License-Identifier: MIT */
/*
 * The reconcile apply runs (pbx/selfservice.h), a tenant at a time: AstDB's keys read in
 * one DBGetTree (one for all the tenants when every tenant is reconciled), PostgreSQL's
 * users in one query and their PIN verifiers opened on every core. A phone's change is
 * taken one user at a time (selfservice.c); every other difference is written as one
 * pipelined batch of only the keys that differ, and the pending marks of the users written
 * are cleared in one UPDATE that leaves pending a user PostgreSQL changed meanwhile. Keys of
 * extensions no active user has are deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/dialplan.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "ctx.h"
#include "pg.h"
#include "selfservice-internal.h"

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pbx_ami_db_entry *)a)->key,
		      ((const struct pbx_ami_db_entry *)b)->key);
}

/* The first of the sorted entries @e[0..@n) whose key is not below @key. */
static size_t lower_bound(const struct pbx_ami_db_entry *e, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(e[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The keys of extension @ext among the sorted entries of family pbxctl/<slug> (@prefix
 * "/pbxctl/<slug>/"). */
static void tree_keys(const struct pbx_ami_db_entry *e, size_t n, const char *prefix,
		      const char *ext, struct ss_keys *k)
{
	char dir[128];
	size_t dl = (size_t)snprintf(dir, sizeof(dir), "%s%s/", prefix, ext);

	*k = (struct ss_keys){ .dnd = NULL };
	for (size_t i = lower_bound(e, n, dir); i < n && !strncmp(e[i].key, dir, dl); i++) {
		const char *key = e[i].key + dl;

		if (!strcmp(key, "dnd"))
			k->dnd = strdup(e[i].value);
		else if (!strcmp(key, "forward"))
			k->forward = strdup(e[i].value);
		else if (!strcmp(key, "pin"))
			k->pin = strdup(e[i].value);
	}
}

/* A user whose keys this reconcile writes. */
struct push {
	struct ss_user u;
	char fam[96];
	char *verifier;   /* the PIN verifier to write (pbx_secret_free_str), or NULL */
	int result;       /* 0 until one of its writes fails */
	pbx_error why;
};

/* One write of the batch: DBPut or DBDel of one key of push[push]. */
struct write {
	size_t push;
	bool del;
	bool recheck;     /* a DBDel that failed: was the key there at all? */
	const char *kv[7];
};

struct batch {
	struct push *push;
	size_t n_push;
	struct write *w;
	struct pbx_ami_batch_action *act;
	size_t n_w;
};

static void add_write(struct batch *b, const char *key, const char *value)
{
	struct push *p = &b->push[b->n_push - 1];
	struct write *w = &b->w[b->n_w];

	*w = (struct write){ .push = b->n_push - 1, .del = !value,
			     .kv = { "Family", p->fam, "Key", key, value ? "Val" : NULL, value } };
	b->act[b->n_w++] = (struct pbx_ami_batch_action){ .action = value ? "DBPut" : "DBDel",
							  .kv = w->kv };
}

/* The writes that make AstDB's keys @k what PostgreSQL wants for the newest push. */
static void plan_writes(struct batch *b, const struct ss_keys *k)
{
	struct push *p = &b->push[b->n_push - 1];
	const char *dnd = p->u.dnd ? "1" : "0";

	if (!k->dnd || strcmp(k->dnd, dnd))
		add_write(b, "dnd", dnd);
	if (p->u.forward[0] && (!k->forward || strcmp(k->forward, p->u.forward)))
		add_write(b, "forward", p->u.forward);
	else if (!p->u.forward[0] && k->forward)
		add_write(b, "forward", NULL);
	if (p->verifier && (!k->pin || strcmp(k->pin, p->verifier)))
		add_write(b, "pin", p->verifier);
	else if (!p->verifier && k->pin)
		add_write(b, "pin", NULL);
}

static void on_answer(size_t i, int result, const pbx_error *why, void *userdata)
{
	struct batch *b = userdata;
	struct write *w = &b->w[i];
	struct push *p = &b->push[w->push];

	if (result == 0)
		return;
	/* Asterisk answers a DBDel of a missing key as any failed one: looked at afterwards. */
	if (w->del && (result == PBX_ENOTFOUND || result == PBX_ERROR)) {
		w->recheck = true;
		return;
	}
	if (p->result == 0) {
		p->result = result;
		p->why = *why;
	}
}

/* Clear the pending marks of the pushes that succeeded (ss_clear_pending). */
static int clear_pending(PGconn *pg, const struct batch *b, pbx_error *err)
{
	const struct ss_user **done = calloc(b->n_push + 1, sizeof(*done));
	size_t n = 0;
	int r;

	if (!done)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < b->n_push; i++)
		if (b->push[i].result == 0 && b->push[i].u.pending)
			done[n++] = &b->push[i].u;
	r = ss_clear_pending(pg, done, n, err);
	free(done);
	return r;
}

/* Run the batch, look again at the DBDels that failed, clear the pending marks, count. */
static int write_batch(pbx_ctx *ctx, PGconn *pg, pbx_ami *ami, struct batch *b,
		       const char *slug, struct pbx_selfservice_report *rep, pbx_error *err)
{
	int r = b->n_w ? pbx_ami_batch(ami, b->act, b->n_w, on_answer, b, err) : 0;

	if (r < 0)
		return r;   /* nobody's mark is cleared: the next apply writes them again */
	for (size_t i = 0; i < b->n_w; i++) {
		struct push *p = &b->push[b->w[i].push];
		pbx_error why = PBX_ERROR_INIT;

		if (b->w[i].recheck && p->result == 0 &&
		    (p->result = ss_db_del_gone_check(ami, p->fam, b->w[i].kv[3], &why)) < 0)
			p->why = why;
	}
	if ((r = clear_pending(pg, b, err)) < 0)
		return r;
	for (size_t i = 0; i < b->n_push; i++) {
		if (b->push[i].result == 0) {
			rep->pushed++;
			continue;
		}
		rep->failed++;
		pbx_log(ctx, PBX_LOG_WARN, "user %s of %s: AstDB not reconciled: %s",
			b->push[i].u.username, slug, b->push[i].why.message);
	}
	return 0;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n_push; i++) {
		ss_user_free(&b->push[i].u);
		pbx_secret_free_str(b->push[i].verifier);
	}
	free(b->push);
	free(b->w);
	free(b->act);
}

/* Delete the keys of extensions no active user has: a deleted, moved or suspended user's. */
static void remove_stale(pbx_ami *ami, const char *slug, const char *prefix,
			 const struct pbx_ami_db_entry *e, size_t n, const char **live,
			 size_t n_live, struct pbx_selfservice_report *rep)
{
	size_t pl = strlen(prefix);

	for (size_t i = 0; i < n;) {
		const char *ext = e[i].key + pl, *end = strchr(ext, '/');
		char x[16], sub[96];
		pbx_error err = PBX_ERROR_INIT;
		size_t dl;

		if (strncmp(e[i].key, prefix, pl) || !end || end - ext >= (long)sizeof(x)) {
			i++;
			continue;
		}
		snprintf(x, sizeof(x), "%.*s", (int)(end - ext), ext);
		dl = (size_t)(end - e[i].key) + 1;
		/* The entries are sorted: this extension's keys are the next ones. */
		for (i++; i < n && !strncmp(e[i].key, e[i - 1].key, dl); i++)
			;
		if (bsearch(&(const char *){ x }, live, n_live, sizeof(*live), str_cmp))
			continue;
		ss_family(slug, x, sub, sizeof(sub));
		if (pbx_ami_db_deltree(ami, sub, NULL, &err) == 0)
			rep->removed++;
	}
}

/* Open the PIN verifiers of @users[0..@n) that have one, on every core; *@ret[i] for user i. */
static int open_verifiers(pbx_ctx *ctx, const struct ss_user *users, size_t n,
			  struct pbx_ctx_sealed **ret, pbx_error *err)
{
	struct pbx_ctx_sealed *v = calloc(n + 1, sizeof(*v));

	if (!v)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i].sealed = users[i].voicemail ? users[i].sealed : NULL;
	*ret = v;
	return pbx_ctx_open_secrets(ctx, v, n, err);
}

static void verifiers_free(struct pbx_ctx_sealed *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		pbx_secret_free_str(v[i].plain);
		free(v[i].err);
	}
	free(v);
}

/* One active user: taken now, left alone, or queued for the batch with its writes. */
static void reconcile_one(pbx_ctx *ctx, PGconn *pg, struct ss_user *u, const struct ss_keys *k,
			  struct pbx_ctx_sealed *v, struct batch *b,
			  struct pbx_selfservice_report *rep)
{
	pbx_error uerr = PBX_ERROR_INIT;
	bool pin_ok;
	int what = 0;

	if (!u->pending && k->dnd && !ss_same_state(u, k)) {
		/* A phone's change: taken (or refused) one user at a time. */
		if (ss_reconcile_user(ctx, pg, u, k, "astdb", &what, &uerr) < 0) {
			rep->failed++;
			pbx_log(ctx, PBX_LOG_WARN, "user %s of %s: AstDB not reconciled: %s",
				u->username, u->slug, uerr.message);
		} else if (what == 1) {
			rep->pushed++;
		} else if (what == 2) {
			rep->taken++;
		}
		return;
	}
	if (v->r < 0) {
		rep->failed++;
		pbx_log(ctx, PBX_LOG_WARN, "user %s of %s: AstDB not reconciled: %s", u->username,
			u->slug, v->err ? v->err->message : "its PIN verifier does not open");
		return;
	}
	pin_ok = v->plain ? k->pin && !strcmp(k->pin, v->plain) : !k->pin;
	if (!u->pending && k->dnd && pin_ok)
		return;
	b->push[b->n_push] = (struct push){ .u = *u, .verifier = v->plain };
	ss_family(u->slug, u->ext, b->push[b->n_push].fam, sizeof(b->push[0].fam));
	b->n_push++;
	u->sealed = NULL;    /* the push owns them now */
	v->plain = NULL;
	plan_writes(b, k);
}

/* Reconcile tenant @slug, whose AstDB keys are the sorted entries @e[0..@n), each
 * beginning with @prefix ("/pbxctl/<slug>/"). */
static int reconcile_tenant(pbx_ctx *ctx, PGconn *pg, pbx_ami *ami, const char *slug,
			    const char *prefix, const struct pbx_ami_db_entry *e, size_t n,
			    struct pbx_selfservice_report *rep, pbx_error *err)
{
	struct pbx_ctx_sealed *v = NULL;
	struct ss_user *users = NULL;
	struct batch b = { .push = NULL };
	const char **live = NULL;
	const char *p[1] = { slug };
	PGresult *res;
	size_t rows = 0;
	int r;

	res = pbx_pg_query(pg, "SELECT " SS_COLUMNS "WHERE t.slug = $1 AND u.status = 'active' "
			   "AND t.status = 'active' ORDER BY u.extension", 1, p, "tenant", err);
	if (!res) {
		r = err->code;
		goto done;
	}
	rows = (size_t)PQntuples(res);
	users = calloc(rows + 1, sizeof(*users));
	live = calloc(rows + 1, sizeof(*live));
	b.push = calloc(rows + 1, sizeof(*b.push));
	b.w = calloc(3 * rows + 1, sizeof(*b.w));
	b.act = calloc(3 * rows + 1, sizeof(*b.act));
	if (!users || !live || !b.push || !b.w || !b.act) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < rows; i++) {
		ss_fill(res, (int)i, &users[i]);
		live[i] = PQgetvalue(res, (int)i, 3);
	}
	if ((r = open_verifiers(ctx, users, rows, &v, err)) < 0)
		goto done;
	for (size_t i = 0; i < rows; i++) {
		struct ss_keys k;

		tree_keys(e, n, prefix, users[i].ext, &k);
		reconcile_one(ctx, pg, &users[i], &k, &v[i], &b, rep);
		ss_keys_free(&k);
	}
	if ((r = write_batch(ctx, pg, ami, &b, slug, rep, err)) < 0)
		goto done;
	qsort(live, rows, sizeof(*live), str_cmp);
	remove_stale(ami, slug, prefix, e, n, live, rows, rep);
done:
	verifiers_free(v, rows);
	for (size_t i = 0; users && i < rows; i++)
		ss_user_free(&users[i]);
	free(users);
	free(live);
	batch_free(&b);
	PQclear(res);
	return r;
}

/*
 * AstDB's keys under @family, sorted. Asterisk answers DBGetTree with a scan of its whole
 * table (main/db.c: "key || '/' LIKE ?"), so one read for every tenant costs what one read
 * for a single tenant does: 1 000 tenants read one at a time were 1 000 scans.
 */
static int read_tree(pbx_ami *ami, const char *family, struct pbx_ami_db_entry **e, size_t *n,
		     pbx_error *err)
{
	int r = pbx_ami_db_gettree(ami, family, e, n, err);

	if (r == 0 && *n > 1)
		qsort(*e, *n, sizeof(**e), entry_cmp);
	return r;
}

int pbx_selfservice_reconcile(pbx_ctx *ctx, const char *tenant,
			      struct pbx_selfservice_report *ret, pbx_error *err)
{
	struct pbx_selfservice_report rep = { 0 };
	struct pbx_ami_db_entry *all = NULL;
	const char *p[1] = { tenant };
	size_t n_all = 0;
	long users = 0;
	bool whole;
	PGresult *res;
	PGconn *pg;
	pbx_ami *ami;
	int r = 0;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	res = pbx_pg_query(pg, "SELECT t.slug, (SELECT count(*) FROM users u WHERE "
			   "u.tenant_id = t.id AND u.status = 'active') FROM tenants t WHERE "
			   "t.status = 'active' AND ($1::text IS NULL OR t.slug = $1) ORDER BY t.slug",
			   1, p, "tenants", err);
	if (!res)
		return err->code;
	if (!(ami = pbx_ctx_ami(ctx, err))) {
		PQclear(res);
		return err->code;
	}
	for (int i = 0; i < PQntuples(res); i++)
		users += atol(PQgetvalue(res, i, 1));
	/* Every tenant from one read, while its answer stays well inside AMI's list limit
	 * (PBX_AMI_MAX_EVENTS; three keys a user at most); else a read per tenant. */
	whole = !tenant && PQntuples(res) > 1 && users <= PBX_AMI_MAX_EVENTS / 4;
	if (whole && (r = read_tree(ami, PBX_DP_ASTDB_FAMILY, &all, &n_all, err)) < 0) {
		PQclear(res);
		return r;
	}
	for (int i = 0; i < PQntuples(res) && r == 0; i++) {
		const char *slug = PQgetvalue(res, i, 0);
		struct pbx_ami_db_entry *e = NULL;
		size_t n = 0, first;
		char fam[64], prefix[72];

		snprintf(fam, sizeof(fam), PBX_DP_ASTDB_FAMILY "/%s", slug);
		snprintf(prefix, sizeof(prefix), "/%s/", fam);
		if (whole) {
			size_t pl = strlen(prefix);

			first = lower_bound(all, n_all, prefix);
			for (n = first; n < n_all && !strncmp(all[n].key, prefix, pl); n++)
				;
			r = reconcile_tenant(ctx, pg, ami, slug, prefix, all + first, n - first,
					     &rep, err);
		} else if ((r = read_tree(ami, fam, &e, &n, err)) == 0) {
			r = reconcile_tenant(ctx, pg, ami, slug, prefix, e, n, &rep, err);
			pbx_ami_db_entries_free(e, n);
		}
		/* One tenant's trouble never stops another's: only a lost connection does. */
		if (r < 0 && r != PBX_EUNAVAILABLE)
			r = 0;
	}
	pbx_ami_db_entries_free(all, n_all);
	PQclear(res);
	if (ret)
		*ret = rep;
	return r;
}

bool pbx_selfservice_pending(pbx_ctx *ctx, const char *tenant)
{
	const char *p[1] = { tenant };
	pbx_error err = PBX_ERROR_INIT;
	PGresult *res;
	PGconn *pg;
	bool pending;

	if (!(pg = pbx_ctx_pg(ctx, &err)))
		return true;
	/* users_astdb_pending (migration 0018): the partial index answers alone */
	res = pbx_pg_query(pg, "SELECT EXISTS (SELECT 1 FROM users u WHERE u.astdb_pending AND "
			   "($1::text IS NULL OR u.tenant_id = (SELECT t.id FROM tenants t "
			   "WHERE t.slug = $1)))", 1, p, "users", &err);
	if (!res)
		return true;   /* unknown: the reconcile finds out */
	pending = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return pending;
}
