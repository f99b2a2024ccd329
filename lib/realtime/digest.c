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

int pbx_realtime_digests(pbx_realtime *rt, struct pbx_rt_digest **ret, size_t *n_ret,
			 pbx_error *err)
{
	struct pbx_rt_digest *out = NULL;
	size_t n = 0;
	MYSQL_RES *res;
	MYSQL_ROW row;
	int r = 0;

	*ret = NULL;
	*n_ret = 0;
	/* A fresh read: end whatever snapshot an earlier read on this connection opened. */
	rt_rollback(rt);
	if (mysql_real_query(rt->db, rt_sql_digest, strlen(rt_sql_digest)) != 0)
		return rt_fail_db(rt, err, NULL, "could not read the digests of the realtime rows");
	if (!(res = mysql_store_result(rt->db)))
		return rt_fail_db(rt, err, NULL, "could not read the digests of the realtime rows");
	if (!(out = calloc(mysql_num_rows(res) + 1, sizeof(*out))))
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	/* Rows come ordered by owner, then table: one "table:count:xor;" part per table. */
	while (r == 0 && (row = mysql_fetch_row(res))) {
		const char *owner = row[1] ? row[1] : "";

		size_t used;

		if (!n || strcmp(out[n - 1].owner, owner) != 0) {
			out[n].owner = strdup(owner);
			out[n].digest = calloc(1, DIGEST_MAX);
			if (!out[n++].owner || !out[n - 1].digest) {
				r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
				break;
			}
		}
		used = strlen(out[n - 1].digest);
		snprintf(out[n - 1].digest + used, DIGEST_MAX - used, "%.20s:%.20s:%.20s;",
			 row[0] ? row[0] : "", row[2] ? row[2] : "0", row[3] ? row[3] : "0");
	}
	mysql_free_result(res);
	rt_rollback(rt);
	if (r < 0) {
		pbx_rt_digests_free(out, n);
		return r;
	}
	*ret = out;
	*n_ret = n;
	return 0;
}

const char *pbx_rt_digest_of(const struct pbx_rt_digest *d, size_t n, const char *owner)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].owner, owner))
			return d[i].digest;
	return "";
}
