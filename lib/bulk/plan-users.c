/* SPDX-License-Identifier: MIT */
/*
 * The plan of an import: the file against the database state of its tenants. Objects are
 * matched by natural key (slug, username in the tenant, label of the user). A key the file
 * leaves out keeps its current value (a new object gets the default); an explicit null
 * clears an optional field. A listed user that is soft-deleted is restored. With prune,
 * what the file's tenants hold and the file does not list is deleted (users softly, as
 * `user delete` does). Extensions the file leaves out are allocated by the rules of
 * `user create`: from the tenant's ext_next pointer upwards, skipping every extension a
 * user row holds (deleted users' too), then, once the pointer has passed the end, the
 * lowest extension no live user holds. Every check runs against the final state, so
 * extensions can be swapped within one import. This file plans tenants, users and devices;
 * plan-routing.c plans DIDs, trunks and policies (plan-dids.c, plan-trunks.c,
 * plan-policies.c), pin.c the PINs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "plan.h"

void bulk_plan_path(char *buf, size_t n, const struct bulk_plan *p, const struct plan_user *u,
		    size_t di, const char *key)
{
	bulk_path(buf, n, p->tenants[u->pt].fi, u->ui, di, key);
}

/* ---- tenants ------------------------------------------------------------------------ */

static int plan_tenants(struct bulk_plan *p, struct bulk_report *rep)
{
	const struct pbx_schema *s = &pbx_schema_tenant;
	const char *defaults[32] = { NULL };
	struct bulk_map slugs = { .n = 0 };
	int slug_col = p->tcol[bulk_field(s, "slug")];
	int r = 0;

	for (int i = 0; i < PQntuples(p->st.tenants); i++)
		if (bulk_map_put(&slugs, PQgetvalue(p->st.tenants, i, slug_col), (size_t)i) < 0)
			r = PBX_ERROR;
	defaults[bulk_field(s, "status")] = "active";
	p->tenants = calloc(p->doc->n_tenants ? p->doc->n_tenants : 1, sizeof(*p->tenants));
	if (!p->tenants)
		r = PBX_ERROR;
	for (size_t fi = 0; r == 0 && fi < p->doc->n_tenants; fi++) {
		const struct bulk_tenant *ft = &p->doc->tenants[fi];
		struct plan_tenant *t = &p->tenants[p->n_tenants++];
		const char *slug = bulk_get(&ft->o, "slug"), *range;
		size_t row = bulk_map_get(&slugs, slug);
		char where[160];
		int lo, hi;

		t->fi = fi;
		t->slug = slug;
		t->row = row == SIZE_MAX ? -1 : (int)row;
		defaults[bulk_field(s, "name")] = slug;
		if (!(t->v = bulk_finals(p, &ft->o, p->st.tenants, t->row, p->tcol, defaults))) {
			r = PBX_ERROR;
			break;
		}
		range = t->v[bulk_field(s, "extensions")];
		bulk_path(where, sizeof(where), fi, SIZE_MAX, SIZE_MAX, NULL);
		if (!range) {
			bulk_problem(rep, PBX_EINVALID, ft->o.pos, where,
				     "tenant %s does not exist yet: give its extensions range (MIN-MAX) to create it",
				     slug);
			t->op = OP_CREATE;
			continue;
		}
		if (pbx_tenant_parse_range(where, range, &lo, &hi, NULL) < 0)
			continue;
		t->ext_min = lo;
		t->ext_max = hi;
		if (t->row < 0) {
			t->op = OP_CREATE;
			t->ext_next = lo;
			strcpy(t->id, "");
			continue;
		}
		snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(p->st.tenants, t->row, PQfnumber(p->st.tenants, "id")));
		/* As `tenant update` moves the pointer into a new range. */
		t->ext_next = strtol(PQgetvalue(p->st.tenants, t->row, p->t_next), NULL, 10);
		if (t->ext_next > hi + 1)
			t->ext_next = hi + 1;
		if (t->ext_next < lo)
			t->ext_next = lo;
		t->changed = bulk_diff(p, s, t->v, p->st.tenants, t->row, p->tcol, "slug");
		if (t->changed)
			t->op = OP_UPDATE;
	}
	bulk_map_free(&slugs);
	return r;
}

/* ---- users -------------------------------------------------------------------------- */


static int plan_users(struct bulk_plan *p, bool prune, bool *mentioned, struct bulk_report *rep)
{
	const struct pbx_schema *s = &pbx_schema_user;
	const PGresult *res = p->st.users;
	const char *defaults[32] = { NULL };
	struct bulk_map rows = { .n = 0 }, tids = { .n = 0 };
	int nrows = PQntuples(res), ucol = p->ucol[bulk_field(s, "username")];
	int ext = bulk_field(s, "extension"), status = bulk_field(s, "status");
	int r = 0;

	for (int i = 0; i < nrows && r == 0; i++) {
		const char *k = bulk_key2(p, PQgetvalue(res, i, p->u_tenant), PQgetvalue(res, i, ucol));

		if (!k || bulk_map_put(&rows, k, (size_t)i) < 0)
			r = PBX_ERROR;
	}
	defaults[status] = "active";
	defaults[bulk_field(s, "voicemail")] = "false";
	defaults[bulk_field(s, "dnd")] = "false";
	for (size_t pt = 0; r == 0 && pt < p->n_tenants; pt++) {
		struct plan_tenant *t = &p->tenants[pt];
		const struct bulk_tenant *ft = &p->doc->tenants[t->fi];

		if (t->id[0] && bulk_map_put(&tids, t->id, pt) < 0)
			r = PBX_ERROR;
		for (size_t ui = 0; r == 0 && ui < ft->n_users; ui++) {
			const struct bulk_user *fu = &ft->users[ui];
			const char *name = bulk_get(&fu->o, "username");
			struct plan_user *u = bulk_push((void **)&p->users, &p->n_users, &p->cap_users,
						   sizeof(*u));
			size_t row = SIZE_MAX;

			if (!u) {
				r = PBX_ERROR;
				break;
			}
			u->pt = pt;
			u->ui = ui;
			if (t->id[0]) {
				const char *k = bulk_key2(p, t->id, name);

				row = k ? bulk_map_get(&rows, k) : SIZE_MAX;
			}
			u->row = row == SIZE_MAX ? -1 : (int)row;
			defaults[bulk_field(s, "name")] = name;
			if (!(u->v = bulk_finals(p, &fu->o, res, u->row, p->ucol, defaults))) {
				r = PBX_ERROR;
				break;
			}
			if (u->row < 0) {
				u->op = OP_CREATE;
				u->auto_ext = !u->v[ext];
				continue;
			}
			mentioned[u->row] = true;
			u->pin_hash = bulk_cell(res, u->row, p->u_pin);
			if (!strcmp(PQgetvalue(res, u->row, p->ucol[status]), "deleted")) {
				u->op = OP_RESTORE;
				if (!bulk_given(&fu->o, "status"))
					u->v[status] = "active";
				u->changed = bulk_diff(p, s, u->v, res, u->row, p->ucol, "username");
				continue;
			}
			u->changed = bulk_diff(p, s, u->v, res, u->row, p->ucol, "username");
			u->op = u->changed ? OP_UPDATE : OP_NONE;
		}
	}
	/* What the file does not list: kept, or with prune soft-deleted. */
	for (int i = 0; r == 0 && i < nrows; i++) {
		size_t pt = bulk_map_get(&tids, PQgetvalue(res, i, p->u_tenant));
		struct plan_user *u;

		if (mentioned[i] || pt == SIZE_MAX)
			continue;
		if (!(u = bulk_push((void **)&p->users, &p->n_users, &p->cap_users, sizeof(*u)))) {
			r = PBX_ERROR;
			break;
		}
		u->pt = pt;
		u->ui = SIZE_MAX;
		u->row = i;
		u->pin_hash = bulk_cell(res, i, p->u_pin);
		if (!(u->v = bulk_alloc(&p->arena, s->n_fields * sizeof(*u->v)))) {
			r = PBX_ERROR;
			break;
		}
		for (size_t k = 0; k < s->n_fields; k++)
			u->v[k] = bulk_cell(res, i, p->ucol[k]);
		if (prune && strcmp(u->v[status], "deleted")) {
			u->op = OP_DELETE;
			u->v[status] = "deleted";
		}
	}
	(void)rep;
	bulk_map_free(&rows);
	bulk_map_free(&tids);
	return r;
}

/* ---- extensions ------------------------------------------------------------------- */

struct ext_ent {
	long ext;
	size_t pu;
};

static int cmp_ext(const void *a, const void *b)
{
	const struct ext_ent *x = a, *y = b;

	return x->ext < y->ext ? -1 : x->ext > y->ext ? 1 : x->pu < y->pu ? -1 : x->pu > y->pu;
}

static bool live(const struct bulk_plan *p, const struct plan_user *u)
{
	return strcmp(u->v[bulk_field(&pbx_schema_user, "status")], "deleted") != 0;
}

static bool in_sorted(const struct ext_ent *a, size_t n, long e)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a[mid].ext < e)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo].ext == e;
}

static const char *uname(const struct bulk_plan *p, const struct plan_user *u)
{
	return u->v[bulk_field(&pbx_schema_user, "username")];
}

/* Position of a user's extension in the file, or of the user. */
static struct bulk_pos ext_pos(const struct bulk_plan *p, const struct plan_user *u)
{
	const struct bulk_user *fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];

	return bulk_vpos(&fu->o, "extension");
}

static int plan_extensions(struct bulk_plan *p, size_t pt, const size_t *idx, size_t m,
			   struct bulk_report *rep)
{
	struct plan_tenant *t = &p->tenants[pt];
	const struct bulk_tenant *ft = &p->doc->tenants[t->fi];
	int ext = bulk_field(&pbx_schema_user, "extension");
	struct ext_ent *fixed = NULL, *any = NULL;
	size_t nf = 0, na = 0, outside = 0;
	long lo_out = 0, hi_out = 0;
	char where[160];
	int r = 0;

	if (!t->ext_max)
		return 0;   /* no usable range: reported already */
	fixed = calloc(m + 1, sizeof(*fixed));
	any = calloc(m + 1, sizeof(*any));
	if (!fixed || !any) {
		r = PBX_ERROR;
		goto done;
	}
	/* A restored user gets its old extension back when nobody else holds it. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t q = 0; q < m; q++) {
			size_t i = idx[q];
			struct plan_user *u = &p->users[i];
			bool restoring = u->op == OP_RESTORE && u->ui != SIZE_MAX &&
				!bulk_has(&ft->users[u->ui].o, ext);

			if (u->auto_ext || !u->v[ext] || restoring != (pass == 1))
				continue;
			if (restoring) {
				long e = strtol(u->v[ext], NULL, 10);

				qsort(fixed, nf, sizeof(*fixed), cmp_ext);
				if (e < t->ext_min || e > t->ext_max || in_sorted(fixed, nf, e)) {
					u->auto_ext = true;
					continue;
				}
			}
			if (live(p, u))
				fixed[nf++] = (struct ext_ent){ strtol(u->v[ext], NULL, 10), i };
		}
	}
	qsort(fixed, nf, sizeof(*fixed), cmp_ext);
	for (size_t i = 0; i < nf; i++) {
		const struct plan_user *u = &p->users[fixed[i].pu];
		const struct plan_user *prev = i ? &p->users[fixed[i - 1].pu] : NULL;
		bool from_file = u->ui != SIZE_MAX && bulk_has(&ft->users[u->ui].o, ext);

		if (fixed[i].ext < t->ext_min || fixed[i].ext > t->ext_max) {
			if (from_file && !ft->ext_max) {
				bulk_plan_path(where, sizeof(where), p, u, SIZE_MAX, "extension");
				bulk_problem(rep, PBX_EINVALID, ext_pos(p, u), where,
					     "%ld is outside %s's range %ld-%ld", fixed[i].ext, t->slug,
					     t->ext_min, t->ext_max);
			} else if (!from_file) {
				if (!outside++)
					lo_out = fixed[i].ext;
				hi_out = fixed[i].ext;
			}
		}
		if (!prev || fixed[i - 1].ext != fixed[i].ext)
			continue;
		/* Two live users on one extension: blame the one the file puts there. */
		{
			bool prev_file = prev->ui != SIZE_MAX && bulk_has(&ft->users[prev->ui].o, ext);
			const struct plan_user *culprit = from_file ? u : prev_file ? prev :
							  u->ui != SIZE_MAX ? u : prev;
			const struct plan_user *holder = culprit == u ? prev : u;

			if ((from_file && prev_file) || culprit->ui == SIZE_MAX)
				continue;   /* a duplicate in the file, reported by check-users.c */
			bulk_plan_path(where, sizeof(where), p, culprit, SIZE_MAX, "extension");
			bulk_problem(rep, PBX_EINVALID, ext_pos(p, culprit), where,
				     "extension %ld is already %s's%s", fixed[i].ext, uname(p, holder),
				     holder->ui == SIZE_MAX ? " (a user the file does not list)" : "");
		}
	}
	if (outside) {
		bulk_path(where, sizeof(where), t->fi, SIZE_MAX, SIZE_MAX, "extensions");
		bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->o, "extensions"), where,
			     "range %ld-%ld would leave %zu assigned extension(s) outside (%ld..%ld); "
			     "move those users first", t->ext_min, t->ext_max, outside, lo_out, hi_out);
	}
	/* Allocation: every row's final extension counts as taken for the pointer. */
	for (size_t q = 0; q < m; q++) {
		size_t i = idx[q];
		const struct plan_user *u = &p->users[i];

		if (!u->auto_ext && u->v[ext])
			any[na++] = (struct ext_ent){ strtol(u->v[ext], NULL, 10), i };
	}
	qsort(any, na, sizeof(*any), cmp_ext);
	{
		long ptr = t->ext_next, low = t->ext_min, orig = t->ext_next;
		size_t ai = 0, fi2 = 0, missing = 0;
		struct plan_user *first_missing = NULL;

		for (size_t q = 0; q < m; q++) {
			struct plan_user *u = &p->users[idx[q]];
			long e = -1;

			if (!u->auto_ext)
				continue;
			while (ptr <= t->ext_max) {
				while (ai < na && any[ai].ext < ptr)
					ai++;
				if (ai < na && any[ai].ext == ptr) {
					ptr++;
					continue;
				}
				e = ptr++;
				break;
			}
			if (e < 0) {
				/* Past the end: the lowest extension no live user holds. From the
				 * old pointer on, what no row held went to the users above. */
				while (low <= t->ext_max) {
					while (fi2 < nf && fixed[fi2].ext < low)
						fi2++;
					if ((fi2 < nf && fixed[fi2].ext == low) ||
					    (low >= orig && !in_sorted(any, na, low))) {
						low++;
						continue;
					}
					e = low++;
					break;
				}
			}
			if (e < 0) {
				if (!missing++)
					first_missing = u;
				continue;
			}
			if (!(u->v[ext] = bulk_printf(&p->arena, "%ld", e))) {
				r = PBX_ERROR;
				goto done;
			}
		}
		if (ptr != t->ext_next) {
			t->ext_next = ptr;
			if (t->op == OP_NONE)
				t->next_moved = true;
		}
		if (missing) {
			bulk_plan_path(where, sizeof(where), p, first_missing, SIZE_MAX, NULL);
			bulk_problem(rep, PBX_EINVALID, p->doc->tenants[t->fi].users[first_missing->ui].o.pos,
				     where, "no free extension is left in %s's range %ld-%ld for %zu "
				     "user(s) listed without one; widen the range or give extensions",
				     t->slug, t->ext_min, t->ext_max, missing);
		}
	}
done:
	free(fixed);
	free(any);
	return r;
}

/*
 * A forward to an extension stays in the final range and never points back at the user.
 * Only what changes is checked: a forward the database already holds (a range may have
 * moved since, which `tenant update` allows) does not stop an import that leaves it alone.
 */
static void plan_forwards(struct bulk_plan *p, struct bulk_report *rep)
{
	int fwd = bulk_field(&pbx_schema_user, "forward_to");
	int ext = bulk_field(&pbx_schema_user, "extension");
	char where[160];

	for (size_t i = 0; i < p->n_users; i++) {
		const struct plan_user *u = &p->users[i];
		const struct plan_tenant *t = &p->tenants[u->pt];
		const struct bulk_tenant *ft = &p->doc->tenants[t->fi];
		const char *f = u->v[fwd];
		const char *was_f = u->row >= 0 ? bulk_cell(p->st.users, u->row, p->ucol[fwd]) : NULL;
		const char *was_e = u->row >= 0 ? bulk_cell(p->st.users, u->row, p->ucol[ext]) : NULL;
		bool new_f = u->row < 0 || !was_f || strcmp(was_f, f ? f : "");
		bool new_e = u->row < 0 || !was_e || !u->v[ext] || strcmp(was_e, u->v[ext]);
		long e;

		if (u->ui == SIZE_MAX || !f || f[0] == '+' || !t->ext_max || (!new_f && !new_e))
			continue;
		e = strtol(f, NULL, 10);
		bulk_plan_path(where, sizeof(where), p, u, SIZE_MAX, "forward_to");
		if (new_f && (e < t->ext_min || e > t->ext_max))
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->users[u->ui].o, "forward_to"), where,
				     "forward destination %s is outside %s's range %ld-%ld", f, t->slug,
				     t->ext_min, t->ext_max);
		else if (u->v[ext] && !strcmp(f, u->v[ext]) &&
			 !(bulk_given(&ft->users[u->ui].o, "extension") &&
			   bulk_given(&ft->users[u->ui].o, "forward_to")))
			bulk_problem(rep, PBX_EINVALID, bulk_vpos(&ft->users[u->ui].o, "forward_to"), where,
				     "a user cannot forward to its own extension %s", f);
	}
}

/* ---- devices ------------------------------------------------------------------------ */

static int plan_devices(struct bulk_plan *p, bool prune, struct bulk_report *rep)
{
	const struct pbx_schema *s = &pbx_schema_device;
	const PGresult *res = p->st.devices;
	const char *defaults[32] = { NULL };
	struct bulk_map rows = { .n = 0 }, owners = { .n = 0 };
	int nrows = PQntuples(res), lcol = p->dcol[bulk_field(s, "label")];
	bool *mentioned = calloc((size_t)nrows + 1, sizeof(*mentioned));
	size_t *count = calloc(p->n_users + 1, sizeof(*count));
	int r = mentioned && count ? 0 : PBX_ERROR;

	for (int i = 0; i < nrows && r == 0; i++) {
		const char *k = bulk_key2(p, PQgetvalue(res, i, p->d_user), PQgetvalue(res, i, lcol));

		if (!k || bulk_map_put(&rows, k, (size_t)i) < 0)
			r = PBX_ERROR;
	}
	defaults[bulk_field(s, "transport")] = "udp";
	defaults[bulk_field(s, "force_rport")] = "true";
	defaults[bulk_field(s, "rewrite_contact")] = "true";
	defaults[bulk_field(s, "rtp_symmetric")] = "true";
	defaults[bulk_field(s, "direct_media")] = "false";
	defaults[bulk_field(s, "codecs")] = "ulaw,alaw";
	defaults[bulk_field(s, "enabled")] = "true";
	for (size_t pu = 0; r == 0 && pu < p->n_users; pu++) {
		const struct plan_user *u = &p->users[pu];
		const char *uid = u->row >= 0 ? PQgetvalue(p->st.users, u->row, PQfnumber(p->st.users, "id")) : NULL;
		const struct bulk_user *fu;

		if (uid && bulk_map_put(&owners, uid, pu) < 0)
			r = PBX_ERROR;
		if (u->ui == SIZE_MAX)
			continue;
		fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];
		defaults[bulk_field(s, "user")] = uname(p, u);
		for (size_t di = 0; r == 0 && di < fu->n_devices; di++) {
			const struct bulk_device *fd = &fu->devices[di];
			struct plan_device *d = bulk_push((void **)&p->devices, &p->n_devices,
						     &p->cap_devices, sizeof(*d));
			size_t row = SIZE_MAX;

			if (!d) {
				r = PBX_ERROR;
				break;
			}
			d->pu = pu;
			d->di = di;
			if (uid) {
				const char *k = bulk_key2(p, uid, bulk_get(&fd->o, "label"));

				row = k ? bulk_map_get(&rows, k) : SIZE_MAX;
			}
			d->row = row == SIZE_MAX ? -1 : (int)row;
			if (!(d->v = bulk_finals(p, &fd->o, res, d->row, p->dcol, defaults))) {
				r = PBX_ERROR;
				break;
			}
			d->v[bulk_field(s, "user")] = uname(p, u);
			count[pu]++;
			if (d->row < 0) {
				d->op = OP_CREATE;
				continue;
			}
			mentioned[d->row] = true;
			d->changed = bulk_diff(p, s, d->v, res, d->row, p->dcol, "user");
			d->op = d->changed ? OP_UPDATE : OP_NONE;
		}
	}
	for (int i = 0; r == 0 && i < nrows; i++) {
		size_t pu = bulk_map_get(&owners, PQgetvalue(res, i, p->d_user));
		struct plan_device *d;

		if (mentioned[i] || pu == SIZE_MAX)
			continue;
		if (!prune) {
			count[pu]++;
			continue;
		}
		if (!(d = bulk_push((void **)&p->devices, &p->n_devices, &p->cap_devices, sizeof(*d)))) {
			r = PBX_ERROR;
			break;
		}
		d->pu = pu;
		d->di = SIZE_MAX;
		d->row = i;
		d->op = OP_DELETE;
		if (!(d->v = bulk_alloc(&p->arena, s->n_fields * sizeof(*d->v)))) {
			r = PBX_ERROR;
			break;
		}
		for (size_t k = 0; k < s->n_fields; k++)
			d->v[k] = bulk_cell(res, i, p->dcol[k]);
	}
	for (size_t pu = 0; r == 0 && pu < p->n_users; pu++) {
		const struct plan_user *u = &p->users[pu];
		char where[160];

		if (u->ui == SIZE_MAX || count[pu] <= PBX_DEVICE_MAX_PER_USER)
			continue;
		bulk_plan_path(where, sizeof(where), p, u, SIZE_MAX, "devices");
		bulk_problem(rep, PBX_EINVALID, p->doc->tenants[p->tenants[u->pt].fi].users[u->ui].o.pos,
			     where, "%s would have %zu devices with the ones the file does not list; "
			     "a user has at most %d (list them all and use --prune)", uname(p, u),
			     count[pu], PBX_DEVICE_MAX_PER_USER);
	}
	free(mentioned);
	free(count);
	bulk_map_free(&rows);
	bulk_map_free(&owners);
	return r;
}

int bulk_plan_build(struct bulk_plan *p, const struct pbx_bulk_doc *doc, bool prune,
		    struct bulk_report *rep)
{
	bool *mentioned;
	int r;

	p->doc = doc;
	bulk_columns(p->st.tenants, &pbx_schema_tenant, p->tcol);
	bulk_columns(p->st.users, &pbx_schema_user, p->ucol);
	bulk_columns(p->st.devices, &pbx_schema_device, p->dcol);
	p->t_min = PQfnumber(p->st.tenants, "_ext_min");
	p->t_max = PQfnumber(p->st.tenants, "_ext_max");
	p->t_next = PQfnumber(p->st.tenants, "_ext_next");
	p->u_tenant = PQfnumber(p->st.users, "_tenant_id");
	p->u_pin = PQfnumber(p->st.users, "_pin_hash");
	p->d_user = PQfnumber(p->st.devices, "_user_id");
	if (!(mentioned = calloc((size_t)PQntuples(p->st.users) + 1, sizeof(*mentioned))))
		return PBX_ERROR;
	r = plan_tenants(p, rep);
	if (r == 0)
		r = plan_users(p, prune, mentioned, rep);
	free(mentioned);
	if (r == 0) {
		/* The users of each tenant, in plan order (a counting sort by tenant). */
		size_t *start = calloc(p->n_tenants + 2, sizeof(*start));
		size_t *idx = malloc((p->n_users + 1) * sizeof(*idx));

		if (!start || !idx)
			r = PBX_ERROR;
		for (size_t i = 0; r == 0 && i < p->n_users; i++)
			start[p->users[i].pt + 2]++;
		for (size_t k = 2; r == 0 && k < p->n_tenants + 2; k++)
			start[k] += start[k - 1];
		for (size_t i = 0; r == 0 && i < p->n_users; i++)
			idx[start[p->users[i].pt + 1]++] = i;
		for (size_t pt = 0; r == 0 && pt < p->n_tenants; pt++)
			r = plan_extensions(p, pt, idx + start[pt], start[pt + 1] - start[pt], rep);
		free(start);
		free(idx);
	}
	if (r == 0)
		plan_forwards(p, rep);
	if (r == 0)
		r = plan_devices(p, prune, rep);
	return r;
}

void bulk_plan_free(struct bulk_plan *p)
{
	for (size_t i = 0; i < p->n_devices; i++) {
		if (p->devices[i].secret)
			pbx_secret_wipe(p->devices[i].secret, strlen(p->devices[i].secret));
		free(p->devices[i].secret);
		free(p->devices[i].sealed);
		free(p->devices[i].sip_username);
	}
	free(p->tenants);
	free(p->users);
	free(p->devices);
	for (int kind = 0; kind < ROUTING_N; kind++) {
		for (size_t i = 0; i < p->n_routing[kind]; i++)
			free(p->routing[kind][i].sealed);
		free(p->routing[kind]);
		free(p->xseen[kind]);
	}
	bulk_map_free(&p->policy_ids);
	pbx_store_bulk_routing_free(&p->xst);
	pbx_store_bulk_audit_free(p->audit);
	pbx_store_bulk_state_free(&p->st);
	bulk_arena_free(&p->arena);
}
