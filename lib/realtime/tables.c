/* SPDX-License-Identifier: MIT */
/*
 * The tables and columns pbxctl manages in the realtime store, declared once as X-macro
 * lists from which the column arrays and every SQL statement are spelled out at compile
 * time, so the statements are string literals and can never disagree with the arrays. A
 * new kind of desired object (trunks: ps_registrations, ps_endpoint_id_ips) adds a list
 * here and a table entry below; plan, sync and snapshots then handle it unchanged. Also the
 * value checks every row goes through (lengths as in realtime-schema.md).
 */
#include <stdlib.h>
#include <string.h>

#include "pbx/realtime.h"

#include "realtime-internal.h"

/* X(name, kind, max length) for each managed column, in table order; id is implicit. */
#define PS_ENDPOINTS_COLUMNS(X) \
	X(transport, RT_STR, 40) \
	X(aors, RT_STR, 2048) \
	X(auth, RT_STR, 255) \
	X(context, RT_STR, 40) \
	X(disallow, RT_STR, 200) \
	X(allow, RT_STR, 200) \
	X(direct_media, RT_YESNO, 0) \
	X(dtmf_mode, RT_DTMF, 0) \
	X(force_rport, RT_YESNO, 0) \
	X(mailboxes, RT_STR, 40) \
	X(rewrite_contact, RT_YESNO, 0) \
	X(rtp_symmetric, RT_YESNO, 0) \
	X(callerid, RT_STR, 40) \
	X(webrtc, RT_YESNO, 0) \
	X(outbound_auth, RT_STR, 255) \
	X(from_user, RT_STR, 40) \
	X(from_domain, RT_STR, 40) \
	X(identify_by, RT_STR, 80)

#define PS_AUTHS_COLUMNS(X) \
	X(auth_type, RT_AUTH, 0) \
	X(password, RT_STR, 80) \
	X(username, RT_STR, 40)

#define PS_AORS_COLUMNS(X) \
	X(max_contacts, RT_INT, 0) \
	X(remove_existing, RT_YESNO, 0) \
	X(qualify_frequency, RT_INT, 0) \
	X(contact, RT_STR, 255) \
	X(minimum_expiration, RT_INT, 0) \
	X(default_expiration, RT_INT, 0) \
	X(maximum_expiration, RT_INT, 0)

/* Trunks: outbound registration (with line support) and identification by address. */
#define PS_REGISTRATIONS_COLUMNS(X) \
	X(auth_rejection_permanent, RT_YESNO, 0) \
	X(client_uri, RT_STR, 255) \
	X(contact_user, RT_STR, 40) \
	X(expiration, RT_INT, 0) \
	X(max_retries, RT_INT, 0) \
	X(outbound_auth, RT_STR, 255) \
	X(retry_interval, RT_INT, 0) \
	X(forbidden_retry_interval, RT_INT, 0) \
	X(server_uri, RT_STR, 255) \
	X(transport, RT_STR, 40) \
	X(line, RT_YESNO, 0) \
	X(endpoint, RT_STR, 255)

#define PS_ENDPOINT_ID_IPS_COLUMNS(X) \
	X(endpoint, RT_STR, 255) \
	X(match, RT_STR, 80)

#define RT_COL_DEF(n, k, m) { #n, k, m },
#define RT_COL_NAME(n, k, m) #n,
#define RT_SQL_SEL(n, k, m) ", t.`" #n "`"
#define RT_SQL_NAME(n, k, m) ", `" #n "`"
#define RT_SQL_QMARK(n, k, m) ", ?"
#define RT_SQL_SET(n, k, m) ", `" #n "` = ?"
#define RT_SQL_COUNT(n, k, m) + 1

#define RT_SQL_SELECT_HEAD(tbl, COLS) \
	"SELECT o.id, o.owner, t.id IS NULL" COLS(RT_SQL_SEL) \
	" FROM pbxctl_realtime_rows o LEFT JOIN `" #tbl "` t ON t.id = o.id" \
	" WHERE o.tbl = '" #tbl "'"

#define RT_TABLE_ARRAYS(tbl, COLS) \
	static const struct rt_column tbl##_cols[] = { COLS(RT_COL_DEF) }; \
	static const char *const tbl##_names[] = { COLS(RT_COL_NAME) };

#define RT_TABLE_ENTRY(tbl, COLS) { \
	.name = #tbl, \
	.n_cols = 0 COLS(RT_SQL_COUNT), \
	.cols = tbl##_cols, \
	.col_names = tbl##_names, \
	.sql_select_scope = RT_SQL_SELECT_HEAD(tbl, COLS) " AND o.owner = ? ORDER BY o.id", \
	.sql_select_all = RT_SQL_SELECT_HEAD(tbl, COLS) " ORDER BY o.id", \
	.sql_insert = "INSERT INTO `" #tbl "` (`id`" COLS(RT_SQL_NAME) ") VALUES (?" \
		COLS(RT_SQL_QMARK) ")", \
	.sql_update = "UPDATE `" #tbl "` SET `id` = ?" COLS(RT_SQL_SET) " WHERE `id` = ?", \
	.sql_delete = "DELETE FROM `" #tbl "` WHERE `id` = ?", \
}

RT_TABLE_ARRAYS(ps_endpoints, PS_ENDPOINTS_COLUMNS)
RT_TABLE_ARRAYS(ps_auths, PS_AUTHS_COLUMNS)
RT_TABLE_ARRAYS(ps_aors, PS_AORS_COLUMNS)
RT_TABLE_ARRAYS(ps_registrations, PS_REGISTRATIONS_COLUMNS)
RT_TABLE_ARRAYS(ps_endpoint_id_ips, PS_ENDPOINT_ID_IPS_COLUMNS)

const struct rt_table rt_tables[] = {
	RT_TABLE_ENTRY(ps_endpoints, PS_ENDPOINTS_COLUMNS),
	RT_TABLE_ENTRY(ps_auths, PS_AUTHS_COLUMNS),
	RT_TABLE_ENTRY(ps_aors, PS_AORS_COLUMNS),
	RT_TABLE_ENTRY(ps_registrations, PS_REGISTRATIONS_COLUMNS),
	RT_TABLE_ENTRY(ps_endpoint_id_ips, PS_ENDPOINT_ID_IPS_COLUMNS),
};
const size_t rt_n_tables = sizeof(rt_tables) / sizeof(rt_tables[0]);

/* Per owner: how many rows it owns in the table and the XOR of a CRC-32 of each row as
 * MariaDB holds it (id, whether it is missing, every managed column; NULL apart from ''). */
#define RT_SQL_DIG(n, k, m) ", IFNULL(CONCAT('=', t.`" #n "`), '-')"
#define RT_SQL_DIGEST(tbl, COLS, WHERE) \
	"SELECT '" #tbl "', o.owner, COUNT(*), BIT_XOR(CRC32(CONCAT_WS(0x1f," \
	" o.id, t.id IS NULL" COLS(RT_SQL_DIG) ")))" \
	" FROM pbxctl_realtime_rows o LEFT JOIN `" #tbl "` t ON t.id = o.id" \
	" WHERE o.tbl = '" #tbl "'" WHERE " GROUP BY o.owner"
#define RT_SQL_DIGESTS(WHERE) \
	RT_SQL_DIGEST(ps_endpoints, PS_ENDPOINTS_COLUMNS, WHERE) " UNION ALL " \
	RT_SQL_DIGEST(ps_auths, PS_AUTHS_COLUMNS, WHERE) " UNION ALL " \
	RT_SQL_DIGEST(ps_aors, PS_AORS_COLUMNS, WHERE) " UNION ALL " \
	RT_SQL_DIGEST(ps_registrations, PS_REGISTRATIONS_COLUMNS, WHERE) " UNION ALL " \
	RT_SQL_DIGEST(ps_endpoint_id_ips, PS_ENDPOINT_ID_IPS_COLUMNS, WHERE) " ORDER BY 2, 1"

const char rt_sql_digest[] = RT_SQL_DIGESTS("");
/* One owner's, through the index on (owner, tbl): the owner in the session variable. */
const char rt_sql_digest_owner[] = RT_SQL_DIGESTS(" AND o.owner = @pbxctl_owner");

/* Every owner of rows: the owner index read group by group. */
const char rt_sql_owners[] = "SELECT owner FROM pbxctl_realtime_rows GROUP BY owner";
/* The tables where pbxctl owns rows: a change in another one changes no owned row. */
const char rt_sql_owned_tables[] = "SELECT DISTINCT tbl FROM pbxctl_realtime_rows";
/* When each table was last changed, as far as MariaDB knows (InnoDB keeps it in memory:
 * NULL after a restart until the next change), and whether that was before the second
 * this statement started; the caller adds "'t1', 't2')" to the list. */
const char rt_sql_mark[] =
	"SELECT table_name, update_time, update_time < NOW() FROM information_schema.TABLES"
	" WHERE table_schema = DATABASE() AND table_name IN ('pbxctl_realtime_rows'";

const char rt_sql_own_upsert[] =
	"INSERT INTO pbxctl_realtime_rows (tbl, id, owner) VALUES (?, ?, ?)"
	" ON DUPLICATE KEY UPDATE owner = VALUES(owner)";
const char rt_sql_own_delete[] = "DELETE FROM pbxctl_realtime_rows WHERE tbl = ? AND id = ?";

static const char *const yesno_values[] = {
	"0", "1", "off", "on", "false", "true", "no", "yes", NULL
};
static const char *const dtmf_values[] = {
	"rfc4733", "inband", "info", "auto", "auto_info", NULL
};
static const char *const auth_values[] = { "md5", "userpass", "google_oauth", NULL };

const struct rt_table *rt_table_find(const char *name)
{
	for (size_t i = 0; name && i < rt_n_tables; i++)
		if (strcmp(rt_tables[i].name, name) == 0)
			return &rt_tables[i];
	return NULL;
}

int rt_column_index(const struct rt_table *t, const char *name)
{
	for (size_t i = 0; name && i < t->n_cols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

long rt_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		unsigned c = *p;
		int more;
		unsigned cp;

		if (c < 0x80) {
			p++;
			n++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return -1;
		}
		p++;
		for (int i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return -1;
		n++;
	}
	return n;
}

bool rt_has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
		/* U+0080..U+009F are encoded as C2 80..C2 9F */
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return true;
	}
	return false;
}

static bool in_set(const char *const *set, const char *v)
{
	for (; *set; set++)
		if (strcmp(*set, v) == 0)
			return true;
	return false;
}

const char *rt_check_value(const struct rt_column *c, const char *v)
{
	long len;

	if (!v)
		return NULL;
	switch (c->kind) {
	case RT_STR:
		len = rt_utf8_len(v);
		if (len < 0)
			return "is not valid UTF-8";
		if (rt_has_control(v))
			return "contains a control character";
		if ((unsigned long)len > c->max)
			return "is longer than the column holds";
		return NULL;
	case RT_INT: {
		const char *p = v;
		char *end;
		long long x;

		if (*p == '-')
			p++;
		if (*p < '0' || *p > '9' || strlen(p) > 10)
			return "must be an integer";
		x = strtoll(v, &end, 10);
		if (*end || x < -2147483648LL || x > 2147483647LL)
			return "must be an integer";
		return NULL;
	}
	case RT_YESNO:
		return in_set(yesno_values, v) ? NULL : "must be one of 0 1 off on false true no yes";
	case RT_DTMF:
		return in_set(dtmf_values, v) ? NULL :
			"must be one of rfc4733 inband info auto auto_info";
	case RT_AUTH:
		return in_set(auth_values, v) ? NULL : "must be one of md5 userpass google_oauth";
	}
	return "has an unknown type";
}

bool rt_valid_slug(const char *s)
{
	size_t n;

	if (!s || !(*s >= 'a' && *s <= 'z'))
		return false;
	n = strlen(s);
	if (n > 24)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

bool rt_valid_owner(const char *s)
{
	return s && (strcmp(s, PBX_RT_OWNER_GLOBAL) == 0 || rt_valid_slug(s));
}
