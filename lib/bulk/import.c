/* SPDX-License-Identifier: MIT */
/*
 * pbx_bulk_import: one transaction from the first read to the commit. It locks the file's
 * tenants, loads their state, plans (every problem is collected, with its place in the
 * file), checks PINs, draws SIP usernames and secrets for new devices, writes the plan and
 * its audit rows, hands the new credentials to --secrets-out, and commits; a dry run plans
 * in a read-only snapshot and writes nothing at all. The summary and the list of changes
 * come back as rows for the CLI's renderers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "pbx/device.h"
#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "ctx.h"
#include "pg.h"
#include "plan.h"
#include "policy-internal.h"

static const struct pbx_field import_fields[] = {
	{ "result", PBX_FT_STRING, PBX_FIELD_DEFAULT, "changed, nothing to change, or (dry run) would change" },
	{ "file", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the file imported (stdin for -)" },
	{ "dry_run", PBX_FT_BOOL, PBX_FIELD_DEFAULT, "true: the plan only, nothing was written" },
	{ "tenants_created", PBX_FT_INT, PBX_FIELD_DEFAULT, "tenants created" },
	{ "tenants_updated", PBX_FT_INT, PBX_FIELD_DEFAULT, "tenants updated" },
	{ "users_created", PBX_FT_INT, PBX_FIELD_DEFAULT, "users created" },
	{ "users_updated", PBX_FT_INT, PBX_FIELD_DEFAULT, "users updated" },
	{ "users_restored", PBX_FT_INT, PBX_FIELD_DEFAULT, "soft-deleted users the file lists, restored" },
	{ "users_deleted", PBX_FT_INT, PBX_FIELD_DEFAULT, "users soft-deleted by --prune" },
	{ "devices_created", PBX_FT_INT, PBX_FIELD_DEFAULT, "devices created" },
	{ "devices_updated", PBX_FT_INT, PBX_FIELD_DEFAULT, "devices updated" },
	{ "devices_deleted", PBX_FT_INT, PBX_FIELD_DEFAULT, "devices deleted by --prune" },
	{ "dids_created", PBX_FT_INT, PBX_FIELD_DEFAULT, "phone numbers created" },
	{ "dids_updated", PBX_FT_INT, PBX_FIELD_DEFAULT, "phone numbers updated (or moved here)" },
	{ "dids_deleted", PBX_FT_INT, PBX_FIELD_DEFAULT, "phone numbers deleted by --prune" },
	{ "trunks_created", PBX_FT_INT, PBX_FIELD_DEFAULT, "trunks created" },
	{ "trunks_updated", PBX_FT_INT, PBX_FIELD_DEFAULT, "trunks updated" },
	{ "trunks_deleted", PBX_FT_INT, PBX_FIELD_DEFAULT, "trunks deleted by --prune" },
	{ "policies_created", PBX_FT_INT, PBX_FIELD_DEFAULT, "outbound policies created" },
	{ "policies_updated", PBX_FT_INT, PBX_FIELD_DEFAULT, "outbound policies updated" },
	{ "policies_deleted", PBX_FT_INT, PBX_FIELD_DEFAULT, "outbound policies deleted by --prune" },
	{ "audit_rows", PBX_FT_INT, PBX_FIELD_DEFAULT, "audit rows written" },
	{ "secrets_written", PBX_FT_INT, PBX_FIELD_DEFAULT, "new SIP credentials written to secrets_out" },
	{ "secrets_out", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the file that received them, or null" },
	{ "changes", PBX_FT_JSON, 0, "one object per change: action, entity, tenant, name, detail" },
};

const struct pbx_schema pbx_schema_import = {
	.name = "import",
	.fields = import_fields,
	.n_fields = sizeof(import_fields) / sizeof(import_fields[0]),
};

static const struct pbx_field change_fields[] = {
	{ "action", PBX_FT_STRING, PBX_FIELD_DEFAULT, "create, update, restore or delete" },
	{ "entity", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant, user, device, did, trunk or policy" },
	{ "tenant", PBX_FT_STRING, PBX_FIELD_DEFAULT, "tenant slug (null: a global trunk)" },
	{ "name", PBX_FT_STRING, PBX_FIELD_DEFAULT, "slug, username, username/label, number or name" },
	{ "detail", PBX_FT_STRING, PBX_FIELD_DEFAULT, "the keys that change, or the new extension" },
};

const struct pbx_schema pbx_schema_import_change = {
	.name = "change",
	.fields = change_fields,
	.n_fields = sizeof(change_fields) / sizeof(change_fields[0]),
};

static const char *const op_names[] = { "none", "create", "update", "restore", "delete" };

/* ---- new credentials ---------------------------------------------------------------- */

/*
 * Random characters for many credentials at once. pbx_secret_generate_sip draws each
 * character with its own randombytes_uniform call, one getrandom(2) each: 740 000 system
 * calls for 20 000 devices, most of an import's time. This draws the same distribution
 * (each character uniform over the same alphabet, by rejection, from the same CSPRNG)
 * from 4 KiB blocks, and wipes the block when done.
 */
struct rng {
	unsigned char buf[4096];
	size_t pos;
};

static int rng_init(struct rng *g, pbx_error *err)
{
	g->pos = sizeof(g->buf);
	if (sodium_init() < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "libsodium cannot be initialised");
	return 0;
}

static char rng_pick(struct rng *g, const char *alphabet)
{
	size_t n = strlen(alphabet);
	unsigned lim = 256 - 256 % (unsigned)n;

	for (;;) {
		unsigned b;

		if (g->pos == sizeof(g->buf)) {
			randombytes_buf(g->buf, sizeof(g->buf));
			g->pos = 0;
		}
		b = g->buf[g->pos++];
		if (b < lim)
			return alphabet[b % n];
	}
}

static void rng_fill(struct rng *g, char *out, size_t len, const char *alphabet)
{
	for (size_t i = 0; i < len; i++)
		out[i] = rng_pick(g, alphabet);
	out[len] = '\0';
}

static void rng_wipe(struct rng *g)
{
	pbx_secret_wipe(g->buf, sizeof(g->buf));
}

/* SIP usernames for new devices: random, and drawn again on the rare collision. */
static int draw_usernames(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const char **names = calloc(p->n_devices + 1, sizeof(*names));
	struct bulk_map seen = { .n = 0 };
	int r = names ? 0 : pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	struct rng g;

	if (r == 0)
		r = rng_init(&g, err);
	for (int round = 0; r == 0 && round < 8; round++) {
		size_t n = 0, clash = 0;
		char *arr;
		PGresult *res;

		bulk_map_free(&seen);
		for (size_t i = 0; r == 0 && i < p->n_devices; i++) {
			struct plan_device *d = &p->devices[i];
			char buf[PBX_SECRET_USERNAME_BUFSZ];

			if (d->op != OP_CREATE)
				continue;
			while (r == 0 && (!d->sip_username || bulk_map_get(&seen, d->sip_username) != SIZE_MAX)) {
				const char *slug = p->tenants[p->users[d->pu].pt].slug;
				size_t len = strlen(slug);

				/* "<slug>-" and random characters, as pbx_secret_generate_sip_username. */
				free(d->sip_username);
				d->sip_username = NULL;
				if (len > PBX_SECRET_SLUG_MAX) {
					r = pbx_errorf(err, PBX_EINVALID, NULL, "tenant", "slug too long");
					break;
				}
				memcpy(buf, slug, len);
				buf[len] = '-';
				rng_fill(&g, buf + len + 1, PBX_SECRET_USERNAME_RANDOM_LEN,
					 PBX_SECRET_USERNAME_ALPHABET);
				if (!(d->sip_username = strdup(buf)))
					r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			}
			if (r == 0 && bulk_map_put(&seen, d->sip_username, i) < 0)
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			names[n++] = d->sip_username;
		}
		if (r < 0)
			break;
		if (n == 0)
			goto done;
		if (!(arr = pbx_store_bulk_array(names, n))) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			break;
		}
		res = pbx_store_bulk_sip_taken(pg, arr, err);
		free(arr);
		if (!res) {
			r = err->code;
			break;
		}
		for (int i = 0; i < PQntuples(res); i++) {
			size_t k = bulk_map_get(&seen, PQgetvalue(res, i, 0));

			if (k != SIZE_MAX) {
				free(p->devices[k].sip_username);
				p->devices[k].sip_username = NULL;
				clash++;
			}
		}
		PQclear(res);
		if (!clash)
			goto done;
	}
	if (r == 0)
		r = pbx_errorf(err, PBX_ERROR, "device", "sip_username", "could not draw unused SIP usernames");
done:
	rng_wipe(&g);
	bulk_map_free(&seen);
	free(names);
	return r;
}

/* A sealed secret for each new device; the plaintext is kept only for @keep. */
static int make_secrets(struct bulk_plan *p, pbx_secret_key *key, bool keep, pbx_error *err)
{
	struct rng g;
	int r = rng_init(&g, err);

	for (size_t i = 0; r == 0 && i < p->n_devices; i++) {
		struct plan_device *d = &p->devices[i];
		char plain[PBX_SECRET_SIP_BUFSZ];

		if (d->op != OP_CREATE)
			continue;
		/* As pbx_secret_generate_sip: PBX_SECRET_SIP_LEN characters of its alphabet. */
		rng_fill(&g, plain, PBX_SECRET_SIP_LEN, PBX_SECRET_SIP_ALPHABET);
		r = pbx_secret_seal(key, plain, &d->sealed, err);
		if (r == 0 && keep && !(d->secret = strdup(plain)))
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		pbx_secret_wipe(plain, sizeof(plain));
	}
	rng_wipe(&g);
	return r;
}

static int write_secrets(struct bulk_plan *p, FILE *f, const char *path, size_t *ret_n,
			 pbx_error *err)
{
	struct bulk_secret *s = calloc(p->n_devices + 1, sizeof(*s));
	int ext = bulk_field(&pbx_schema_user, "extension");
	int uname = bulk_field(&pbx_schema_user, "username");
	int label = bulk_field(&pbx_schema_device, "label");
	size_t n = 0;
	int r;

	if (!s)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];
		const struct plan_user *u = &p->users[d->pu];

		if (d->op == OP_CREATE)
			s[n++] = (struct bulk_secret){ .tenant = p->tenants[u->pt].slug,
				.user = u->v[uname], .extension = u->v[ext], .label = d->v[label],
				.sip_username = d->sip_username, .secret = d->secret };
	}
	r = bulk_secrets_write(f, path, s, n, err);
	free(s);
	*ret_n = n;
	return r;
}

/* ---- the summary -------------------------------------------------------------------- */

struct jbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void jput(struct jbuf *b, const char *s)
{
	size_t len = strlen(s);

	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *q;

		while (cap < b->n + len + 1)
			cap *= 2;
		if (!(q = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len + 1);
	b->n += len;
}

static void jstr(struct jbuf *b, const char *s)
{
	char esc[8];

	if (!s) {
		jput(b, "null");
		return;
	}
	jput(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) {
			snprintf(esc, sizeof(esc), (unsigned char)*s < 0x20 ? "\\u%04x" : "\\%c",
				 (unsigned char)*s);
			jput(b, esc);
		} else {
			char c[2] = { *s, '\0' };

			jput(b, c);
		}
	}
	jput(b, "\"");
}

static void change(struct pbx_rows *rows, struct jbuf *j, bool *oom, enum bulk_op op,
		   const char *entity, const char *tenant, const char *name, const char *detail)
{
	long row = pbx_rows_add(rows);

	if (row < 0 || pbx_rows_set(rows, (size_t)row, "action", op_names[op]) < 0 ||
	    pbx_rows_set(rows, (size_t)row, "entity", entity) < 0 ||
	    pbx_rows_set(rows, (size_t)row, "tenant", tenant) < 0 ||
	    pbx_rows_set(rows, (size_t)row, "name", name) < 0 ||
	    pbx_rows_set(rows, (size_t)row, "detail", detail) < 0)
		*oom = true;
	jput(j, j->n > 1 ? ",{\"action\":" : "{\"action\":");
	jstr(j, op_names[op]);
	jput(j, ",\"entity\":");
	jstr(j, entity);
	jput(j, ",\"tenant\":");
	jstr(j, tenant);
	jput(j, ",\"name\":");
	jstr(j, name);
	jput(j, ",\"detail\":");
	jstr(j, detail);
	jput(j, "}");
}

static int changes(struct bulk_plan *p, struct pbx_rows *rows, char **ret_json, pbx_error *err)
{
	int ext = bulk_field(&pbx_schema_user, "extension");
	int range = bulk_field(&pbx_schema_tenant, "extensions");
	int uname = bulk_field(&pbx_schema_user, "username");
	int label = bulk_field(&pbx_schema_device, "label");
	struct jbuf j = { .p = NULL };
	bool oom = false;
	char buf[256];

	pbx_rows_init(rows, &pbx_schema_import_change);
	jput(&j, "[");
	for (size_t i = 0; i < p->n_tenants; i++) {
		const struct plan_tenant *t = &p->tenants[i];

		if (t->op == OP_NONE)
			continue;
		snprintf(buf, sizeof(buf), "extensions %s", t->v[range]);
		change(rows, &j, &oom, t->op, "tenant", t->slug, t->slug,
		       t->op == OP_CREATE ? buf : t->changed);
		p->counts[0][t->op]++;
	}
	for (size_t i = 0; i < p->n_users; i++) {
		const struct plan_user *u = &p->users[i];

		if (u->op == OP_NONE)
			continue;
		snprintf(buf, sizeof(buf), "extension %s", u->v[ext] ? u->v[ext] : "?");
		change(rows, &j, &oom, u->op, "user", p->tenants[u->pt].slug, u->v[uname],
		       u->op == OP_CREATE ? buf : u->op == OP_DELETE ? NULL :
		       u->op == OP_RESTORE ? (u->changed ? u->changed : buf) : u->changed);
		p->counts[1][u->op]++;
	}
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];
		const struct plan_user *u = &p->users[d->pu];

		if (d->op == OP_NONE)
			continue;
		snprintf(buf, sizeof(buf), "%s/%s", u->v[uname], d->v[label]);
		change(rows, &j, &oom, d->op, "device", p->tenants[u->pt].slug, buf,
		       d->op == OP_UPDATE ? d->changed : NULL);
		p->counts[2][d->op]++;
	}
	for (int kind = 0; kind < ROUTING_N; kind++) {
		static const char *const entity[ROUTING_N] = { "did", "trunk", "policy" };
		const struct pbx_schema *sc = kind == ROUTING_DID ? &pbx_schema_did :
					      kind == ROUTING_TRUNK ? &pbx_schema_trunk : &pbx_schema_policy;
		int key = bulk_field(sc, kind == ROUTING_DID ? "number" : "name");

		for (size_t i = 0; i < p->n_routing[kind]; i++) {
			const struct plan_routing *x = &p->routing[kind][i];

			if (x->op == OP_NONE)
				continue;
			change(rows, &j, &oom, x->op, entity[kind],
			       x->pt == SIZE_MAX ? NULL : p->tenants[x->pt].slug, x->v[key],
			       x->op == OP_UPDATE ? x->changed : NULL);
			p->xcounts[kind][x->op]++;
		}
	}
	jput(&j, "]");
	if (oom || j.oom) {
		pbx_rows_free(rows);
		free(j.p);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	*ret_json = j.p;
	return 0;
}

static int summary(struct bulk_plan *p, const struct pbx_bulk_import_opts *o, const char *json,
		   bool changed, size_t audit_rows, size_t secrets, struct pbx_rows *ret,
		   pbx_error *err)
{
	static const char *const keys[3][5] = {
		{ NULL, "tenants_created", "tenants_updated", NULL, NULL },
		{ NULL, "users_created", "users_updated", "users_restored", "users_deleted" },
		{ NULL, "devices_created", "devices_updated", NULL, "devices_deleted" },
	};
	char num[24];
	int bad = 0;

	pbx_rows_init(ret, &pbx_schema_import);
	bad |= pbx_rows_add(ret) < 0;
	bad |= pbx_rows_set(ret, 0, "result", !changed ? "nothing to change" :
			    o->dry_run ? "would change" : "changed");
	bad |= pbx_rows_set(ret, 0, "file", p->doc->name);
	bad |= pbx_rows_set(ret, 0, "dry_run", o->dry_run ? "true" : "false");
	static const char *const xkeys[ROUTING_N][5] = {
		{ NULL, "dids_created", "dids_updated", NULL, "dids_deleted" },
		{ NULL, "trunks_created", "trunks_updated", NULL, "trunks_deleted" },
		{ NULL, "policies_created", "policies_updated", NULL, "policies_deleted" },
	};

	for (int e = 0; e < 3; e++)
		for (int op = 1; op < 5; op++) {
			if (keys[e][op]) {
				snprintf(num, sizeof(num), "%zu", p->counts[e][op]);
				bad |= pbx_rows_set(ret, 0, keys[e][op], num);
			}
			if (xkeys[e][op]) {
				snprintf(num, sizeof(num), "%zu", p->xcounts[e][op]);
				bad |= pbx_rows_set(ret, 0, xkeys[e][op], num);
			}
		}
	snprintf(num, sizeof(num), "%zu", audit_rows);
	bad |= pbx_rows_set(ret, 0, "audit_rows", num);
	snprintf(num, sizeof(num), "%zu", secrets);
	bad |= pbx_rows_set(ret, 0, "secrets_written", num);
	bad |= pbx_rows_set(ret, 0, "secrets_out", secrets ? o->secrets_out : NULL);
	bad |= pbx_rows_set(ret, 0, "changes", json);
	if (bad) {
		pbx_rows_free(ret);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	return 0;
}

/* ---- the import --------------------------------------------------------------------- */

/* The state of trunks, the tenants' policies and DIDs, and the DIDs the file names. */
static int load_routing(struct bulk_plan *p, PGconn *pg, const struct pbx_bulk_doc *doc,
			pbx_error *err)
{
	size_t nt = (size_t)PQntuples(p->st.tenants), n = 0;
	const char **ids = calloc(nt + 1, sizeof(*ids)), **numbers = calloc(doc->n_dids + 1, sizeof(*numbers));
	char *a = NULL, *b = NULL;
	int r = 0;

	if (!ids || !numbers)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; r == 0 && i < nt; i++)
		ids[i] = PQgetvalue(p->st.tenants, (int)i, PQfnumber(p->st.tenants, "id"));
	for (size_t t = 0; r == 0 && t < doc->n_tenants; t++)
		for (size_t i = 0; i < doc->tenants[t].n_dids; i++)
			if (bulk_get(&doc->tenants[t].dids[i].o, "number"))
				numbers[n++] = bulk_get(&doc->tenants[t].dids[i].o, "number");
	if (r == 0 && (!(a = pbx_store_bulk_array(ids, nt)) || !(b = pbx_store_bulk_array(numbers, n))))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r == 0)
		r = pbx_store_bulk_load_routing(pg, a, b, &p->xst, err);
	free(a);
	free(b);
	free(ids);
	free(numbers);
	return r;
}

/* Seal the trunk secrets the file gives (new trunks, and changed secrets). */
static int seal_trunks(struct bulk_plan *p, pbx_ctx *ctx, pbx_error *err)
{
	pbx_secret_key *key = NULL;

	for (size_t i = 0; i < p->n_routing[ROUTING_TRUNK]; i++) {
		struct plan_routing *x = &p->routing[ROUTING_TRUNK][i];
		int r;

		if (!x->secret || (x->op != OP_CREATE && x->op != OP_UPDATE))
			continue;
		if (!key && !(key = pbx_ctx_seal_key(ctx, err)))
			return err->code;
		if ((r = pbx_secret_seal(key, x->secret, &x->sealed, err)) < 0)
			return r;
	}
	return 0;
}

static char *slugs_of(const struct pbx_bulk_doc *doc)
{
	const char **v = calloc(doc->n_tenants + 1, sizeof(*v));
	size_t n = 0;
	char *s;

	if (!v)
		return NULL;
	for (size_t i = 0; i < doc->n_tenants; i++)
		if (bulk_get(&doc->tenants[i].o, "slug"))
			v[n++] = bulk_get(&doc->tenants[i].o, "slug");
	s = pbx_store_bulk_array(v, n);
	free(v);
	return s;
}

int pbx_bulk_import(pbx_ctx *ctx, const pbx_bulk_doc *doc, const struct pbx_bulk_import_opts *o,
		    struct pbx_rows *ret_summary, struct pbx_rows *ret_changes, bool *ret_changed,
		    pbx_diag *diag, pbx_error *err)
{
	struct bulk_plan plan = { .doc = doc };
	struct bulk_report rep = { .diag = diag, .file = doc->name };
	struct pbx_rows rows = { .schema = NULL };
	PGconn *pg = pbx_ctx_pg(ctx, err);
	pbx_secret_key *key = NULL;
	FILE *secrets = NULL;
	char *slugs = NULL, *json = NULL;
	size_t before = diag->n, news = 0, audit_rows = 0, written = 0, changed = 0;
	bool writes = !o->dry_run;
	int r;

	if (!pg)
		return err->code;
	if (!(slugs = slugs_of(doc)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if ((r = pbx_store_bulk_begin(pg, writes, pbx_ctx_source(ctx), err)) < 0)
		goto out;
	if (o->progress)
		o->progress(o->progress_userdata, "planning", 0, 1);
	if ((r = pbx_store_bulk_load(pg, slugs, writes, &plan.st, err)) < 0 ||
	    (r = load_routing(&plan, pg, doc, err)) < 0 ||
	    (r = bulk_plan_build(&plan, doc, o->prune, &rep)) < 0 ||
	    (r = bulk_plan_routing(&plan, ctx, o->prune, &rep, err)) < 0 ||
	    (r = bulk_plan_pins(&plan, &rep, err)) < 0) {
		if (r == PBX_ERROR && !err->message[0])
			pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto fail;
	}
	bulk_report_end(&rep);
	if (diag->n > before || rep.oom) {
		r = pbx_errorf(err, rep.oom ? PBX_ERROR : PBX_EINVALID, NULL, NULL,
			       "%s has %zu problem(s); nothing was changed", doc->name, diag->n - before);
		goto fail;
	}
	if (o->progress)
		o->progress(o->progress_userdata, "planning", 1, 1);
	for (size_t i = 0; i < plan.n_devices; i++)
		news += plan.devices[i].op == OP_CREATE;
	/* A real run would need the key and a fresh secrets file: a dry run says so too. */
	if (news && !(key = pbx_ctx_seal_key(ctx, err))) {
		r = err->code;
		goto fail;
	}
	if (news && o->secrets_out) {
		r = writes ? bulk_secrets_create(o->secrets_out, &secrets, err) :
			     bulk_secrets_check(o->secrets_out, err);
		if (r < 0)
			goto fail;
	}
	if ((r = changes(&plan, &rows, &json, err)) < 0)
		goto fail;
	for (int e = 0; e < 3; e++)
		for (int op = 1; op < 5; op++)
			changed += plan.counts[e][op] + plan.xcounts[e][op];
	if (writes && changed) {
		if (pbx_store_bulk_audit_new(&plan.audit) < 0) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto fail;
		}
		if ((r = seal_trunks(&plan, ctx, err)) < 0 ||
		    (r = pbx_store_bulk_audit_lock(pg, err)) < 0 ||
		    (r = draw_usernames(&plan, pg, err)) < 0 ||
		    (r = make_secrets(&plan, key, secrets != NULL, err)) < 0 ||
		    (r = bulk_plan_pin_verifiers(&plan, ctx, err)) < 0 ||
		    (r = bulk_exec(&plan, pg, o, err)) < 0 ||
		    (r = pbx_store_bulk_audit_finish(pg, plan.audit, &audit_rows, err)) < 0)
			goto fail;
		/* As `pbxctl policy` does: a saved policy that blocks an emergency number is a
		 * warning now and an error at apply. */
		for (size_t i = 0; i < plan.n_routing[ROUTING_POLICY]; i++) {
			const struct plan_routing *x = &plan.routing[ROUTING_POLICY][i];

			if (x->op == OP_CREATE || x->op == OP_UPDATE)
				policy_warn_emergency(ctx, pg, x->id,
						      x->v[pbx_schema_index(&pbx_schema_policy, "name")],
						      plan.tenants[x->pt].slug);
		}
		if (o->progress)
			o->progress(o->progress_userdata, "writing", 1, 1);
		if (secrets && (r = write_secrets(&plan, secrets, o->secrets_out, &written, err)) < 0)
			goto fail;
		if ((r = pbx_pg_commit(pg, err)) < 0)
			goto fail;
		/* Plans costed from statistics taken before a bulk load are poor (apply's
		 * desired-state query spent most of its time in the JIT compiler): take them
		 * again now. Best effort: a role that may not ANALYZE only gets a warning. */
		if (changed > 0) {
			pbx_error ignored = PBX_ERROR_INIT;

			pbx_pg_exec(pg, "ANALYZE tenants, users, devices", 0, NULL, NULL, &ignored);
		}
	} else {
		pbx_pg_rollback(pg);
	}
	if (secrets) {
		fclose(secrets);
		secrets = NULL;
	}
	if ((r = summary(&plan, o, json, changed > 0, audit_rows, written, ret_summary, err)) < 0) {
		pbx_rows_free(&rows);
		goto out;
	}
	*ret_changes = rows;
	*ret_changed = changed > 0;
	r = 0;
	goto out;
fail:
	pbx_pg_rollback(pg);
	if (rows.schema)
		pbx_rows_free(&rows);
	if (secrets) {
		fclose(secrets);
		secrets = NULL;
		unlink(o->secrets_out);
	}
out:
	if (secrets)
		fclose(secrets);
	bulk_plan_free(&plan);
	free(slugs);
	free(json);
	return r;
}
