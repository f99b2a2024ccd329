/* SPDX-License-Identifier: MIT */
/*
 * pbx_bulk_export: the import format from one read-only snapshot. Each tenant is written
 * with its PBX_FIELD_EXPORT keys in schema order, then "users" (not deleted, by extension)
 * with theirs, each user with "devices" (by label). The keys and the typing are the
 * schemas' and the renderers', so `pbxctl export | pbxctl import --dry-run -` finds
 * nothing to change. Secrets and PINs are never written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "bulk-internal.h"
#include "bulk-store.h"
#include "ctx.h"
#include "pg.h"

/*
 * One object: its export keys, in schema order, from row @row of @res (a column "_key"
 * overrides "key"). JSON fields (a policy's rules) are written by the caller.
 */
static void object(struct bulk_emitter *em, const struct pbx_schema *s, const PGresult *res,
		   int row)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		const struct pbx_field *f = &s->fields[i];
		char over[64];
		int col;

		snprintf(over, sizeof(over), "_%s", f->key);
		col = PQfnumber(res, over) >= 0 ? PQfnumber(res, over) : PQfnumber(res, f->key);
		if (!(f->flags & PBX_FIELD_EXPORT) || f->type == PBX_FT_JSON)
			continue;
		bulk_emit_key(em, f->key);
		bulk_emit_value(em, f->type, col < 0 || PQgetisnull(res, row, col) ? NULL :
				PQgetvalue(res, row, col));
	}
}

/* A list of objects of @s from @res (all rows). */
static void objects(struct bulk_emitter *em, const char *key, const struct pbx_schema *s,
		    const PGresult *res)
{
	bulk_emit_key(em, key);
	bulk_emit_seq_start(em, false);
	for (int i = 0; i < PQntuples(res); i++) {
		bulk_emit_map_start(em);
		object(em, s, res, i);
		bulk_emit_map_end(em);
	}
	bulk_emit_seq_end(em);
}

/* The tenant's trunks, policies with their rules, and DIDs. */
static int routing(struct bulk_emitter *em, PGconn *pg, const char *id, pbx_error *err)
{
	PGresult *ks = pbx_store_bulk_export_trunks(pg, id, err), *ps = NULL, *rs = NULL, *ds = NULL;
	int r = 0;

	if (!ks || !(ps = pbx_store_bulk_export_policies(pg, id, err)) ||
	    !(rs = pbx_store_bulk_export_rules(pg, id, err)) ||
	    !(ds = pbx_store_bulk_export_dids(pg, id, err))) {
		r = err->code;
		goto done;
	}
	objects(em, "trunks", &pbx_schema_trunk, ks);
	bulk_emit_key(em, "policies");
	bulk_emit_seq_start(em, false);
	for (int i = 0; i < PQntuples(ps); i++) {
		const char *name = PQgetvalue(ps, i, PQfnumber(ps, "name"));

		bulk_emit_map_start(em);
		object(em, &pbx_schema_policy, ps, i);
		bulk_emit_key(em, "rules");
		bulk_emit_seq_start(em, false);
		for (int k = 0; k < PQntuples(rs); k++) {
			if (strcmp(PQgetvalue(rs, k, PQfnumber(rs, "policy")), name))
				continue;
			bulk_emit_map_start(em);
			object(em, &pbx_schema_policy_rule, rs, k);
			bulk_emit_map_end(em);
		}
		bulk_emit_seq_end(em);
		bulk_emit_map_end(em);
	}
	bulk_emit_seq_end(em);
	objects(em, "dids", &pbx_schema_did, ds);
done:
	PQclear(ks);
	PQclear(ps);
	PQclear(rs);
	PQclear(ds);
	return r;
}

static int tenant(struct bulk_emitter *em, PGconn *pg, const PGresult *ts, int row,
		  pbx_error *err)
{
	const char *id = PQgetvalue(ts, row, PQfnumber(ts, "id"));
	PGresult *us = pbx_store_bulk_export_users(pg, id, err), *ds = NULL;
	int dev = 0, nd, ucol, dcol;

	if (!us)
		return err->code;
	if (!(ds = pbx_store_bulk_export_devices(pg, id, err))) {
		PQclear(us);
		return err->code;
	}
	nd = PQntuples(ds);
	ucol = PQfnumber(us, "username");
	dcol = PQfnumber(ds, "user");
	bulk_emit_map_start(em);
	object(em, &pbx_schema_tenant, ts, row);
	if (routing(em, pg, id, err) < 0) {
		PQclear(us);
		PQclear(ds);
		return err->code;
	}
	bulk_emit_key(em, "users");
	bulk_emit_seq_start(em, false);
	/* Devices come sorted by username; find each user's run of them. */
	for (int u = 0; u < PQntuples(us); u++) {
		const char *name = PQgetvalue(us, u, ucol);
		int lo = 0, hi = nd;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (strcmp(PQgetvalue(ds, mid, dcol), name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		bulk_emit_map_start(em);
		object(em, &pbx_schema_user, us, u);
		bulk_emit_key(em, "devices");
		bulk_emit_seq_start(em, false);
		for (dev = lo; dev < nd && !strcmp(PQgetvalue(ds, dev, dcol), name); dev++) {
			bulk_emit_map_start(em);
			object(em, &pbx_schema_device, ds, dev);
			bulk_emit_map_end(em);
		}
		bulk_emit_seq_end(em);
		bulk_emit_map_end(em);
	}
	bulk_emit_seq_end(em);
	bulk_emit_map_end(em);
	PQclear(us);
	PQclear(ds);
	return 0;
}

int pbx_bulk_export(pbx_ctx *ctx, const struct pbx_bulk_export_opts *o, FILE *out,
		    pbx_error *err)
{
	struct bulk_emitter *em = NULL;
	PGconn *pg = pbx_ctx_pg(ctx, err);
	PGresult *ts = NULL, *gs;
	int r;

	if (!pg)
		return err->code;
	if ((r = pbx_store_bulk_begin(pg, false, NULL, err)) < 0)
		return r;
	if (!(ts = pbx_store_bulk_export_tenants(pg, o->tenant, err))) {
		r = err->code;
		goto done;
	}
	if (o->tenant && PQntuples(ts) == 0) {
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "tenant %s does not exist", o->tenant);
		goto done;
	}
	if (bulk_emit_open(&em, out, o->format) < 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto done;
	}
	if (!(gs = pbx_store_bulk_export_trunks(pg, NULL, err))) {
		r = err->code;
		bulk_emit_close(em);
		goto done;
	}
	bulk_emit_map_start(em);
	bulk_emit_key(em, "version");
	bulk_emit_value(em, PBX_FT_INT, "1");
	/* Global trunks: every tenant's policies may name them. */
	objects(em, "trunks", &pbx_schema_trunk, gs);
	PQclear(gs);
	bulk_emit_key(em, "tenants");
	bulk_emit_seq_start(em, false);
	for (int i = 0; r == 0 && i < PQntuples(ts); i++)
		r = tenant(em, pg, ts, i, err);
	bulk_emit_seq_end(em);
	bulk_emit_map_end(em);
	if (bulk_emit_close(em) < 0 && r == 0)
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot write the export");
done:
	PQclear(ts);
	pbx_pg_rollback(pg);
	return r;
}
