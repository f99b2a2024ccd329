/* SPDX-License-Identifier: MIT */
/*
 * The statements on the path of every user and device change, prepared once per
 * connection, the end of such a change (its statement returns the after-image and appends
 * the audit row in one round trip), and the fast path of plain creates: BEGIN, prepared
 * statements and COMMIT sent at once in a libpq pipeline. See prepared.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-events.h>

#include "pbx/device.h"
#include "change.h"
#include "ctx.h"
#include "prepared.h"

/*
 * Per-connection state, kept as libpq instance data of the connection (no global state):
 * which statements it has prepared. Cleared when the connection is reset, freed with it.
 */
struct conn_state {
	unsigned long long prepared;
};

static int conn_event(PGEventId id, void *info, void *pass)
{
	PGconn *pg = NULL;

	(void)pass;
	if (id == PGEVT_CONNRESET)
		pg = ((PGEventConnReset *)info)->conn;
	else if (id == PGEVT_CONNDESTROY)
		pg = ((PGEventConnDestroy *)info)->conn;
	if (pg) {
		struct conn_state *st = PQinstanceData(pg, conn_event);

		if (id == PGEVT_CONNDESTROY) {
			free(st);
			PQsetInstanceData(pg, conn_event, NULL);
		} else if (st) {
			*st = (struct conn_state){ .prepared = 0 };
		}
	}
	return 1;
}

/* The state of @pg, made on first use; NULL when out of memory. */
static struct conn_state *conn_state(PGconn *pg)
{
	struct conn_state *st = PQinstanceData(pg, conn_event);

	if (st)
		return st;
	if (!(st = calloc(1, sizeof(*st))))
		return NULL;
	if (!PQregisterEventProc(pg, conn_event, "pbx-user-store", NULL) ||
	    !PQsetInstanceData(pg, conn_event, st)) {
		free(st);
		return NULL;
	}
	return st;
}

PGresult *store_stmt(PGconn *pg, enum store_stmt slot, const char *sql, int n,
		     const char *const *params, const char *object, pbx_error *err)
{
	struct conn_state *st = conn_state(pg);
	char name[32];
	PGresult *res;

	if (slot >= STMT_MAX_ || STMT_MAX_ > 64)
		PBX_BUG("store_stmt: bad slot");
	/* Without the state every call falls back to a one-off statement. */
	if (!st)
		return pbx_pg_query(pg, sql, n, params, object, err);
	snprintf(name, sizeof(name), "pbx_user_%d", (int)slot);
	if (!(st->prepared & (1ull << slot))) {
		res = PQprepare(pg, name, sql, n, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pbx_pg_error(pg, res, object, err);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		st->prepared |= 1ull << slot;
	}
	res = PQexecPrepared(pg, name, n, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
		return res;
	pbx_pg_error(pg, res, object, err);
	PQclear(res);
	return NULL;
}

int store_tx_begin(PGconn *pg, pbx_error *err)
{
	/*
	 * The statements of a change are prepared and their generic plans are good; without
	 * this PostgreSQL keeps re-planning some of them on every call, which costs more than
	 * running them. A generic plan is made once per connection, from the size the tables
	 * have then: made while they are nearly empty (a new database, a first tenant), it
	 * would scan whole tables for ever after, so sequential scans are ruled out; every
	 * statement of a change finds its rows through an index. SET LOCAL ends with the
	 * transaction, so nobody else is affected.
	 */
	PGresult *res = PQexec(pg, "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; "
			       "SET LOCAL enable_seqscan = off");

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pbx_pg_error(pg, res, NULL, err);
		PQclear(res);
		pbx_pg_rollback(pg);
		return err->code;
	}
	PQclear(res);
	return 0;
}

/* The settings of store_tx_begin as one statement, for a pipeline. */
static const struct store_step tx_settings = {
	.slot = STMT_TX_SETTINGS,
	.sql = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
	       "set_config('enable_seqscan', 'off', true)",
};

/* A command of a pipeline: what it is, the statement slot it prepares, the step it runs. */
enum cmd_kind { CMD_BEGIN, CMD_PREPARE, CMD_STEP, CMD_COMMIT };
struct cmd {
	enum cmd_kind kind;
	enum store_stmt slot;
	size_t step;
};

/*
 * Queue BEGIN, the settings and each step (each prepared first where this connection has
 * not yet), then COMMIT; return how many commands were queued (fewer when sending fails).
 */
static size_t send_pipeline(PGconn *pg, struct conn_state *st, const struct store_step *steps,
			    size_t n, struct cmd *cmd)
{
	unsigned long long queued = 0;
	size_t sent = 0;
	char name[32];

	if (!PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		return sent;
	cmd[sent++] = (struct cmd){ CMD_BEGIN, STMT_MAX_, 0 };
	/* Statement 0 is the settings, which must come before the plans of the others. */
	for (size_t i = 0; i <= n; i++) {
		const struct store_step *s = i == 0 ? &tx_settings : &steps[i - 1];
		unsigned long long bit = 1ull << s->slot;

		snprintf(name, sizeof(name), "pbx_user_%d", (int)s->slot);
		if (!((st->prepared | queued) & bit)) {
			if (!PQsendPrepare(pg, name, s->sql, s->n, NULL))
				return sent;
			cmd[sent++] = (struct cmd){ CMD_PREPARE, s->slot, 0 };
			queued |= bit;
		}
		if (!PQsendQueryPrepared(pg, name, s->n, s->params, NULL, NULL, 0))
			return sent;
		cmd[sent++] = i == 0 ? (struct cmd){ CMD_BEGIN, s->slot, 0 } :
				       (struct cmd){ CMD_STEP, s->slot, i - 1 };
	}
	if (PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		cmd[sent++] = (struct cmd){ CMD_COMMIT, STMT_MAX_, 0 };
	return sent;
}

int store_fast(PGconn *pg, const struct store_step *steps, size_t n,
	       struct pbx_rows *const *rows, pbx_error *err)
{
	enum { MAX_STEPS = 1 + PBX_DEVICE_MAX_PER_USER };
	struct cmd cmd[4 + 2 * MAX_STEPS];
	PGresult *res[MAX_STEPS] = { NULL };
	struct conn_state *st = conn_state(pg);
	bool committed = false;
	size_t sent;
	int r = 0;

	if (!st || n > MAX_STEPS || STMT_MAX_ > 64 || PQpipelineStatus(pg) != PQ_PIPELINE_OFF ||
	    PQtransactionStatus(pg) != PQTRANS_IDLE || !PQenterPipelineMode(pg))
		return 1;
	sent = send_pipeline(pg, st, steps, n, cmd);
	/* Without the sync nothing runs (and nothing is read back). */
	if (PQpipelineSync(pg) != 1)
		sent = 0;
	/* Each command's results end with NULL; after a failed one the rest are skipped. */
	for (size_t c = 0; c < sent; c++) {
		PGresult *one;

		while ((one = PQgetResult(pg))) {
			ExecStatusType rs = PQresultStatus(one);
			bool ok = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;

			if (ok && cmd[c].kind == CMD_PREPARE)
				st->prepared |= 1ull << cmd[c].slot;
			if (ok && cmd[c].kind == CMD_COMMIT)
				committed = !strcmp(PQcmdStatus(one), "COMMIT");
			if (ok && cmd[c].kind == CMD_STEP && !res[cmd[c].step])
				res[cmd[c].step] = one;
			else
				PQclear(one);
		}
	}
	if (sent > 0)
		PQclear(PQgetResult(pg));       /* the sync */
	PQexitPipelineMode(pg);
	if (!committed) {
		if (PQpipelineStatus(pg) == PQ_PIPELINE_OFF &&
		    PQtransactionStatus(pg) != PQTRANS_IDLE)
			pbx_pg_rollback(pg);
		for (size_t i = 0; i < n; i++)
			PQclear(res[i]);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = res[i] && PQntuples(res[i]) == 1 ? pbx_pg_fill(res[i], rows[i], err) :
				pbx_errorf(err, PBX_ERROR, rows[i]->schema->name, NULL,
					   "the new %s vanished", rows[i]->schema->name);
		PQclear(res[i]);
	}
	return r;
}

int store_finish_prepared(pbx_ctx *ctx, PGconn *pg, enum store_stmt slot, const char *sql,
			  const struct pbx_schema *schema, const char *id, const char *slug,
			  const char *action, const char *before,
			  const struct pbx_rows *before_rows, bool force_changed,
			  struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	const char *p[5] = { id, pbx_ctx_source(ctx), slug, action, before };
	struct pbx_rows rows;
	PGresult *res;
	int r;

	pbx_rows_init(&rows, schema);
	/* One round trip loads the result and appends its audit row. */
	res = store_stmt(pg, slot, sql, 5, p, schema->name, err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	r = PQntuples(res) == 1 ? pbx_pg_fill(res, &rows, err) :
		pbx_errorf(err, PBX_ERROR, schema->name, NULL, "the changed row vanished");
	PQclear(res);
	if (r < 0)
		goto fail;
	return store_settle(pg, &rows, before_rows, force_changed, ret, ret_changed, err);
fail:
	pbx_pg_rollback(pg);
	pbx_rows_free(&rows);
	return r;
}
