/* SPDX-License-Identifier: MIT */
/*
 * Writing a plan, inside the import's transaction, set-based: tenants one by one (there
 * are few), then each kind of change of users and devices as one batch through the bulk
 * store. The order keeps every constraint true between statements: devices and users that
 * go are removed first, so their extensions and labels are free for what comes; updates
 * (which may swap extensions) come before creates; devices follow their users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "pg.h"
#include "plan.h"

struct batch {
	struct pbx_store_bulk_batch b;
	size_t cap;
	bool oom;
};

/* Append a row of @n cells; the strings must outlive the batch. */
static void row(struct batch *bt, const char *const *cells, size_t n)
{
	if (bt->oom)
		return;
	bt->b.n_cols = n;
	if ((bt->b.n_rows + 1) * n > bt->cap) {
		size_t cap = bt->cap ? bt->cap * 2 : 64 * n;
		const char **p = realloc((void *)bt->b.cells, cap * sizeof(*p));

		if (!p) {
			bt->oom = true;
			return;
		}
		bt->b.cells = p;
		bt->cap = cap;
	}
	memcpy(bt->b.cells + bt->b.n_rows * n, cells, n * sizeof(*cells));
	bt->b.n_rows++;
}

static void batch_free(struct batch *bt)
{
	free((void *)bt->b.cells);
	*bt = (struct batch){ .cap = 0 };
}

/* An array literal of the ids of the state rows of @res at @rows. */
static char *ids_of(const PGresult *res, const int *rows, size_t n)
{
	const char **v = malloc((n + 1) * sizeof(*v));
	int col = PQfnumber(res, "id");
	char *s;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = PQgetvalue(res, rows[i], col);
	s = pbx_store_bulk_array(v, n);
	free(v);
	return s;
}

static void progress(const struct pbx_bulk_import_opts *o, size_t done, size_t total)
{
	if (o->progress)
		o->progress(o->progress_userdata, "writing", done, total);
}

static int tenants(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_tenant;
	int name = bulk_field(s, "name"), status = bulk_field(s, "status");
	int inbound = bulk_field(s, "default_inbound");
	const char **ids = NULL, **next = NULL;
	char *a = NULL, *b = NULL;
	size_t n = 0;
	int r = 0;

	if (!(ids = calloc(p->n_tenants + 1, sizeof(*ids))) ||
	    !(next = calloc(p->n_tenants + 1, sizeof(*next)))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto done;
	}
	for (size_t i = 0; r == 0 && i < p->n_tenants; i++) {
		struct plan_tenant *t = &p->tenants[i];
		char lo[16], hi[16], nx[16];

		snprintf(lo, sizeof(lo), "%ld", t->ext_min);
		snprintf(hi, sizeof(hi), "%ld", t->ext_max);
		snprintf(nx, sizeof(nx), "%ld", t->ext_next);
		if (t->op == OP_CREATE) {
			const char *v[7] = { t->slug, t->v[name], t->v[status], lo, hi, nx, t->v[inbound] };

			r = pbx_store_bulk_tenant_create(pg, v, t->id, err);
		} else if (t->op == OP_UPDATE) {
			const char *v[6] = { t->v[name], t->v[status], lo, hi, nx, t->v[inbound] };

			r = pbx_store_bulk_tenant_update(pg, t->id, v, err);
		} else if (t->next_moved) {
			ids[n] = t->id;
			if (!(next[n++] = bulk_strdup(&p->arena, nx)))
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
	}
	if (r == 0 && n) {
		if (!(a = pbx_store_bulk_array(ids, n)) || !(b = pbx_store_bulk_array(next, n)))
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		else
			r = pbx_store_bulk_ext_next(pg, a, b, err);
	}
done:
	free(ids);
	free(next);
	free(a);
	free(b);
	return r;
}

/* Remove what prune removes: devices first, then users (softly). */
static int removals(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	int *rows = malloc((p->n_devices + p->n_users + 1) * sizeof(*rows));
	size_t n = 0;
	char *ids = NULL;
	int r = 0;

	if (!rows)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].op == OP_DELETE)
			rows[n++] = p->devices[i].row;
	if (n && (!(ids = ids_of(p->st.devices, rows, n)) ||
		  (r = pbx_store_bulk_devices_delete(pg, ids, err)) < 0))
		goto done;
	free(ids);
	ids = NULL;
	n = 0;
	for (size_t i = 0; i < p->n_users; i++)
		if (p->users[i].op == OP_DELETE)
			rows[n++] = p->users[i].row;
	if (n && (!(ids = ids_of(p->st.users, rows, n)) ||
		  (r = pbx_store_bulk_users_delete(pg, ids, err)) < 0))
		goto done;
done:
	if (r == 0 && n && !ids)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	free(ids);
	free(rows);
	return r;
}

/* Ids for the @n new rows of @table (*@ret malloc'd, NULL when none). */
static int new_ids(struct bulk_plan *p, PGconn *pg, const char *table, size_t n,
		   char (**ret)[24], pbx_error *err)
{
	*ret = NULL;
	return n ? pbx_store_bulk_ids(pg, table, n, ret, err) : 0;
}

/* The sealed *98 verifier of each user whose PIN changed (NULL where it was cleared). */
static int pin_verifiers(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	struct pbx_pg_array ids, sealed;
	int r = pbx_pg_array_open(&ids) | pbx_pg_array_open(&sealed);

	for (size_t i = 0; r == 0 && i < p->n_users; i++) {
		const struct plan_user *u = &p->users[i];

		if (!u->pin_changed || u->op == OP_DELETE)
			continue;
		pbx_pg_array_add(&ids, u->id);
		pbx_pg_array_add(&sealed, u->pin_sealed);
	}
	if ((r | pbx_pg_array_close(&ids) | pbx_pg_array_close(&sealed)) != 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	else if (ids.n)
		r = pbx_store_bulk_pin_verifiers(pg, ids.text, sealed.text, err);
	free(ids.text);
	free(sealed.text);
	return r;
}

static int users(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_user;
	int k[9] = { bulk_field(s, "name"), bulk_field(s, "email"), bulk_field(s, "extension"),
		     bulk_field(s, "status"), bulk_field(s, "outbound_callerid"),
		     bulk_field(s, "voicemail"), -1, bulk_field(s, "dnd"), bulk_field(s, "forward_to") };
	int idcol = PQfnumber(p->st.users, "id"), uname = bulk_field(s, "username");
	int policy = bulk_field(s, "policy");
	struct batch upd = { .cap = 0 }, add = { .cap = 0 };
	char (*ids)[24] = NULL;
	size_t n_new = 0, next = 0;
	int r;

	for (size_t i = 0; i < p->n_users; i++) {
		if (p->users[i].row >= 0)
			snprintf(p->users[i].id, sizeof(p->users[i].id), "%s",
				 PQgetvalue(p->st.users, p->users[i].row, idcol));
		n_new += p->users[i].op == OP_CREATE;
	}
	if ((r = new_ids(p, pg, "users", n_new, &ids, err)) < 0)
		return r;
	for (size_t i = 0; i < p->n_users; i++) {
		struct plan_user *u = &p->users[i];
		const struct plan_tenant *t = &p->tenants[u->pt];

		if (u->op == OP_CREATE) {
			const char *c[PBX_STORE_BULK_USER_NEW_COLS];

			snprintf(u->id, sizeof(u->id), "%s", ids[next++]);
			c[PBX_SBU_ID] = u->id;
			c[PBX_SBU_TENANT_ID] = t->id;
			c[PBX_SBU_TENANT] = t->slug;
			c[PBX_SBU_USERNAME] = u->v[uname];
			for (int j = 0; j < 9; j++)
				c[PBX_SBU_NAME + j] = k[j] < 0 ? u->pin_hash : u->v[k[j]];
			c[PBX_SBU_POLICY] = u->v[policy];
			c[PBX_SBU_POLICY_ID] = bulk_policy_id(p, u->pt, u->v[policy]);
			row(&add, c, PBX_STORE_BULK_USER_NEW_COLS);
		} else if (u->op == OP_UPDATE || u->op == OP_RESTORE) {
			const char *c[PBX_STORE_BULK_USER_UPD_COLS];

			c[0] = u->id;
			c[1] = u->op == OP_RESTORE ? "restore" : "update";
			for (int j = 0; j < 9; j++)
				c[2 + j] = k[j] < 0 ? u->pin_hash : u->v[k[j]];
			c[11] = bulk_policy_id(p, u->pt, u->v[policy]);
			row(&upd, c, PBX_STORE_BULK_USER_UPD_COLS);
		}
	}
	if (upd.oom || add.oom)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r == 0 && upd.b.n_rows)
		r = pbx_store_bulk_users_update(pg, &upd.b, err);
	if (r == 0 && add.b.n_rows)
		r = pbx_store_bulk_users_create(pg, &add.b, p->audit, err);
	batch_free(&upd);
	batch_free(&add);
	free(ids);
	return r == 0 ? pin_verifiers(p, pg, err) : r;
}

static int devices(struct bulk_plan *p, PGconn *pg, pbx_error *err)
{
	const struct pbx_schema *s = &pbx_schema_device;
	int k[7] = { bulk_field(s, "transport"), bulk_field(s, "force_rport"),
		     bulk_field(s, "rewrite_contact"), bulk_field(s, "rtp_symmetric"),
		     bulk_field(s, "direct_media"), bulk_field(s, "codecs"), bulk_field(s, "enabled") };
	int idcol = PQfnumber(p->st.devices, "id"), label = bulk_field(s, "label");
	int uname = bulk_field(&pbx_schema_user, "username");
	struct batch upd = { .cap = 0 }, add = { .cap = 0 };
	char (*ids)[24] = NULL;
	size_t n_new = 0, next = 0;
	int r;

	for (size_t i = 0; i < p->n_devices; i++)
		n_new += p->devices[i].op == OP_CREATE;
	if ((r = new_ids(p, pg, "devices", n_new, &ids, err)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];
		const struct plan_user *u = &p->users[d->pu];

		if (d->op == OP_UPDATE) {
			const char *c[PBX_STORE_BULK_DEVICE_UPD_COLS] = {
				PQgetvalue(p->st.devices, d->row, idcol) };

			for (int j = 0; j < 7; j++)
				c[1 + j] = d->v[k[j]];
			row(&upd, c, PBX_STORE_BULK_DEVICE_UPD_COLS);
		} else if (d->op == OP_CREATE) {
			const char *c[PBX_STORE_BULK_DEVICE_NEW_COLS] = {
				[PBX_SBD_ID] = ids[next++],
				[PBX_SBD_TENANT_ID] = p->tenants[u->pt].id,
				[PBX_SBD_TENANT] = p->tenants[u->pt].slug,
				[PBX_SBD_USER_ID] = u->id,
				[PBX_SBD_USER] = u->v[uname],
				[PBX_SBD_LABEL] = d->v[label],
				[PBX_SBD_SIP_USERNAME] = d->sip_username,
				[PBX_SBD_SEALED] = d->sealed,
				[PBX_SBD_CODECS_ARRAY] = bulk_printf(&p->arena, "{%s}", d->v[k[5]]),
			};

			for (int j = 0; j < 7; j++)
				c[PBX_SBD_TRANSPORT + j] = d->v[k[j]];
			if (!c[PBX_SBD_CODECS_ARRAY])
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			row(&add, c, PBX_STORE_BULK_DEVICE_NEW_COLS);
		}
	}
	if (r == 0 && (upd.oom || add.oom))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (r == 0 && upd.b.n_rows)
		r = pbx_store_bulk_devices_update(pg, &upd.b, err);
	if (r == 0 && add.b.n_rows)
		r = pbx_store_bulk_devices_create(pg, &add.b, p->audit, err);
	batch_free(&upd);
	batch_free(&add);
	free(ids);
	return r;
}

int bulk_exec(struct bulk_plan *p, PGconn *pg, const struct pbx_bulk_import_opts *o,
	      pbx_error *err)
{
	size_t total = p->n_tenants + p->n_users + p->n_devices + 1;
	int r;

	progress(o, 0, total);
	if ((r = tenants(p, pg, err)) < 0 || (r = bulk_exec_routing_before(p, pg, err)) < 0)
		return r;
	progress(o, p->n_tenants, total);
	if ((r = removals(p, pg, err)) < 0)
		return r;
	if ((r = users(p, pg, err)) < 0)
		return r;
	progress(o, p->n_tenants + p->n_users, total);
	if ((r = devices(p, pg, err)) < 0 || (r = bulk_exec_routing_after(p, pg, err)) < 0)
		return r;
	progress(o, total - 1, total);
	return 0;
}
