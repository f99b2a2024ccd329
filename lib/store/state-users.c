/* SPDX-License-Identifier: MIT */
/*
 * Reading the desired state for apply: tenants, their users and enabled devices, in one
 * REPEATABLE READ snapshot, so that generated files and realtime rows agree.
 */
#include <stdlib.h>
#include <string.h>

#include "pbx/secret.h"
#include "ctx.h"
#include "pg.h"
#include "state.h"

static char *dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : strdup(PQgetvalue(res, row, col));
}

static bool is_true(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

static int split_codecs(const char *list, struct pbx_state_device *d)
{
	char *copy = strdup(list), *save = NULL;
	size_t n = 1;

	if (!copy)
		return -1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	d->codecs = calloc(n, sizeof(char *));
	if (!d->codecs) {
		free(copy);
		return -1;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!(d->codecs[d->n_codecs++] = strdup(tok))) {
			free(copy);
			return -1;
		}
	free(copy);
	return 0;
}

/*
 * The rows of every query come in the order of the arrays (tenants by slug, users by
 * extension), so the lookups start at the element found last (@hint) and are linear over
 * the whole state, not quadratic.
 */
static struct pbx_state_tenant *find_tenant(struct pbx_state *s, const char *slug, size_t *hint)
{
	for (size_t k = 0; k < s->n_tenants; k++) {
		size_t i = (*hint + k) % s->n_tenants;

		if (!strcmp(s->tenants[i].slug, slug)) {
			*hint = i;
			return &s->tenants[i];
		}
	}
	return NULL;
}

static struct pbx_state_user *find_user(struct pbx_state_tenant *t, const char *username,
					size_t *hint)
{
	for (size_t k = 0; k < t->n_users; k++) {
		size_t i = (*hint + k) % t->n_users;

		if (!strcmp(t->users[i].username, username)) {
			*hint = i;
			return &t->users[i];
		}
	}
	return NULL;
}

/* The device whose sealed secret is opened, and its user and tenant for the problem. */
struct sealed_of {
	struct pbx_state_tenant *t;
	struct pbx_state_user *u;
	struct pbx_state_device *d;
};

/*
 * Open the devices' SIP secrets, all at once on every core (a first apply opens 10 000);
 * a secret that does not open is its tenant's first problem, named by the device, as
 * before; only running out of memory fails the load.
 */
static int open_passwords(pbx_ctx *ctx, struct pbx_ctx_sealed *v, const struct sealed_of *whose,
			  size_t n, pbx_error *err)
{
	int r = pbx_ctx_open_secrets(ctx, v, n, err);

	for (size_t i = 0; i < n; i++) {
		struct pbx_state_tenant *t = whose[i].t;

		whose[i].d->password = v[i].plain;
		if (v[i].r < 0 && v[i].err && !t->problem && r == 0) {
			snprintf(v[i].err->object, sizeof(v[i].err->object), "device %s of %s",
				 whose[i].d->label, whose[i].u->username);
			pbx_sanitize(v[i].err->object);
			t->problem = v[i].err;
			v[i].err = NULL;
		}
		free(v[i].err);
	}
	return r;
}

static int load(pbx_ctx *ctx, PGconn *pg, const char *tenant, bool open_secrets,
		struct pbx_state *s, pbx_error *err)
{
	const char *p[1] = { tenant };
	size_t t_hint = 0, u_hint = 0, n_sealed = 0;
	struct pbx_ctx_sealed *sealed = NULL;
	struct sealed_of *whose = NULL;
	PGresult *res;
	int r = 0;

	res = pbx_pg_query(pg, "SELECT t.slug, t.display_name, t.status, t.id, COALESCE(c.gen, 0), "
			   "(SELECT gen FROM apply_changes WHERE tenant_id = 0) "
			   "FROM tenants t LEFT JOIN apply_changes c ON c.tenant_id = t.id "
			   "WHERE $1::text IS NULL OR t.slug = $1 ORDER BY t.slug", 1, p, "tenant", err);
	if (!res)
		return err->code;
	if (tenant && PQntuples(res) == 0) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", tenant);
	}
	s->tenants = calloc((size_t)PQntuples(res) + 1, sizeof(*s->tenants));
	if (!s->tenants)
		goto oom;
	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_tenant *t = &s->tenants[s->n_tenants++];

		t->slug = strdup(PQgetvalue(res, i, 0));
		t->name = strdup(PQgetvalue(res, i, 1));
		t->suspended = !strcmp(PQgetvalue(res, i, 2), "suspended");
		t->id = atol(PQgetvalue(res, i, 3));
		t->gen = atoll(PQgetvalue(res, i, 4));
		s->shared_gen = atoll(PQgetvalue(res, i, 5));
		if (!t->slug || !t->name)
			goto oom;
	}
	PQclear(res);

	res = pbx_pg_query(pg,
		"SELECT t.slug, u.username, u.display_name, u.extension::text, u.email, u.forward_to, "
		"u.outbound_callerid, u.status = 'active', u.voicemail, u.dnd, "
		"(SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.enabled)::int "
		"FROM users u JOIN tenants t ON t.id = u.tenant_id "
		"WHERE u.status <> 'deleted' AND ($1::text IS NULL OR t.slug = $1) "
		"ORDER BY t.slug, u.extension", 1, p, "user", err);
	if (!res)
		return err->code;
	for (int i = 0; i < PQntuples(res); i++) {
		struct pbx_state_tenant *t = find_tenant(s, PQgetvalue(res, i, 0), &t_hint);
		struct pbx_state_user *u;

		if (!t)
			continue;
		if (!t->users) {
			/* rows come by tenant: this one's users are the run starting here */
			int n = i;

			while (n < PQntuples(res) && !strcmp(PQgetvalue(res, n, 0), t->slug))
				n++;
			if (!(t->users = calloc((size_t)(n - i) + 1, sizeof(*t->users))))
				goto oom;
		}
		u = &t->users[t->n_users++];
		u->username = dup_or_null(res, i, 1);
		u->name = dup_or_null(res, i, 2);
		u->extension = dup_or_null(res, i, 3);
		u->email = dup_or_null(res, i, 4);
		u->forward = dup_or_null(res, i, 5);
		u->callerid = dup_or_null(res, i, 6);
		u->active = is_true(res, i, 7);
		u->voicemail = is_true(res, i, 8);
		u->dnd = is_true(res, i, 9);
		u->devices = calloc((size_t)atoi(PQgetvalue(res, i, 10)) + 1, sizeof(*u->devices));
		if (!u->username || !u->extension || !u->devices)
			goto oom;
	}
	PQclear(res);

	res = pbx_pg_query(pg,
		"SELECT t.slug, u.username, d.sip_username, d.label, d.secret_sealed, d.transport, "
		"array_to_string(d.codecs, ','), d.force_rport, d.rewrite_contact, d.rtp_symmetric, "
		"d.direct_media FROM devices d JOIN users u ON u.id = d.user_id "
		"JOIN tenants t ON t.id = d.tenant_id "
		"WHERE d.enabled AND u.status <> 'deleted' AND ($1::text IS NULL OR t.slug = $1) "
		"ORDER BY t.slug, u.extension, d.sip_username", 1, p, "device", err);
	if (!res)
		return err->code;
	if (open_secrets && (!(sealed = calloc((size_t)PQntuples(res) + 1, sizeof(*sealed))) ||
			     !(whose = calloc((size_t)PQntuples(res) + 1, sizeof(*whose)))))
		goto oom;
	for (int i = 0; i < PQntuples(res) && r == 0; i++) {
		struct pbx_state_tenant *t = find_tenant(s, PQgetvalue(res, i, 0), &t_hint);
		struct pbx_state_user *u = t ? find_user(t, PQgetvalue(res, i, 1), &u_hint) : NULL;
		struct pbx_state_device *d;

		if (!u)
			continue;
		d = &u->devices[u->n_devices++];
		d->endpoint = strdup(PQgetvalue(res, i, 2));
		d->label = strdup(PQgetvalue(res, i, 3));
		d->transport = strdup(PQgetvalue(res, i, 5));
		d->force_rport = is_true(res, i, 7);
		d->rewrite_contact = is_true(res, i, 8);
		d->rtp_symmetric = is_true(res, i, 9);
		d->direct_media = is_true(res, i, 10);
		if (!d->endpoint || !d->label || !d->transport ||
		    split_codecs(PQgetvalue(res, i, 6), d) < 0)
			goto oom;
		if (open_secrets) {
			sealed[n_sealed] = (struct pbx_ctx_sealed){ .sealed = PQgetvalue(res, i, 4) };
			whose[n_sealed++] = (struct sealed_of){ t, u, d };
		}
	}
	r = open_passwords(ctx, sealed, whose, n_sealed, err);
	free(sealed);
	free(whose);
	PQclear(res);
	return r;
oom:
	free(sealed);
	free(whose);
	PQclear(res);
	return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
}

int pbx_state_load(pbx_ctx *ctx, const char *tenant, bool open_secrets, struct pbx_state **ret,
		   pbx_error *err)
{
	struct pbx_state *s;
	PGconn *pg = pbx_ctx_pg(ctx, err);
	int r;

	if (!pg)
		return err->code;
	/* Without the private key no tenant's secrets open: one error for the whole load,
	 * not the same problem for every tenant. */
	if (open_secrets && !pbx_ctx_opening_key(ctx, err))
		return err->code;
	if (!(s = calloc(1, sizeof(*s))))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	r = pbx_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, err);
	if (r == 0) {
		r = load(ctx, pg, tenant, open_secrets, s, err);
		if (r == 0)
			r = pbx_state_routing_load(ctx, pg, tenant, open_secrets, s, err);
		pbx_pg_rollback(pg);
	}
	if (r < 0) {
		pbx_state_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void pbx_state_free(struct pbx_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_tenants; i++) {
		struct pbx_state_tenant *t = &s->tenants[i];

		for (size_t j = 0; j < t->n_users; j++) {
			struct pbx_state_user *u = &t->users[j];

			for (size_t k = 0; k < u->n_devices; k++) {
				struct pbx_state_device *d = &u->devices[k];

				free(d->endpoint);
				free(d->label);
				if (d->password)
					pbx_secret_free_str(d->password);
				free(d->transport);
				for (size_t c = 0; c < d->n_codecs; c++)
					free(d->codecs[c]);
				free(d->codecs);
			}
			free(u->devices);
			free(u->username);
			free(u->name);
			free(u->extension);
			free(u->email);
			free(u->forward);
			free(u->callerid);
		}
		free(t->users);
		free(t->problem);
		free(t->slug);
		free(t->name);
	}
	free(s->tenants);
	pbx_state_routing_free(s->routing);
	free(s);
}
