/* SPDX-License-Identifier: MIT */
/*
 * The MariaDB connection of the realtime module: connecting with timeouts and utf8mb4,
 * the one function that maps MariaDB error numbers to pbx codes, prepared statement and
 * transaction helpers, and the schema migration (the embedded SQL file split into its
 * statements, then a check that every column pbxctl writes exists).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

#include "embedded.h"
#include "realtime-internal.h"

/* "The client was disconnected by the server because of inactivity" (MariaDB 10.3+) */
#define RT_ER_CLIENT_INTERACTION_TIMEOUT 4031

int rt_code_for_errno(unsigned int errnum)
{
	switch (errnum) {
	case ER_DUP_ENTRY:
	case ER_DUP_KEY:
	case ER_DUP_UNIQUE:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		return PBX_ECONFLICT;
	case ER_DBACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case ER_OPTION_PREVENTS_STATEMENT:   /* --read-only server */
		return PBX_EPERM;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_SSL_CONNECTION_ERROR:
	case ER_CON_COUNT_ERROR:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_NET_READ_ERROR:
	case ER_NET_READ_INTERRUPTED:
	case ER_NET_ERROR_ON_WRITE:
	case ER_NET_WRITE_INTERRUPTED:
	case ER_UNKNOWN_COM_ERROR:           /* Galera node not ready */
	case RT_ER_CLIENT_INTERACTION_TIMEOUT:
		return PBX_EUNAVAILABLE;
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
		return PBX_EBUSY;
	case ER_DATA_TOO_LONG:
	case WARN_DATA_TRUNCATED:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_BAD_NULL_ERROR:
	case ER_WARN_DATA_OUT_OF_RANGE:
		return PBX_EINVALID;
	default:
		return PBX_ERROR;
	}
}

static int vfail(pbx_realtime *rt, unsigned int errnum, const char *sqlstate,
		 const char *text, pbx_error *err, const char *object, const char *fmt,
		 va_list ap) __attribute__((format(printf, 7, 0)));

static int vfail(pbx_realtime *rt, unsigned int errnum, const char *sqlstate,
		 const char *text, pbx_error *err, const char *object, const char *fmt,
		 va_list ap)
{
	int code = rt_code_for_errno(errnum);

	if (code == PBX_EUNAVAILABLE)
		pbx_errorf(err, code, NULL, NULL, "mariadb at %s is unreachable", rt->target);
	else
		pbx_verrorf(err, code, object, NULL, fmt, ap);
	if (!err)
		return code;
	pbx_error_set_detail(err, "%s (MariaDB error %u)", text ? text : "", errnum);
	snprintf(err->backend, sizeof(err->backend), "mariadb");
	if (sqlstate)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%.5s", sqlstate);
	if (errnum == ER_NO_SUCH_TABLE || errnum == ER_BAD_FIELD_ERROR)
		pbx_error_set_hint(err, "Run `pbxctl db migrate` to create or check the realtime "
				   "tables.");
	return code;
}

int rt_fail(pbx_realtime *rt, unsigned int errnum, const char *sqlstate, const char *text,
	    pbx_error *err, const char *object, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(rt, errnum, sqlstate, text, err, object, fmt, ap);
	va_end(ap);
	return r;
}

int rt_fail_db(pbx_realtime *rt, pbx_error *err, const char *object, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(rt, mysql_errno(rt->db), mysql_sqlstate(rt->db), mysql_error(rt->db), err,
		  object, fmt, ap);
	va_end(ap);
	return r;
}

int rt_fail_stmt(pbx_realtime *rt, MYSQL_STMT *st, pbx_error *err, const char *object,
		 const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(rt, mysql_stmt_errno(st), mysql_stmt_sqlstate(st), mysql_stmt_error(st), err,
		  object, fmt, ap);
	va_end(ap);
	return r;
}

int pbx_realtime_connect(const struct pbx_realtime_config *cfg, pbx_realtime **ret,
			 pbx_error *err)
{
	pbx_realtime *rt;
	unsigned int timeout;
	unsigned int errnum;
	int r;

	if (!cfg->user || !*cfg->user || !cfg->database || !*cfg->database)
		return pbx_errorf(err, PBX_EINVALID, "mariadb", NULL,
				  "the realtime database needs a user and a database name");
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (cfg->socket && *cfg->socket)
		snprintf(rt->target, sizeof(rt->target), "%s", cfg->socket);
	else
		snprintf(rt->target, sizeof(rt->target), "%s:%d",
			 cfg->host && *cfg->host ? cfg->host : "localhost",
			 cfg->port > 0 ? cfg->port : 3306);
	pbx_sanitize(rt->target);
	rt->db = mysql_init(NULL);
	if (!rt->db) {
		free(rt);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	/* MariaDB counts these in seconds; round up so 1 ms does not mean "no timeout" */
	timeout = (unsigned int)((cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000) + 999) / 1000;
	mysql_options(rt->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(rt->db, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(rt->db, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_options(rt->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* Over-long or invalid values must fail, never be truncated, whatever the server says. */
	mysql_options(rt->db, MYSQL_INIT_COMMAND,
		      "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
	if (cfg->ssl_ca && *cfg->ssl_ca) {
		my_bool on = 1, verify = cfg->ssl_verify;

		mysql_optionsv(rt->db, MYSQL_OPT_SSL_CA, cfg->ssl_ca);
		mysql_optionsv(rt->db, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_optionsv(rt->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	}
	if (cfg->socket && *cfg->socket) {
		if (!mysql_real_connect(rt->db, "localhost", cfg->user, cfg->password,
					cfg->database, 0, cfg->socket, CLIENT_FOUND_ROWS))
			goto fail;
	} else if (!mysql_real_connect(rt->db, cfg->host && *cfg->host ? cfg->host : "localhost",
				       cfg->user, cfg->password, cfg->database,
				       cfg->port > 0 ? (unsigned)cfg->port : 3306, NULL,
				       CLIENT_FOUND_ROWS)) {
		goto fail;
	}
	if (mysql_autocommit(rt->db, 0) != 0)
		goto fail;
	*ret = rt;
	return 0;
fail:
	errnum = mysql_errno(rt->db);
	r = rt_code_for_errno(errnum);
	if (r == PBX_EPERM) {
		pbx_errorf(err, r, "mariadb", NULL,
			   "mariadb at %s refused user %s on database %s", rt->target,
			   cfg->user, cfg->database);
	} else if (errnum == CR_SSL_CONNECTION_ERROR) {
		/* A certificate from another CA, a wrong name, or a server without TLS. */
		r = PBX_EUNAVAILABLE;
		pbx_errorf(err, r, "mariadb", "ssl_ca", "mariadb at %s: TLS failed: %s", rt->target,
			   mysql_error(rt->db));
	} else {
		r = PBX_EUNAVAILABLE;
		pbx_errorf(err, r, "mariadb", NULL, "mariadb at %s is unreachable", rt->target);
	}
	if (err) {
		pbx_error_set_detail(err, "%s (MariaDB error %u)", mysql_error(rt->db), errnum);
		snprintf(err->backend, sizeof(err->backend), "mariadb");
	}
	mysql_close(rt->db);
	free(rt);
	return r;
}

void pbx_realtime_close(pbx_realtime *rt)
{
	if (!rt)
		return;
	mysql_close(rt->db);
	free(rt);
}

int rt_prepare(pbx_realtime *rt, const char *sql, MYSQL_STMT **ret, pbx_error *err)
{
	MYSQL_STMT *st = mysql_stmt_init(rt->db);

	if (!st)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		int r = rt_fail_stmt(rt, st, err, NULL, "could not prepare a realtime statement");

		mysql_stmt_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

int rt_execute(pbx_realtime *rt, MYSQL_STMT *st, const char *const *params, size_t n,
	       pbx_error *err)
{
	MYSQL_BIND bind[64];
	unsigned long len[64];
	my_bool null_flag[64];

	if (n > 64 || n != mysql_stmt_param_count(st))
		PBX_BUG("parameter count does not match the statement");
	memset(bind, 0, sizeof(bind));
	for (size_t i = 0; i < n; i++) {
		null_flag[i] = params[i] == NULL;
		len[i] = params[i] ? strlen(params[i]) : 0;
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = (void *)params[i];
		bind[i].buffer_length = len[i];
		bind[i].length = &len[i];
		bind[i].is_null = &null_flag[i];
	}
	if ((n && mysql_stmt_bind_param(st, bind) != 0) || mysql_stmt_execute(st) != 0)
		return rt_fail_stmt(rt, st, err, NULL, "a realtime statement failed");
	return 0;
}

int rt_begin(pbx_realtime *rt, bool consistent_snapshot, pbx_error *err)
{
	static const char plain[] = "START TRANSACTION";
	static const char snap[] = "START TRANSACTION WITH CONSISTENT SNAPSHOT";
	const char *sql = consistent_snapshot ? snap : plain;

	/* end whatever implicit transaction earlier reads opened */
	mysql_rollback(rt->db);
	if (mysql_real_query(rt->db, sql, strlen(sql)) != 0)
		return rt_fail_db(rt, err, NULL, "could not start a realtime transaction");
	return 0;
}

int rt_commit(pbx_realtime *rt, pbx_error *err)
{
	int r;

	if (mysql_commit(rt->db) == 0)
		return 0;
	r = rt_fail_db(rt, err, NULL, "could not commit the realtime transaction");
	if (r == PBX_EUNAVAILABLE)
		pbx_error_set_hint(err, "The connection was lost during COMMIT, so the changes "
				   "may or may not be in place; plan again to see.");
	return r;
}

void rt_rollback(pbx_realtime *rt)
{
	mysql_rollback(rt->db);
}

/* Is @p..@end nothing but blanks and "--" comment lines? */
static bool only_comments(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			p++;
		} else if (p + 1 < end && p[0] == '-' && p[1] == '-') {
			while (p < end && *p != '\n')
				p++;
		} else {
			return false;
		}
	}
	return true;
}

static int run_file(pbx_realtime *rt, const struct pbx_embedded_sql *file, pbx_error *err)
{
	const char *p = file->sql;

	while (*p) {
		const char *end = p, *next;

		/* a statement ends with ';' as the last non-blank character of a line */
		for (;;) {
			const char *semi = strchr(end, ';');
			const char *q;

			if (!semi) {
				end = p + strlen(p);
				next = end;
				break;
			}
			q = semi + 1;
			while (*q == ' ' || *q == '\t' || *q == '\r')
				q++;
			if (*q == '\n' || *q == '\0') {
				end = semi;
				next = *q ? q + 1 : q;
				break;
			}
			end = semi + 1;
		}
		if (!only_comments(p, end) &&
		    mysql_real_query(rt->db, p, (unsigned long)(end - p)) != 0)
			return rt_fail_db(rt, err, file->name,
					  "realtime migration %s failed", file->name);
		p = next;
	}
	return 0;
}

/* Every column pbxctl writes must exist, or sync would fail halfway through. */
static int check_columns(pbx_realtime *rt, pbx_error *err)
{
	static const char sql[] =
		"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE()"
		" AND table_name = ? AND column_name = ?";
	MYSQL_STMT *st = NULL;
	MYSQL_BIND res[1];
	long long count = 0;
	int r;

	r = rt_prepare(rt, sql, &st, err);
	if (r < 0)
		return r;
	memset(res, 0, sizeof(res));
	res[0].buffer_type = MYSQL_TYPE_LONGLONG;
	res[0].buffer = &count;
	for (size_t t = 0; t < rt_n_tables; t++) {
		for (size_t c = 0; c < rt_tables[t].n_cols + 1; c++) {
			const char *col = c ? rt_tables[t].cols[c - 1].name : "id";
			const char *params[] = { rt_tables[t].name, col };

			r = rt_execute(rt, st, params, 2, err);
			if (r < 0)
				goto cleanup;
			if (mysql_stmt_bind_result(st, res) != 0 || mysql_stmt_fetch(st) != 0) {
				r = rt_fail_stmt(rt, st, err, NULL,
						 "could not read the realtime schema");
				goto cleanup;
			}
			mysql_stmt_free_result(st);
			if (count == 0) {
				r = pbx_errorf(err, PBX_EINVALID, rt_tables[t].name, col,
					       "table %s has no column %s", rt_tables[t].name, col);
				pbx_error_set_hint(err, "The table predates this Asterisk version; "
						   "upgrade its realtime schema with Asterisk's "
						   "alembic migrations (contrib/ast-db-manage).");
				goto cleanup;
			}
		}
	}
cleanup:
	mysql_stmt_close(st);
	return r;
}

int pbx_realtime_migrate(pbx_realtime *rt, pbx_error *err)
{
	int r = 0;

	for (size_t i = 0; i < pbx_migrations_realtime_count; i++) {
		r = run_file(rt, &pbx_migrations_realtime[i], err);
		if (r < 0)
			goto cleanup;
	}
	r = check_columns(rt, err);
cleanup:
	rt_rollback(rt);
	return r;
}
