/* SPDX-License-Identifier: MIT */
/*
 * A digest, per owner, of the realtime rows pbxctl owns as MariaDB holds them now, in one
 * query: apply records it after a successful apply and compares it on the next, so a row
 * changed or deleted behind pbxctl's back is found without reading every row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "pbx/realtime.h"

#include "realtime-internal.h"

/* One "table:count:xor;" part per table, each at most 63 characters. */
#define DIGEST_MAX 512

void pbx_rt_digests_free(struct pbx_rt_digest *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		free(d[i].owner);
		free(d[i].digest);
	}
	free(d);
}

/* Set the session variable @pbxctl_owner to @owner (a valid owner, so no quote in it). */
static int set_owner(pbx_realtime *rt, const char *owner, pbx_error *err)
{
	char sql[96];

	if (!rt_valid_owner(owner))
		return pbx_errorf(err, PBX_EINVALID, NULL, "tenant",
				  "tenant must be a slug of a-z 0-9 - (at most 24)");
	snprintf(sql, sizeof(sql), "SET @pbxctl_owner = '%s'", owner);
	if (mysql_real_query(rt->db, sql, strlen(sql)) != 0)
		return rt_fail_db(rt, err, NULL, "could not read the digests of the realtime rows");
	return 0;
}

/* Append the digests @sql reads (ordered by owner, then table) to @out[0..*@n). */
static int read_digests(pbx_realtime *rt, const char *sql, struct pbx_rt_digest **out,
			size_t *n, pbx_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	struct pbx_rt_digest *grown;
	size_t first = *n;
	int r = 0;

	if (mysql_real_query(rt->db, sql, strlen(sql)) != 0 || !(res = mysql_store_result(rt->db)))
		return rt_fail_db(rt, err, NULL, "could not read the digests of the realtime rows");
	if (!(grown = realloc(*out, (*n + mysql_num_rows(res) + 1) * sizeof(**out)))) {
		mysql_free_result(res);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	*out = grown;
	/* One "table:count:xor;" part per table. */
	while (r == 0 && (row = mysql_fetch_row(res))) {
		const char *who = row[1] ? row[1] : "";
		struct pbx_rt_digest *d = *n > first ? &grown[*n - 1] : NULL;
		size_t used;

		if (!d || strcmp(d->owner, who) != 0) {
			d = &grown[(*n)++];
			d->owner = strdup(who);
			d->digest = calloc(1, DIGEST_MAX);
			if (!d->owner || !d->digest) {
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
				break;
			}
		}
		used = strlen(d->digest);
		snprintf(d->digest + used, DIGEST_MAX - used, "%.20s:%.20s:%.20s;",
			 row[0] ? row[0] : "", row[2] ? row[2] : "0", row[3] ? row[3] : "0");
	}
	mysql_free_result(res);
	return r;
}

int pbx_realtime_digests(pbx_realtime *rt, const char *const *owners, size_t n_owners,
			 struct pbx_rt_digest **ret, size_t *n_ret, pbx_error *err)
{
	struct pbx_rt_digest *out = NULL;
	size_t n = 0;
	int r = 0;

	*ret = NULL;
	*n_ret = 0;
	/* A fresh read: end whatever snapshot an earlier read on this connection opened. */
	rt_rollback(rt);
	if (n_owners == 0)
		r = read_digests(rt, rt_sql_digest, &out, &n, err);
	for (size_t i = 0; r == 0 && i < n_owners; i++)
		if ((r = set_owner(rt, owners[i], err)) == 0)
			r = read_digests(rt, rt_sql_digest_owner, &out, &n, err);
	rt_rollback(rt);
	if (r < 0) {
		pbx_rt_digests_free(out, n);
		return r;
	}
	*ret = out;
	*n_ret = n;
	return 0;
}

int pbx_realtime_owners(pbx_realtime *rt, char ***ret, size_t *n_ret, pbx_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char **out;
	size_t n = 0;

	*ret = NULL;
	*n_ret = 0;
	rt_rollback(rt);
	if (mysql_real_query(rt->db, rt_sql_owners, strlen(rt_sql_owners)) != 0 ||
	    !(res = mysql_store_result(rt->db)))
		return rt_fail_db(rt, err, NULL, "could not read the owners of the realtime rows");
	if (!(out = calloc(mysql_num_rows(res) + 1, sizeof(*out)))) {
		mysql_free_result(res);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	while ((row = mysql_fetch_row(res)))
		if (!(out[n++] = strdup(row[0] ? row[0] : ""))) {
			mysql_free_result(res);
			pbx_rt_owners_free(out, n);
			return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		}
	mysql_free_result(res);
	rt_rollback(rt);
	*ret = out;
	*n_ret = n;
	return 0;
}

void pbx_rt_owners_free(char **owners, size_t n)
{
	for (size_t i = 0; owners && i < n; i++)
		free(owners[i]);
	free(owners);
}

const char *pbx_rt_digest_of(const struct pbx_rt_digest *d, size_t n, const char *owner)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].owner, owner))
			return d[i].digest;
	return "";
}

/* The mark's query: rt_sql_mark and the managed tables where pbxctl owns rows. */
static int mark_query(pbx_realtime *rt, char *sql, size_t size, size_t *n_tables,
		      pbx_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t len = (size_t)snprintf(sql, size, "%s", rt_sql_mark);

	*n_tables = 1;
	if (mysql_real_query(rt->db, rt_sql_owned_tables, strlen(rt_sql_owned_tables)) != 0 ||
	    !(res = mysql_store_result(rt->db)))
		return rt_fail_db(rt, err, NULL, "could not read when the realtime tables changed");
	while ((row = mysql_fetch_row(res))) {
		const struct rt_table *t = rt_table_find(row[0]);

		if (t && len < size) {
			len += (size_t)snprintf(sql + len, size - len, ", '%s'", t->name);
			(*n_tables)++;
		}
	}
	mysql_free_result(res);
	if (len < size)
		len += (size_t)snprintf(sql + len, size - len, ") ORDER BY table_name");
	if (len >= size)
		PBX_BUG("the mark's query does not fit");
	return 0;
}

int pbx_realtime_mark(pbx_realtime *rt, char **ret, pbx_error *err)
{
	const char *server = mysql_get_server_info(rt->db);
	char mark[1024], sql[1024];
	MYSQL_RES *res;
	MYSQL_ROW row;
	bool usable = true;
	size_t n = 0, n_tables, len;
	int r;

	*ret = NULL;
	/* MySQL 8 caches these times (information_schema_stats_expiry): MariaDB only. */
	if (!server || !strstr(server, "MariaDB"))
		return 0;
	rt_rollback(rt);
	if ((r = mark_query(rt, sql, sizeof(sql), &n_tables, err)) < 0)
		return r;
	if (mysql_real_query(rt->db, sql, strlen(sql)) != 0 || !(res = mysql_store_result(rt->db)))
		return rt_fail_db(rt, err, NULL, "could not read when the realtime tables changed");
	len = (size_t)snprintf(mark, sizeof(mark), "%.100s", server);
	while (usable && (row = mysql_fetch_row(res))) {
		/* unknown (a restart), or changed in this very second: no proof either way */
		usable = row[0] && row[1] && row[2] && !strcmp(row[2], "1");
		if (usable && len < sizeof(mark))
			len += (size_t)snprintf(mark + len, sizeof(mark) - len, ";%.64s=%.32s",
						row[0], row[1]);
		n++;
	}
	mysql_free_result(res);
	rt_rollback(rt);
	if (!usable || n != n_tables || len >= sizeof(mark))
		return 0;
	if (!(*ret = strdup(mark)))
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	return 0;
}
