/* SPDX-License-Identifier: MIT */
/*
 * The plan of an import's routing objects: trunks (a tenant's own, or global),
 * outbound policies with their rules, and phone numbers (DIDs), matched by trunk name (unique
 * across tenants), policy name within its tenant and DID number (unique across tenants),
 * with the same rules as users: a key left out keeps its value, null clears, --prune
 * deletes what the file's tenants hold and the file does not list (global trunks are never
 * pruned). Every reference is checked against the final state: the trunks a rule names
 * (the tenant's own or global ones), the policies tenants and users name, the users and
 * extensions a DID's destination names. A DID listed under another tenant than its own
 * moves there; a trunk cannot change owner (its name makes its Asterisk endpoint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "ctx.h"
#include "plan.h"

static const struct pbx_schema *const schemas[ROUTING_N] = {
	&pbx_schema_did, &pbx_schema_trunk, &pbx_schema_policy,
};

static struct plan_routing *add(struct bulk_plan *p, int kind, size_t pt, size_t fi, int row)
{
	struct plan_routing *x = bulk_push((void **)&p->routing[kind], &p->n_routing[kind],
					   &p->cap_routing[kind], sizeof(*x));

	if (x)
		*x = (struct plan_routing){ .pt = pt, .fi = fi, .row = row };
	return x;
}

/* The plan tenant of tenant id @id, or SIZE_MAX. */
static size_t tenant_of(const struct bulk_plan *p, const char *id)
{
	for (size_t i = 0; id && i < p->n_tenants; i++)
		if (p->tenants[i].id[0] && !strcmp(p->tenants[i].id, id))
			return i;
	return SIZE_MAX;
}

static const char *slug_of(const struct bulk_plan *p, size_t pt)
{
	return pt == SIZE_MAX ? NULL : p->tenants[pt].slug;
}

static void at_routing(char *buf, size_t n, const struct bulk_plan *p, int kind,
		       const struct plan_routing *x, const char *key)
{
	static const char *const lists[ROUTING_N] = { "dids", "trunks", "policies" };
	int k = x->pt == SIZE_MAX ? snprintf(buf, n, "trunks[%zu]", x->fi) :
		snprintf(buf, n, "tenants[%zu].%s[%zu]", p->tenants[x->pt].fi, lists[kind], x->fi);

	if (key && k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, ".%s", key);
}

/* The file object of a listed plan_routing. */
static const struct bulk_obj *file_obj(const struct bulk_plan *p, int kind, const struct plan_routing *x)
{
	const struct bulk_tenant *t = x->pt == SIZE_MAX ? NULL : &p->doc->tenants[p->tenants[x->pt].fi];

	if (kind == ROUTING_TRUNK)
		return t ? &t->trunks[x->fi].o : &p->doc->trunks[x->fi].o;
	return kind == ROUTING_DID ? &t->dids[x->fi].o : &t->policies[x->fi].o;
}

static void problem(struct bulk_report *rep, const struct bulk_plan *p, int kind,
		    const struct plan_routing *x, const char *key, const char *msg)
{
	char path[160];
	const struct bulk_obj *o = file_obj(p, kind, x);

	at_routing(path, sizeof(path), p, kind, x, key);
	bulk_problem(rep, PBX_EINVALID, key ? bulk_vpos(o, key) : o->pos, path, "%s", msg);
}

static void mentioned_set(struct bulk_plan *p, int kind, int row)
{
	if (p->xseen[kind] && row >= 0)
		p->xseen[kind][row] = true;
}

static const char *val(const struct plan_routing *x, int kind, const char *key)
{
	return x->v[bulk_field(schemas[kind], key)];
}

/* ---- trunks ------------------------------------------------------------------------- */

static int plan_trunk(struct bulk_plan *p, pbx_ctx *ctx, size_t pt, size_t fi,
		      const struct bulk_trunk *k, struct bulk_map *rows, struct bulk_report *rep,
		      pbx_error *err)
{
	static const char *const defaults_v[][2] = {
		{ "port", "5060" }, { "transport", "udp" }, { "codecs", "ulaw,alaw" },
		{ "callerid_mode", "pass" }, { "enabled", "true" }, { "match", "" },
	};
	const struct pbx_schema *s = &pbx_schema_trunk;
	const PGresult *res = p->xst.trunks;
	const char *defaults[32] = { NULL }, *name = bulk_get(&k->o, "name");
	size_t row = name ? bulk_map_get(rows, name) : SIZE_MAX;
	struct plan_routing *x;
	char msg[256];

	for (size_t i = 0; i < sizeof(defaults_v) / sizeof(defaults_v[0]); i++)
		defaults[bulk_field(s, defaults_v[i][0])] = defaults_v[i][1];
	if (!(x = add(p, ROUTING_TRUNK, pt, fi, row == SIZE_MAX ? -1 : (int)row)) ||
	    !(x->v = bulk_finals(p, &k->o, res, x->row, p->xcol[ROUTING_TRUNK], defaults)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	x->v[bulk_field(s, "tenant")] = slug_of(p, pt);
	if (x->row >= 0) {
		size_t owner = tenant_of(p, bulk_cell(res, x->row, PQfnumber(res, "_tenant_id")));
		bool global = PQgetisnull(res, x->row, PQfnumber(res, "_tenant_id"));

		snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, x->row, PQfnumber(res, "id")));
		if (global != (pt == SIZE_MAX) || (!global && owner != pt)) {
			snprintf(msg, sizeof(msg), "trunk %s already exists %s%s; a trunk cannot change "
				 "owner (its name makes its Asterisk endpoint)", name,
				 global ? "as a global trunk" : "in tenant ",
				 global ? "" : PQgetvalue(res, x->row, PQfnumber(res, "tenant")));
			problem(rep, p, ROUTING_TRUNK, x, "name", msg);
			return 0;
		}
		mentioned_set(p, ROUTING_TRUNK, x->row);
	}
	/* What a trunk needs, in its final state. */
	if (!val(x, ROUTING_TRUNK, "host"))
		problem(rep, p, ROUTING_TRUNK, x, NULL, "host is required to create a trunk");
	if (!val(x, ROUTING_TRUNK, "auth")) {
		problem(rep, p, ROUTING_TRUNK, x, NULL, "auth (registration or ip_auth) is required to "
			"create a trunk");
	} else if (!strcmp(val(x, ROUTING_TRUNK, "auth"), "registration")) {
		bool stored = x->row >= 0 && !PQgetisnull(res, x->row, PQfnumber(res, "_sealed"));

		if (!val(x, ROUTING_TRUNK, "username"))
			problem(rep, p, ROUTING_TRUNK, x, NULL, "a registration trunk needs a username");
		if ((!k->secret || !*k->secret) && !stored)
			problem(rep, p, ROUTING_TRUNK, x, NULL, "a registration trunk needs a secret; give "
				"it once (it is never exported)");
	} else if (!val(x, ROUTING_TRUNK, "match") || !*val(x, ROUTING_TRUNK, "match")) {
		problem(rep, p, ROUTING_TRUNK, x, NULL, "an ip_auth trunk needs match: the provider's "
			"addresses or networks");
	}
	if (val(x, ROUTING_TRUNK, "callerid_mode") && !strcmp(val(x, ROUTING_TRUNK, "callerid_mode"), "force") &&
	    !val(x, ROUTING_TRUNK, "callerid"))
		problem(rep, p, ROUTING_TRUNK, x, NULL, "callerid_mode force needs the trunk's callerid");
	if (x->row < 0) {
		x->op = OP_CREATE;
		x->secret = k->secret && *k->secret ? k->secret : NULL;
		return 0;
	}
	x->changed = bulk_diff(p, s, x->v, res, x->row, p->xcol[ROUTING_TRUNK], "name,tenant");
	if (k->secret && *k->secret && val(x, ROUTING_TRUNK, "auth") &&
	    !strcmp(val(x, ROUTING_TRUNK, "auth"), "registration")) {
		const char *sealed = bulk_cell(res, x->row, PQfnumber(res, "_sealed"));
		char *plain = NULL;
		pbx_error ignored = PBX_ERROR_INIT;

		/* A secret the file repeats is kept; only a different one (or one this operator
		 * cannot open: it holds no private key) is a change. */
		if (!sealed || pbx_ctx_open_secret(ctx, sealed, &plain, &ignored) < 0 ||
		    strcmp(plain, k->secret)) {
			x->secret = k->secret;
			x->changed = x->changed ? bulk_printf(&p->arena, "%s, secret", x->changed) : "secret";
		}
		pbx_secret_free_str(plain);
	}
	x->op = x->changed ? OP_UPDATE : OP_NONE;
	return 0;
}

/* ---- policies ----------------------------------------------------------------------- */

/* The rules of @fp as the store's _rules string (see pbx_store_bulk_load_routing). */
static const char *rules_key(struct bulk_plan *p, const struct bulk_policy *fp)
{
	struct pbx_store_bulk_buf b = { .p = NULL };
	const char *key;

	pbx_store_bulk_put(&b, "", 1);
	b.n = 0;
	for (size_t i = 0; i < fp->n_rules; i++) {
		const struct bulk_obj *o = &fp->rules[i].o;
		const char *f[5] = { bulk_get(o, "pattern"), bulk_get(o, "action"),
				     bulk_get(o, "strip") ? bulk_get(o, "strip") : "0",
				     bulk_get(o, "prepend") ? bulk_get(o, "prepend") : "",
				     bulk_get(o, "trunks") ? bulk_get(o, "trunks") : "" };

		if (i)
			pbx_store_bulk_put(&b, "\x1e", 1);
		for (int k = 0; k < 5; k++) {
			char num[16];

			if (k)
				pbx_store_bulk_put(&b, "\x1f", 1);
			if (k == 2) {
				/* "007" and "7" strip the same. */
				snprintf(num, sizeof(num), "%ld", strtol(f[k], NULL, 10));
				f[k] = num;
			}
			pbx_store_bulk_put(&b, f[k] ? f[k] : "", f[k] ? strlen(f[k]) : 0);
		}
	}
	pbx_store_bulk_put(&b, "", 1);
	key = b.oom ? NULL : bulk_strdup(&p->arena, b.p);
	free(b.p);
	return key;
}

static int plan_policy(struct bulk_plan *p, size_t pt, size_t fi, const struct bulk_policy *fp,
		       struct bulk_map *rows, pbx_error *err)
{
	const PGresult *res = p->xst.policies;
	const char *name = bulk_get(&fp->o, "name");
	const char *k = name ? bulk_key2(p, p->tenants[pt].id, name) : NULL;
	size_t row = k && p->tenants[pt].id[0] ? bulk_map_get(rows, k) : SIZE_MAX;
	struct plan_routing *x;

	if (!(x = add(p, ROUTING_POLICY, pt, fi, row == SIZE_MAX ? -1 : (int)row)) ||
	    !(x->v = bulk_finals(p, &fp->o, res, x->row, p->xcol[ROUTING_POLICY], NULL)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	x->rules = fp->rules_given || x->row < 0;
	if (x->row < 0) {
		x->op = OP_CREATE;
		return 0;
	}
	mentioned_set(p, ROUTING_POLICY, x->row);
	snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, x->row, PQfnumber(res, "id")));
	/* "rules" is compared as a whole, through the comparable string. */
	x->changed = bulk_diff(p, &pbx_schema_policy, x->v, res, x->row, p->xcol[ROUTING_POLICY],
			       "name,rules");
	if (fp->rules_given) {
		const char *mine = rules_key(p, fp), *theirs = bulk_cell(res, x->row, PQfnumber(res, "_rules"));

		if (!mine)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		if (strcmp(mine, theirs ? theirs : ""))
			x->changed = x->changed ? bulk_printf(&p->arena, "%s, rules", x->changed) : "rules";
		else
			x->rules = false;
	}
	x->op = x->changed ? OP_UPDATE : OP_NONE;
	return 0;
}

/* ---- DIDs --------------------------------------------------------------------------- */

static int plan_did(struct bulk_plan *p, size_t pt, size_t fi, const struct bulk_did *fd,
		    struct bulk_map *rows, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_did;
	const PGresult *res = p->xst.dids;
	const char *defaults[32] = { NULL }, *number = bulk_get(&fd->o, "number");
	size_t row = number ? bulk_map_get(rows, number) : SIZE_MAX;
	struct plan_routing *x;

	defaults[bulk_field(s, "enabled")] = "true";
	if (!(x = add(p, ROUTING_DID, pt, fi, row == SIZE_MAX ? -1 : (int)row)) ||
	    !(x->v = bulk_finals(p, &fd->o, res, x->row, p->xcol[ROUTING_DID], defaults)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	/* Listed under a tenant, it belongs to that tenant: a number can move. */
	x->v[bulk_field(s, "tenant")] = p->tenants[pt].slug;
	if (x->row < 0) {
		x->op = OP_CREATE;
		return 0;
	}
	mentioned_set(p, ROUTING_DID, x->row);
	snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, x->row, PQfnumber(res, "id")));
	x->changed = bulk_diff(p, s, x->v, res, x->row, p->xcol[ROUTING_DID], "number");
	x->op = x->changed ? OP_UPDATE : OP_NONE;
	return 0;
}

/* ---- references in the final state ------------------------------------------------- */

/* Whether plan tenant @pt will have policy @name. */
static bool has_policy(const struct bulk_plan *p, size_t pt, const char *name)
{
	for (size_t i = 0; i < p->n_routing[ROUTING_POLICY]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_POLICY][i];

		if (x->pt == pt && x->op != OP_DELETE && !strcmp(val(x, ROUTING_POLICY, "name"), name))
			return true;
	}
	return false;
}

/* Whether a trunk @name exists in the final state for plan tenant @pt (its own or global). */
static bool has_trunk(const struct bulk_plan *p, size_t pt, const char *name)
{
	for (size_t i = 0; i < p->n_routing[ROUTING_TRUNK]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_TRUNK][i];

		if ((x->pt == pt || x->pt == SIZE_MAX) && x->op != OP_DELETE &&
		    !strcmp(val(x, ROUTING_TRUNK, "name"), name))
			return true;
	}
	return false;
}

static void check_refs(struct bulk_plan *p, struct bulk_report *rep)
{
	int tpol = bulk_field(&pbx_schema_tenant, "default_policy");
	int tem = bulk_field(&pbx_schema_tenant, "emergency_trunk");
	int upol = bulk_field(&pbx_schema_user, "policy"), ust = bulk_field(&pbx_schema_user, "status");
	char path[160], msg[256];

	for (size_t pt = 0; pt < p->n_tenants; pt++) {
		const struct plan_tenant *t = &p->tenants[pt];
		const struct bulk_tenant *ft = &p->doc->tenants[t->fi];

		if (t->v && t->v[tpol] && !has_policy(p, pt, t->v[tpol])) {
			bulk_path(path, sizeof(path), t->fi, SIZE_MAX, SIZE_MAX, "default_policy");
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->o, "default_policy"), path,
				     "policy %s does not exist in %s%s", t->v[tpol], t->slug,
				     bulk_given(&ft->o, "default_policy") ? "" :
				     " (its default policy, which --prune would delete)");
		}
		if (t->v && t->v[tem] && !has_trunk(p, pt, t->v[tem])) {
			bulk_path(path, sizeof(path), t->fi, SIZE_MAX, SIZE_MAX, "emergency_trunk");
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->o, "emergency_trunk"), path,
				     "tenant %s has no trunk %s, and no global trunk has that name%s",
				     t->slug, t->v[tem], bulk_given(&ft->o, "emergency_trunk") ? "" :
				     " (its emergency trunk, which --prune would delete)");
		}
	}
	for (size_t i = 0; i < p->n_users; i++) {
		const struct plan_user *u = &p->users[i];

		if (!u->v[upol] || !strcmp(u->v[ust], "deleted") || has_policy(p, u->pt, u->v[upol]))
			continue;
		if (u->ui == SIZE_MAX) {
			const struct plan_tenant *t = &p->tenants[u->pt];

			bulk_path(path, sizeof(path), t->fi, SIZE_MAX, SIZE_MAX, "policies");
			bulk_problem(rep, PBX_EINVALID, p->doc->tenants[t->fi].o.pos, path,
				     "user %s (not in the file) uses policy %s, which --prune would delete",
				     u->v[bulk_field(&pbx_schema_user, "username")], u->v[upol]);
		} else {
			const struct bulk_user *fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];

			bulk_plan_path(path, sizeof(path), p, u, SIZE_MAX, "policy");
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&fu->o, "policy"), path,
				     "policy %s does not exist in %s%s", u->v[upol], p->tenants[u->pt].slug,
				     bulk_given(&fu->o, "policy") ? "" :
				     " (the user's own policy, which --prune would delete)");
		}
	}
	for (size_t i = 0; i < p->n_routing[ROUTING_POLICY]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_POLICY][i];
		const struct bulk_policy *fp;

		if (x->fi == SIZE_MAX || x->op == OP_DELETE)
			continue;
		fp = &p->doc->tenants[p->tenants[x->pt].fi].policies[x->fi];
		for (size_t r = 0; r < fp->n_rules; r++) {
			char names[PBX_BULK_MAX_VALUE + 1];
			const char *v = bulk_get(&fp->rules[r].o, "trunks");

			snprintf(names, sizeof(names), "%s", v ? v : "");
			for (char *n = strtok(names, ","); n; n = strtok(NULL, ",")) {
				if (has_trunk(p, x->pt, n))
					continue;
				at_routing(path, sizeof(path), p, ROUTING_POLICY, x, NULL);
				snprintf(path + strlen(path), sizeof(path) - strlen(path),
					 ".rules[%zu].trunks", r);
				snprintf(msg, sizeof(msg), "trunk %s is neither %s's own nor a global "
					 "trunk (or --prune would delete it)", n, p->tenants[x->pt].slug);
				bulk_problem(rep, PBX_EINVALID, bulk_vpos(&fp->rules[r].o, "trunks"),
					     path, "%s", msg);
			}
		}
	}
}

/* A DID's destination must name what its tenant will have (as `did create` checks). */
static int check_destinations(struct bulk_plan *p, struct bulk_report *rep, pbx_error *err)
{
	int uname = bulk_field(&pbx_schema_user, "username"), ust = bulk_field(&pbx_schema_user, "status");
	int uext = bulk_field(&pbx_schema_user, "extension");
	int uvm = bulk_field(&pbx_schema_user, "voicemail");
	struct bulk_map live = { .n = 0 };
	char pt[24];
	int r = 0;

	/* What each tenant will have: "<pt>\x1fuser:NAME", "voicemail:NAME", "ext:N". */
	for (size_t k = 0; r == 0 && p->n_routing[ROUTING_DID] && k < p->n_users; k++) {
		const struct plan_user *u = &p->users[k];
		const char *keys[3];

		if (!strcmp(u->v[ust], "deleted"))
			continue;
		snprintf(pt, sizeof(pt), "%zu", u->pt);
		keys[0] = bulk_printf(&p->arena, "%s\x1fuser:%s", pt, u->v[uname]);
		keys[1] = !strcmp(u->v[uvm], "true") ?
			  bulk_printf(&p->arena, "%s\x1fvoicemail:%s", pt, u->v[uname]) : NULL;
		keys[2] = u->v[uext] ? bulk_printf(&p->arena, "%s\x1f" "ext:%s", pt, u->v[uext]) : NULL;
		for (int i = 0; i < 3 && r == 0; i++)
			if (keys[i] && bulk_map_put(&live, keys[i], k) < 0)
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	for (size_t i = 0; r == 0 && i < p->n_routing[ROUTING_DID]; i++) {
		const struct plan_routing *x = &p->routing[ROUTING_DID][i];
		const char *d = val(x, ROUTING_DID, "destination"), *arg;
		char key[160], msg[256];

		if (x->fi == SIZE_MAX || !d || !strncmp(d, "external:", 9) || !(arg = strchr(d, ':')))
			continue;
		/* A destination the number already has is apply's to check (its user may have
		 * gone since): only a new or changed one is checked here. */
		if (x->op == OP_NONE || (x->op == OP_UPDATE && x->changed &&
					 !strstr(x->changed, "destination") && !strstr(x->changed, "tenant")))
			continue;
		snprintf(key, sizeof(key), "%zu\x1f%s", x->pt, d);
		if (bulk_map_get(&live, key) != SIZE_MAX)
			continue;
		snprintf(msg, sizeof(msg), "destination %s: %s has no %s %s", d, p->tenants[x->pt].slug,
			 !strncmp(d, "ext:", 4) ? "user on extension" :
			 !strncmp(d, "voicemail:", 10) ? "user with voicemail" : "user", arg + 1);
		problem(rep, p, ROUTING_DID, x, "destination", msg);
	}
	bulk_map_free(&live);
	return r;
}

/* ---- the whole ---------------------------------------------------------------------- */

/* Prune: what the file's tenants hold of @kind and the file does not list. */
static int prune_kind(struct bulk_plan *p, int kind, pbx_error *err)
{
	const PGresult *res = kind == ROUTING_DID ? p->xst.dids :
			      kind == ROUTING_TRUNK ? p->xst.trunks : p->xst.policies;
	int tcol = PQfnumber(res, "_tenant_id");

	for (int i = 0; i < PQntuples(res); i++) {
		size_t pt = tenant_of(p, bulk_cell(res, i, tcol));
		struct plan_routing *x;

		if (p->xseen[kind][i] || pt == SIZE_MAX)
			continue;
		if (!(x = add(p, kind, pt, SIZE_MAX, i)) ||
		    !(x->v = bulk_alloc(&p->arena, schemas[kind]->n_fields * sizeof(*x->v))))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (size_t k = 0; k < schemas[kind]->n_fields; k++)
			x->v[k] = bulk_cell(res, i, p->xcol[kind][k]);
		snprintf(x->id, sizeof(x->id), "%s", PQgetvalue(res, i, PQfnumber(res, "id")));
		x->op = OP_DELETE;
		p->xseen[kind][i] = true;
	}
	return 0;
}

/* What the file does not list and prune keeps still counts for the references. */
static int keep_kind(struct bulk_plan *p, int kind, pbx_error *err)
{
	const PGresult *res = kind == ROUTING_TRUNK ? p->xst.trunks : p->xst.policies;
	int tcol = PQfnumber(res, "_tenant_id");

	for (int i = 0; i < PQntuples(res); i++) {
		bool global = PQgetisnull(res, i, tcol);
		size_t pt = tenant_of(p, bulk_cell(res, i, tcol));
		struct plan_routing *x;

		if (p->xseen[kind][i] || (!global && pt == SIZE_MAX))
			continue;
		if (!(x = add(p, kind, global ? SIZE_MAX : pt, SIZE_MAX, i)) ||
		    !(x->v = bulk_alloc(&p->arena, schemas[kind]->n_fields * sizeof(*x->v))))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (size_t k = 0; k < schemas[kind]->n_fields; k++)
			x->v[k] = bulk_cell(res, i, p->xcol[kind][k]);
		x->op = OP_NONE;
		p->xseen[kind][i] = true;
	}
	return 0;
}

int bulk_plan_routing(struct bulk_plan *p, pbx_ctx *ctx, bool prune, struct bulk_report *rep,
		      pbx_error *err)
{
	const PGresult *res[ROUTING_N] = { p->xst.dids, p->xst.trunks, p->xst.policies };
	struct bulk_map rows[ROUTING_N] = { { .n = 0 } };
	int r = 0;

	for (int kind = 0; kind < ROUTING_N; kind++) {
		bulk_columns(res[kind], schemas[kind], p->xcol[kind]);
		if (!(p->xseen[kind] = calloc((size_t)PQntuples(res[kind]) + 1, sizeof(bool))))
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (int i = 0; i < PQntuples(res[kind]); i++) {
			const char *k = kind == ROUTING_DID ? PQgetvalue(res[kind], i, PQfnumber(res[kind], "number")) :
					kind == ROUTING_TRUNK ? PQgetvalue(res[kind], i, PQfnumber(res[kind], "name")) :
					bulk_key2(p, PQgetvalue(res[kind], i, PQfnumber(res[kind], "_tenant_id")),
						  PQgetvalue(res[kind], i, PQfnumber(res[kind], "name")));

			if (!k || bulk_map_put(&rows[kind], k, (size_t)i) < 0)
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
	}
	for (size_t i = 0; r == 0 && i < p->doc->n_trunks; i++)
		r = plan_trunk(p, ctx, SIZE_MAX, i, &p->doc->trunks[i], &rows[ROUTING_TRUNK], rep, err);
	for (size_t pt = 0; r == 0 && pt < p->n_tenants; pt++) {
		const struct bulk_tenant *ft = &p->doc->tenants[p->tenants[pt].fi];

		for (size_t i = 0; r == 0 && i < ft->n_trunks; i++)
			r = plan_trunk(p, ctx, pt, i, &ft->trunks[i], &rows[ROUTING_TRUNK], rep, err);
		for (size_t i = 0; r == 0 && i < ft->n_policies; i++)
			r = plan_policy(p, pt, i, &ft->policies[i], &rows[ROUTING_POLICY], err);
		for (size_t i = 0; r == 0 && i < ft->n_dids; i++)
			r = plan_did(p, pt, i, &ft->dids[i], &rows[ROUTING_DID], err);
	}
	for (int kind = 0; r == 0 && kind < ROUTING_N; kind++)
		if (prune && kind != ROUTING_TRUNK)
			r = prune_kind(p, kind, err);
	/* Global trunks are never pruned; a tenant's own are. */
	if (r == 0 && prune) {
		const PGresult *k = p->xst.trunks;

		for (int i = 0; i < PQntuples(k); i++)
			if (PQgetisnull(k, i, PQfnumber(k, "_tenant_id")))
				p->xseen[ROUTING_TRUNK][i] = true;
		r = prune_kind(p, ROUTING_TRUNK, err);
	}
	if (r == 0)
		r = keep_kind(p, ROUTING_TRUNK, err);
	if (r == 0)
		r = keep_kind(p, ROUTING_POLICY, err);
	if (r == 0) {
		check_refs(p, rep);
		r = check_destinations(p, rep, err);
	}
	for (int kind = 0; kind < ROUTING_N; kind++)
		bulk_map_free(&rows[kind]);
	return r;
}
