/* SPDX-License-Identifier: MIT */
/*
 * An end user's own self-service (`pbxctl me`): the operator's user from the session's
 * login, changes only through the SECURITY DEFINER functions of migration 0007
 * (pbx_me_set_dnd, pbx_me_set_forward), which lock the row, validate, write and audit on
 * the server with the session's login as actor. Nothing here names a user: PostgreSQL
 * decides whose row it is.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pbx/operator.h"
#include "pbx/selfservice.h"
#include "pbx/user.h"
#include "ctx.h"
#include "pg.h"
#include "user-internal.h"

int pbx_me_whoami(pbx_ctx *ctx, struct pbx_operator *ret, pbx_error *err)
{
	struct pbx_operator op;
	char who[160];
	int r;

	if ((r = pbx_operator_whoami(ctx, &op, err)) < 0)
		return r;
	if (strcmp(op.role, "end_user") || !op.user_id) {
		pbx_operator_describe(&op, who, sizeof(who));
		return pbx_errorf(err, PBX_EPERM, "me", "role",
				  "`pbxctl me` acts on an end user's own user; %s is not an "
				  "end_user (admins use `pbxctl user`)", who);
	}
	*ret = op;
	return 0;
}

/*
 * The user's row in pbx_schema_user order, from the columns an end user may read
 * (migration 0007): neither whether a PIN is set (pin_hash) nor the policy's name.
 */
#define ME_SELECT \
	"SELECT u.id::text AS id, t.slug AS tenant, u.username, u.display_name AS name, " \
	"u.email, u.extension::text AS extension, u.status, u.outbound_callerid, " \
	"u.voicemail::text AS voicemail, u.dnd::text AS dnd, u.forward_to, " \
	PBX_SQL_TIME("u.created_at") " AS created_at, " \
	PBX_SQL_TIME("u.updated_at") " AS updated_at " \
	"FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1::bigint"

static int me_load(pbx_ctx *ctx, const struct pbx_operator *op, struct pbx_rows *ret,
		   pbx_error *err)
{
	char id[24];
	const char *p = id;
	PGconn *pg;
	int r;

	if (!(pg = pbx_ctx_pg(ctx, err)))
		return err->code;
	snprintf(id, sizeof(id), "%lld", op->user_id);
	if ((r = pbx_pg_select(pg, ME_SELECT, 1, &p, "me", &pbx_schema_user, ret, err)) < 0)
		return r;
	if (ret->n_rows == 0) {
		pbx_rows_free(ret);
		return pbx_errorf(err, PBX_ENOTFOUND, "me", NULL, "user %s of %s not found",
				  op->user, op->tenant);
	}
	return 0;
}

int pbx_me_show(pbx_ctx *ctx, struct pbx_operator *op, struct pbx_rows *ret, pbx_error *err)
{
	int r;

	if ((r = pbx_me_whoami(ctx, op, err)) < 0)
		return r;
	return me_load(ctx, op, ret, err);
}

/* The server's one-line reason (which names the value and what is allowed), on the field. */
static int server_refusal(const char *field, pbx_error *err)
{
	char detail[PBX_ERR_DETAIL];
	char *m = detail, *nl;

	snprintf(detail, sizeof(detail), "%s", err->detail);
	if (!strncmp(m, "ERROR:", 6))
		m += 6;
	m += strspn(m, " ");
	if ((nl = strchr(m, '\n')))
		*nl = '\0';
	if ((nl = strstr(m, " (SQLSTATE ")))
		*nl = '\0';
	return pbx_errorf(err, PBX_EINVALID, "me", field, "%s: %s", field, m);
}

/* Run one pbx_me_* function with @param, then show the user; *@ret_changed from @field. */
static int me_set(pbx_ctx *ctx, const char *sql, const char *param, const char *field,
		  struct pbx_operator *op, struct pbx_rows *ret, bool *ret_changed,
		  pbx_error *err)
{
	struct pbx_rows before, after;
	const char *b, *a;
	PGconn *pg;
	int r;

	if ((r = pbx_me_show(ctx, op, &before, err)) < 0)
		return r;
	if (!(pg = pbx_ctx_pg(ctx, err))) {
		pbx_rows_free(&before);
		return err->code;
	}
	r = pbx_pg_exec(pg, sql, 1, &param, "me", err);
	if (r < 0 && !strcmp(err->sqlstate, "22023"))
		r = server_refusal(field, err);
	if (r == 0)
		r = me_load(ctx, op, &after, err);
	if (r < 0) {
		pbx_rows_free(&before);
		return r;
	}
	b = pbx_rows_get(&before, 0, field);
	a = pbx_rows_get(&after, 0, field);
	*ret_changed = strcmp(b ? b : "", a ? a : "") != 0;
	pbx_rows_free(&before);
	*ret = after;
	return 0;
}

int pbx_me_set_dnd(pbx_ctx *ctx, bool on, struct pbx_operator *op, struct pbx_rows *ret,
		   bool *ret_changed, pbx_error *err)
{
	return me_set(ctx, "SELECT 1 FROM pbx_me_set_dnd($1::boolean)", on ? "true" : "false",
		      "dnd", op, ret, ret_changed, err);
}

int pbx_me_set_forward(pbx_ctx *ctx, const char *dest, struct pbx_operator *op,
		       struct pbx_rows *ret, bool *ret_changed, pbx_error *err)
{
	return me_set(ctx, "SELECT 1 FROM pbx_me_set_forward($1::text)", dest ? dest : "",
		      "forward_to", op, ret, ret_changed, err);
}

int me_wait_request(PGconn *pg, const char *sql, const char *id, int wait_ms,
		    const struct pbx_schema *schema, const char *field, struct pbx_rows *ret,
		    pbx_error *err)
{
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	char why[PBX_ERR_MESSAGE];
	const char *status;
	int r;

	for (int waited = 0;; waited += 100) {
		if ((r = pbx_pg_select(pg, sql, 1, &id, "me", schema, ret, err)) < 0)
			return r;
		status = pbx_rows_get(ret, 0, "status");
		if (!status || strcmp(status, "queued") || waited >= wait_ms)
			break;
		pbx_rows_free(ret);
		nanosleep(&pause, NULL);
	}
	if (status && (!strcmp(status, "done") || !strcmp(status, "queued")))
		return 0;
	snprintf(why, sizeof(why), "%s", pbx_rows_get(ret, 0, "reason") ?
		 pbx_rows_get(ret, 0, "reason") : "refused");
	pbx_rows_free(ret);
	return pbx_errorf(err, PBX_EINVALID, "me", field, "%s: %s", field, why);
}

int me_run_requests(pbx_ctx *ctx, int (*one)(pbx_ctx *, PGconn *, pbx_error *), pbx_error *err)
{
	PGconn *pg = pbx_ctx_pg(ctx, err);
	int r, n = 0;

	if (!pg)
		return err->code;
	while ((r = one(ctx, pg, err)) == 1)
		n++;
	return r < 0 ? r : n;
}
