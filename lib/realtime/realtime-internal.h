/* SPDX-License-Identifier: MIT */
/*
 * What the files of lib/realtime share: the definitions of the tables and columns pbxctl
 * manages (with their SQL, all string literals), the rowset internals, the pure diff, and
 * the MariaDB helpers (error mapping, statement execution, transactions).
 */
#ifndef PBX_REALTIME_INTERNAL_H
#define PBX_REALTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <mysql.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

/* ---- managed tables (tables.c) ---------------------------------------------------- */

typedef enum rt_kind {
	RT_STR,    /* varchar(max) */
	RT_INT,    /* int(11) */
	RT_YESNO,  /* enum('0','1','off','on','false','true','no','yes') */
	RT_DTMF,   /* ps_endpoints.dtmf_mode */
	RT_AUTH,   /* ps_auths.auth_type */
} rt_kind;

struct rt_column {
	const char *name;
	rt_kind kind;
	unsigned max;      /* characters, for RT_STR */
};

struct rt_table {
	const char *name;
	size_t n_cols;
	const struct rt_column *cols;
	const char *const *col_names;
	/* result: o.id, o.owner, missing (t.id IS NULL), then every managed column */
	const char *sql_select_scope;   /* param: owner */
	const char *sql_select_all;
	const char *sql_insert;         /* params: id, columns... */
	const char *sql_update;         /* params: id, columns..., id */
	const char *sql_delete;         /* param: id */
};

extern const struct rt_table rt_tables[];
extern const size_t rt_n_tables;

extern const char rt_sql_digest[];      /* result: tbl, owner, count, xor of row hashes */
extern const char rt_sql_digest_owner[]; /* the same for owner @pbxctl_owner */
extern const char rt_sql_owned_tables[]; /* result: tbl */
extern const char rt_sql_owners[];       /* result: owner */
extern const char rt_sql_mark[];        /* result: table, update_time, update_time < NOW() */
extern const char rt_sql_own_upsert[];  /* params: tbl, id, owner */
extern const char rt_sql_own_delete[];  /* params: tbl, id */

const struct rt_table *rt_table_find(const char *name);
/* Index of @name among @t's managed columns, or -1. */
int rt_column_index(const struct rt_table *t, const char *name);

/* Length of @s in code points, or -1 when it is not valid UTF-8. */
long rt_utf8_len(const char *s);
/* True when @s holds a C0 or C1 control character or DEL (assumes valid UTF-8). */
bool rt_has_control(const char *s);

/*
 * Check @v against column @c. Returns NULL when fine, else a static phrase saying what
 * would be valid ("must be an integer", ...). @v NULL is always fine.
 */
const char *rt_check_value(const struct rt_column *c, const char *v);

/* Tenant slug: [a-z][a-z0-9-]{0,23}. */
bool rt_valid_slug(const char *s);
/* Owner: a slug or PBX_RT_OWNER_GLOBAL. */
bool rt_valid_owner(const char *s);

/* ---- rowsets (rowset.c) ----------------------------------------------------------- */

struct rt_row {
	struct pbx_rt_row pub;
	const struct rt_table *def;
	bool missing;   /* owned per pbxctl_realtime_rows, but the ps_* row is gone */
	size_t size;    /* one allocation: this struct, the values array, then the strings */
};

struct pbx_rt_rowset {
	struct rt_row **rows;
	size_t n, cap;
	size_t *hash;       /* open addressing: index + 1, 0 = empty */
	size_t hash_cap;
};

/*
 * Add a row without checking its values (rows read back from MariaDB or from a snapshot
 * file are recorded as they are). @values has @t->n_cols entries (NULL = SQL NULL) and is
 * copied. Errors: PBX_ECONFLICT (duplicate table and id), PBX_ERROR (out of memory).
 */
int rt_rowset_add_raw(pbx_rt_rowset *set, const struct rt_table *t, const char *id,
		      const char *owner, const char *const *values, bool missing,
		      pbx_error *err);
struct rt_row *rt_rowset_get(const pbx_rt_rowset *set, size_t i);
struct rt_row *rt_rowset_lookup(const pbx_rt_rowset *set, const struct rt_table *t,
				const char *id);
/* Deep copy of @src into *ret. */
int rt_rowset_clone(const pbx_rt_rowset *src, pbx_rt_rowset **ret, pbx_error *err);
/* Remove every row (keeps the set). */
void rt_rowset_clear(pbx_rt_rowset *set);

/* ---- diff (diff.c, pure) ---------------------------------------------------------- */

/*
 * Build the plan that turns @owned (rows pbxctl owns in @scope, as read) into @desired.
 * Checks that every desired row lies in @scope. No database access.
 * Errors: PBX_EINVALID, PBX_ERROR.
 */
int rt_diff(const pbx_rt_rowset *owned, const pbx_rt_rowset *desired, const char *scope,
	    struct pbx_rt_plan **ret, pbx_error *err);

/* ---- MariaDB helpers (conn.c, read.c) --------------------------------------------- */

struct pbx_realtime {
	MYSQL *db;
	char target[300];   /* "socket path" or "host:port", for messages */
};

/*
 * The one place MariaDB error numbers become pbx codes: duplicate key PBX_ECONFLICT,
 * access denied PBX_EPERM, connection lost or refused PBX_EUNAVAILABLE, lock timeout
 * and deadlock PBX_EBUSY, a value the column refuses PBX_EINVALID, else PBX_ERROR.
 */
int rt_code_for_errno(unsigned int errnum);

/*
 * Fill @err from a MariaDB failure: pbxctl's own sentence (from @fmt) as the message, or
 * "mariadb at <target> is unreachable" when the connection is the problem; the server's
 * text and SQLSTATE go to detail and sqlstate. Returns the code.
 */
int rt_fail(pbx_realtime *rt, unsigned int errnum, const char *sqlstate, const char *text,
	    pbx_error *err, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
int rt_fail_db(pbx_realtime *rt, pbx_error *err, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int rt_fail_stmt(pbx_realtime *rt, MYSQL_STMT *st, pbx_error *err, const char *object,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Prepare @sql (a string literal) on @rt. */
int rt_prepare(pbx_realtime *rt, const char *sql, MYSQL_STMT **ret, pbx_error *err);
/* Bind @n string parameters (NULL = SQL NULL) and execute. */
int rt_execute(pbx_realtime *rt, MYSQL_STMT *st, const char *const *params, size_t n,
	       pbx_error *err);

/* Transactions: START TRANSACTION [WITH CONSISTENT SNAPSHOT], COMMIT, ROLLBACK. */
int rt_begin(pbx_realtime *rt, bool consistent_snapshot, pbx_error *err);
int rt_commit(pbx_realtime *rt, pbx_error *err);
void rt_rollback(pbx_realtime *rt);

/* Read every row pbxctl owns in @scope (NULL: all) into @out, table by table. */
int rt_read_owned(pbx_realtime *rt, const char *scope, pbx_rt_rowset *out, pbx_error *err);

/* Plan inside the caller's transaction (reads, diff, conflict probes). */
int rt_plan_in_txn(pbx_realtime *rt, const char *scope, const pbx_rt_rowset *desired,
		   struct pbx_rt_plan **ret, pbx_error *err);
/*
 * Multi-row statements (batch.c). rt_write_batch writes inserts or deletes of one table
 * starting at change @from (their ownership records too) and sets *@used to how many
 * changes it took: 0, or 1 when an insert met a taken id and MariaDB undid that statement
 * alone (the caller writes those *@used rows one by one, to name the row). rt_probe_inserts
 * refuses, as PBX_ECONFLICT naming the row and its owner, the first insert whose id a row
 * already holds.
 */
int rt_write_batch(pbx_realtime *rt, const struct pbx_rt_plan *plan, size_t from, size_t *used,
		   pbx_error *err);
int rt_probe_inserts(pbx_realtime *rt, const struct pbx_rt_plan *plan, pbx_error *err);

/* Apply @plan inside the caller's transaction; the caller commits or rolls back. */
int rt_apply_in_txn(pbx_realtime *rt, const struct pbx_rt_plan *plan, pbx_error *err);

#endif
