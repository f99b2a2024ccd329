/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL connection, statements with parameters only, and the one SQLSTATE-to-code
 * mapping of libpbx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "embedded.h"
#include "pg.h"

void pbx_pg_where(PGconn *pg, char *buf, size_t n)
{
	const char *host = pg ? PQhost(pg) : NULL;
	const char *port = pg ? PQport(pg) : NULL;

	snprintf(buf, n, "%s:%s", host && *host ? host : "localhost",
		 port && *port ? port : "5432");
}

int pbx_pg_array_open(struct pbx_pg_array *a)
{
	*a = (struct pbx_pg_array){ .f = NULL };
	if (!(a->f = open_memstream(&a->text, &a->len)))
		return -1;
	fputc('{', a->f);
	return 0;
}

void pbx_pg_array_add(struct pbx_pg_array *a, const char *v)
{
	if (!a->f)
		return;
	if (a->n++)
		fputc(',', a->f);
	if (!v) {
		fputs("NULL", a->f);
		return;
	}
	fputc('"', a->f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', a->f);
		fputc(*v, a->f);
	}
	fputc('"', a->f);
}

int pbx_pg_array_close(struct pbx_pg_array *a)
{
	int r;

	if (!a->f)
		return -1;
	fputc('}', a->f);
	r = fclose(a->f) ? -1 : 0;
	a->f = NULL;
	return r;
}

static void notice_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pbx_pg_connect(pbx_ctx *ctx, PGconn **ret, pbx_error *err)
{
	char timeout[16];
	/* Later keys win over the conninfo's: database.sslmode and sslrootcert when set. */
	const char *keys[7] = { "dbname", "connect_timeout", "application_name", "options" };
	const char *vals[7] = { ctx->cfg->database_url, timeout, "pbxctl", "-c TimeZone=UTC -c jit=off" };
	size_t n = 4;
	PGconn *pg;
	char where[300];

	snprintf(timeout, sizeof(timeout), "%d", ctx->connect_timeout);
	if (ctx->cfg->db_sslmode) {
		keys[n] = "sslmode";
		vals[n++] = ctx->cfg->db_sslmode;
	}
	if (ctx->cfg->db_sslrootcert) {
		keys[n] = "sslrootcert";
		vals[n++] = ctx->cfg->db_sslrootcert;
	}
	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (PQstatus(pg) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pg);
		int code = PBX_EUNAVAILABLE;

		pbx_pg_where(pg, where, sizeof(where));
		if (strstr(m, "authentication failed") || strstr(m, "no pg_hba.conf entry") ||
		    strstr(m, "permission denied"))
			code = PBX_EPERM;
		if (code == PBX_EPERM)
			pbx_errorf(err, code, NULL, NULL, "postgresql at %s refused the login", where);
		else if (strstr(m, "certificate") || strstr(m, "SSL") || strstr(m, "root.crt"))
			/* a certificate from another CA, a wrong host name, no TLS on the server */
			pbx_errorf(err, code, NULL, "sslmode", "postgresql at %s: TLS failed: %.*s",
				   where, (int)strcspn(m, "\n"), m);
		else
			pbx_errorf(err, code, NULL, NULL, "postgresql at %s is unreachable", where);
		pbx_error_set_detail(err, "%s", m);
		snprintf(err->backend, sizeof(err->backend), "postgresql");
		PQfinish(pg);
		return code;
	}
	PQsetNoticeProcessor(pg, notice_quiet, NULL);
	pbx_log(ctx, PBX_LOG_DEBUG, "connected to postgresql at %s:%s", PQhost(pg), PQport(pg));
	*ret = pg;
	return 0;
}

int pbx_pg_check_schema(PGconn *pg, pbx_error *err)
{
	PGresult *res = PQexecParams(pg, "SELECT count(*) FROM schema_migrations", 0, NULL, NULL,
				     NULL, NULL, 0);
	long have;
	int r = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (st && !strcmp(st, "42P01"))
			r = pbx_errorf(err, PBX_EINVALID, "database", NULL,
				       "schema is not initialised; run `pbxctl db migrate`");
		else
			r = pbx_pg_error(pg, res, "database", err);
		PQclear(res);
		return r;
	}
	have = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if ((size_t)have < pbx_migrations_pg_count)
		return pbx_errorf(err, PBX_EINVALID, "database", NULL,
				  "schema has %ld of %zu migrations; run `pbxctl db migrate`", have,
				  pbx_migrations_pg_count);
	if ((size_t)have > pbx_migrations_pg_count)
		return pbx_errorf(err, PBX_EINVALID, "database", NULL,
				  "schema has %ld migrations, newer than this pbxctl (%zu); upgrade pbxctl",
				  have, pbx_migrations_pg_count);
	return r;
}

/*
 * The constraints of migration 0009, which guard what no single row can: their own sentence,
 * with the value the server names in its detail ("...=(value)").
 */
static bool known_constraint(const char *constraint, const char *detail, const char *object,
			     pbx_error *err, int *ret_code)
{
	static const struct {
		const char *constraint, *field, *before, *after;
		int code;
	} known[] = {
		{ "asterisk_ids_pkey", "name", "its Asterisk id ", " is already used by another "
		  "device or trunk (ids are unique across all tenants); choose another name",
		  PBX_ECONFLICT },
		{ "trunks_match_width", "match", "address range ", " is too wide: a tenant's trunk "
		  "matches at most a /24 (IPv4) or /48 (IPv6), a global trunk a /16 or /32",
		  PBX_EINVALID },
		{ "trunks_match_overlap", "match", "address range ", " overlaps a range of another "
		  "owner's ip_auth trunk, and Asterisk could not tell their calls apart",
		  PBX_ECONFLICT },
	};
	const char *v = detail ? strstr(detail, ")=(") : NULL;
	int len = v ? (int)strcspn(v + 3, ")") : 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(constraint, known[i].constraint)) {
			*ret_code = pbx_errorf(err, known[i].code, object, known[i].field,
					       "%s%.*s%s", known[i].before, len, v ? v + 3 : "",
					       known[i].after);
			return true;
		}
	return false;
}

int pbx_pg_error(PGconn *pg, const PGresult *res, const char *object, pbx_error *err)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	char where[300], denied[160];
	int code = PBX_ERROR;
	const char *msg = "the database refused the change";

	if (!st || PQstatus(pg) != CONNECTION_OK) {
		pbx_pg_where(pg, where, sizeof(where));
		pbx_errorf(err, PBX_EUNAVAILABLE, NULL, NULL, "postgresql at %s is unreachable",
			   where);
		code = PBX_EUNAVAILABLE;
	} else {
		if (constraint && known_constraint(constraint, detail, object, err, &code)) {
			msg = NULL;
		} else if (!strcmp(st, "23505")) {
			code = PBX_ECONFLICT;
			msg = "already exists";
		} else if (!strcmp(st, "23503")) {
			code = PBX_ECONFLICT;
			msg = "is still referenced, or refers to something that does not exist";
		} else if (!strcmp(st, "23514") || !strcmp(st, "23502") || !strncmp(st, "22", 2)) {
			code = PBX_EINVALID;
			msg = "a value is out of the allowed range";
		} else if (!strcmp(st, "42501")) {
			/* A table privilege or a row-level security policy of migration 0007. */
			code = PBX_EPERM;
			snprintf(denied, sizeof(denied), "not allowed for operator %s", PQuser(pg));
			msg = denied;
		} else if (!strcmp(st, "55P03")) {
			code = PBX_EBUSY;
			msg = "is locked by another operation; try again";
		} else if (!strcmp(st, "40001") || !strcmp(st, "40P01")) {
			code = PBX_EBUSY;
			msg = "conflicted with a concurrent change; try again";
		} else if (!strncmp(st, "08", 2) || !strcmp(st, "57P01")) {
			code = PBX_EUNAVAILABLE;
			msg = "lost the connection to postgresql";
		}
		if (msg)
			pbx_errorf(err, code, object, NULL, "%s", msg);
	}
	if (err) {
		snprintf(err->backend, sizeof(err->backend), "postgresql");
		if (st)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", st);
		pbx_error_set_detail(err, "%s%s%s (SQLSTATE %s)", primary ? primary :
				     PQerrorMessage(pg), detail ? ": " : "", detail ? detail : "",
				     st ? st : "none");
	}
	return code;
}

PGresult *pbx_pg_query(PGconn *pg, const char *sql, int n, const char *const *params,
		       const char *object, pbx_error *err)
{
	PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	pbx_pg_error(pg, res, object, err);
	PQclear(res);
	return NULL;
}

int pbx_pg_exec(PGconn *pg, const char *sql, int n, const char *const *params,
		const char *object, pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, sql, n, params, object, err);

	if (!res)
		return err ? err->code : PBX_ERROR;
	PQclear(res);
	return 0;
}

int pbx_pg_begin(PGconn *pg, pbx_error *err)
{
	return pbx_pg_exec(pg, "BEGIN", 0, NULL, NULL, err);
}

int pbx_pg_commit(PGconn *pg, pbx_error *err)
{
	return pbx_pg_exec(pg, "COMMIT", 0, NULL, NULL, err);
}

void pbx_pg_rollback(PGconn *pg)
{
	PQclear(PQexec(pg, "ROLLBACK"));
}

int pbx_pg_fill(const PGresult *res, struct pbx_rows *rows, pbx_error *err)
{
	int nf = PQnfields(res);
	int map[64];

	if (nf > 64)
		PBX_BUG("pbx_pg_fill: too many columns");
	for (int c = 0; c < nf; c++)
		map[c] = pbx_schema_index(rows->schema, PQfname(res, c));
	for (int i = 0; i < PQntuples(res); i++) {
		long row = pbx_rows_add(rows);

		if (row < 0)
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		for (int c = 0; c < nf; c++) {
			if (map[c] < 0 || PQgetisnull(res, i, c))
				continue;
			if (pbx_rows_set(rows, (size_t)row, rows->schema->fields[map[c]].key,
					 PQgetvalue(res, i, c)) < 0)
				return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
	}
	return 0;
}

int pbx_pg_select(PGconn *pg, const char *sql, int n, const char *const *params,
		  const char *object, const struct pbx_schema *schema, struct pbx_rows *ret,
		  pbx_error *err)
{
	PGresult *res = pbx_pg_query(pg, sql, n, params, object, err);
	struct pbx_rows rows;
	int r;

	if (!res)
		return err->code;
	pbx_rows_init(&rows, schema);
	r = pbx_pg_fill(res, &rows, err);
	PQclear(res);
	if (r < 0) {
		pbx_rows_free(&rows);
		return r;
	}
	*ret = rows;
	return 0;
}
