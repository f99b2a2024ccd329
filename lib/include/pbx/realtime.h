/* SPDX-License-Identifier: MIT */
/*
 * The MariaDB PJSIP Realtime store Asterisk reads (ps_endpoints, ps_auths, ps_aors, ...):
 * connecting, creating the schema, turning desired objects (devices now, trunks later) into
 * rows, planning the difference with what pbxctl wrote before, applying it in one
 * transaction, and taking and restoring snapshots for backup. pbxctl touches only rows it
 * created itself, which it records in pbxctl_realtime_rows; any other row is left alone,
 * and a desired id that collides with such a row is a conflict, never an overwrite.
 */
#ifndef PBX_REALTIME_H
#define PBX_REALTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/error.h"
#include "pbx/secret.h"

/* ---- connection ------------------------------------------------------------------- */

struct pbx_realtime_config {
	const char *host;      /* used when socket is NULL; NULL means "localhost" */
	int port;              /* 0 means 3306 */
	const char *socket;    /* unix socket path; wins over host/port when set */
	const char *user;
	const char *password;  /* never copied into an error */
	const char *database;
	int timeout_ms;        /* connect, read and write timeouts; 0 means 5000 */
	/*
	 * TLS over TCP: when @ssl_ca (a PEM file) is set, the connection must be encrypted (no
	 * fallback to plain text) and the server's certificate must chain to it; with
	 * @ssl_verify the certificate must also name @host. A refused certificate is
	 * PBX_EUNAVAILABLE with "TLS" in the message.
	 */
	const char *ssl_ca;
	bool ssl_verify;
};

#define PBX_REALTIME_CONFIG_INIT { .host = NULL, .port = 0, .timeout_ms = 0 }

/* One MariaDB connection; use it from one thread at a time. */
typedef struct pbx_realtime pbx_realtime;

/*
 * Connect to MariaDB (utf8mb4, autocommit off, strict sql_mode for this session). On
 * success *ret owns the connection; free it with pbx_realtime_close.
 * Errors: PBX_EUNAVAILABLE "mariadb at <socket or host:port> is unreachable";
 * PBX_EPERM when the server refuses the user or the database; PBX_EINVALID for a config
 * without user or database. The password never appears in @err.
 */
int pbx_realtime_connect(const struct pbx_realtime_config *cfg, pbx_realtime **ret,
			 pbx_error *err);

/* Close and free; NULL is fine. */
void pbx_realtime_close(pbx_realtime *rt);

/*
 * Run the embedded realtime schema (migrations/realtime/ *.sql): every statement is
 * CREATE TABLE IF NOT EXISTS, so existing tables and rows are never altered; running it
 * twice is harmless. Afterwards check that every column pbxctl writes exists, so an older
 * Asterisk schema is reported here rather than halfway through a sync.
 * Errors: PBX_EINVALID (a table lacks a column pbxctl writes: upgrade Asterisk's schema),
 * PBX_EPERM, PBX_EUNAVAILABLE, PBX_ERROR.
 */
int pbx_realtime_migrate(pbx_realtime *rt, pbx_error *err);

/* ---- desired rows ----------------------------------------------------------------- */

/* The owner recorded for rows that belong to no tenant (no tenant slug can look like it). */
#define PBX_RT_OWNER_GLOBAL "@global"

/*
 * One row of a ps_* table as pbxctl sees it: its id, its owner, and the values of the
 * columns pbxctl manages in that table (columns[i] is static; values[i] NULL means SQL NULL).
 * Columns pbxctl does not manage are neither read nor written.
 */
struct pbx_rt_row {
	const char *table;
	char *id;
	char *owner;
	size_t n_values;
	const char *const *columns;
	char **values;
};

/* The value of @column in @row; NULL when it is SQL NULL or not a managed column. */
const char *pbx_rt_row_value(const struct pbx_rt_row *row, const char *column);

/*
 * A set of rows: what pbxctl wants in MariaDB (devices converted into rows, later trunks),
 * or what a snapshot holds. Any kind of desired object is turned into rows of this set, and
 * plan and sync work on rows only.
 */
typedef struct pbx_rt_rowset pbx_rt_rowset;

/* New empty set; free with pbx_rt_rowset_free. Errors: PBX_ERROR (out of memory). */
int pbx_rt_rowset_new(pbx_rt_rowset **ret, pbx_error *err);
void pbx_rt_rowset_free(pbx_rt_rowset *set);
size_t pbx_rt_rowset_count(const pbx_rt_rowset *set);
/* Row @i, owned by the set, valid until the set is freed or changed. */
const struct pbx_rt_row *pbx_rt_rowset_row(const pbx_rt_rowset *set, size_t i);
/* The row of @table with @id, or NULL. */
const struct pbx_rt_row *pbx_rt_rowset_find(const pbx_rt_rowset *set, const char *table,
					    const char *id);

/*
 * Add one row to @set. @table must be a table pbxctl manages (ps_endpoints, ps_auths,
 * ps_aors), @columns managed columns of it (the others are NULL), @values their values
 * (NULL for SQL NULL). Every value is checked against its column: length in characters,
 * integer, or enum value set; no control characters. @owner is a tenant slug or
 * PBX_RT_OWNER_GLOBAL. Errors: PBX_EINVALID (naming the row and column), PBX_ECONFLICT
 * (the set already holds that table and id).
 */
int pbx_rt_rowset_add(pbx_rt_rowset *set, const char *table, const char *id,
		      const char *owner, const char *const *columns,
		      const char *const *values, size_t n, pbx_error *err);

/*
 * One SIP device: one endpoint, one AOR and one auth, all with the same id, which is also
 * the SIP username. The endpoint's transport is one of the transports pjsip.conf must
 * define: transport-udp, transport-tcp, transport-tls, transport-wss.
 */
/* The registration interval of a device's AOR (seconds, as text for the row). */
#define PBX_RT_AOR_EXPIRATION "60"
#define PBX_RT_AOR_MIN_EXPIRATION "30"

struct pbx_rt_device {
	const char *id;              /* [a-z0-9-]{1,40}, starts with "<tenant>-" */
	const char *tenant;          /* slug, [a-z][a-z0-9-]{0,23} */
	const char *context;         /* "<tenant>-...", [a-z0-9-], at most 40 characters */
	const char *password;        /* plaintext SIP secret, 1..80 characters */
	const char *transport;       /* udp, tcp, tls or wss */
	const char *const *codecs;   /* in order of preference: ulaw alaw g722 opus gsm g729 */
	size_t n_codecs;             /* at least 1, no repeats */
	bool force_rport, rewrite_contact, rtp_symmetric, direct_media;
	const char *callerid_name;   /* free text or NULL: quotes, < > \ ; and control
					characters are removed, spaces collapsed */
	const char *callerid_num;    /* [0-9+*#]{1,20} or NULL; "Name" <num> must fit in
					ps_endpoints.callerid, 40 characters */
	const char *mailboxes;       /* "<digits>@<tenant>[-...]", at most 40, or NULL */
};

/*
 * Convert @dev into its three rows and add them to @set:
 *   ps_endpoints: transport=transport-<t>, aors=auth=id, context, disallow=all,
 *     allow=<codecs joined by ','>, direct_media, force_rport, rewrite_contact,
 *     rtp_symmetric (yes/no), callerid ("Name" <num>), mailboxes, dtmf_mode=rfc4733;
 *     for wss also webrtc=yes and direct_media=no whatever was asked (Asterisk then sets
 *     ICE, AVPF and DTLS itself).
 *   ps_auths: auth_type=userpass, username=id, password.
 *   ps_aors: max_contacts=1, remove_existing=yes, qualify_frequency=60,
 *     minimum_expiration=PBX_RT_AOR_MIN_EXPIRATION, default_expiration and
 *     maximum_expiration=PBX_RT_AOR_EXPIRATION (a phone that vanishes is unregistered
 *     within that many seconds: Asterisk does not qualify realtime AORs).
 * Errors: PBX_EINVALID naming "device <id>" and the field; nothing is added then.
 * PBX_ECONFLICT when the set already holds one of the three rows.
 */
int pbx_rt_rowset_add_device(pbx_rt_rowset *set, const struct pbx_rt_device *dev,
			     pbx_error *err);

/*
 * One SIP trunk to a provider (lib/realtime/trunk.c). Its endpoint, AOR and, for
 * registration, auth and registration rows share the id; each address of an IP-identified
 * trunk becomes a ps_endpoint_id_ips row "<id>-<n>" (n from 1).
 */
struct pbx_rt_trunk {
	const char *id;              /* "trunk-<name>" or "<owner>-trunk-<name>", [a-z0-9-]{1,40} */
	const char *owner;           /* tenant slug, or NULL for a global trunk */
	const char *context;         /* where its calls start, [a-z0-9-]{1,40} */
	const char *host;            /* DNS name, IPv4, or IPv6 (written in brackets in URIs) */
	int port;                    /* 1..65535 */
	const char *transport;       /* udp, tcp or tls */
	const char *const *codecs;   /* as for devices */
	size_t n_codecs;
	bool registration;           /* false: identified by address */
	const char *username;        /* registration: [A-Za-z0-9._+-]{1,40} */
	const char *password;        /* registration: 1..80 printable characters */
	const char *const *match;    /* identified by address: IPv4/IPv6 addresses or CIDRs */
	size_t n_match;
};

/*
 * Convert @trunk into rows and add them to @set:
 *   ps_endpoints: transport=transport-<t>, aors=id, context, disallow=all, allow=<codecs>,
 *     direct_media=no, dtmf_mode=rfc4733, force_rport, rewrite_contact and rtp_symmetric
 *     yes; registration: outbound_auth=id, from_user=username, from_domain=host (when it
 *     fits 40 characters); by address: identify_by=ip.
 *   ps_aors: contact=sip:<host>:<port>, qualify_frequency=60.
 *   registration: ps_auths auth_type=userpass, username, password; ps_registrations
 *     server_uri=sip:<host>:<port>, client_uri=sip:<username>@<host>:<port>,
 *     contact_user=username, outbound_auth=id, transport, retry_interval=60,
 *     forbidden_retry_interval=300, expiration=3600, max_retries=10000,
 *     auth_rejection_permanent=no, line=yes, endpoint=id (calls it delivers are matched to
 *     the trunk by the line parameter).
 *   by address: ps_endpoint_id_ips "<id>-<n>": endpoint=id, match=<address>.
 * The owner of every row is the tenant, or PBX_RT_OWNER_GLOBAL. Errors: PBX_EINVALID naming
 * "trunk <id>" and the field (nothing is added); PBX_ECONFLICT when a row exists already.
 */
int pbx_rt_rowset_add_trunk(pbx_rt_rowset *set, const struct pbx_rt_trunk *trunk,
			    pbx_error *err);

/* ---- plan and sync ---------------------------------------------------------------- */

typedef enum pbx_rt_op {
	PBX_RT_DELETE,
	PBX_RT_UPDATE,
	PBX_RT_INSERT,
} pbx_rt_op;

struct pbx_rt_change {
	pbx_rt_op op;
	const char *table;
	const char *id;
	const char *owner;                /* the desired owner; the current one for a delete */
	size_t n_changed;                 /* update: the columns that differ */
	const char **changed;             /* their names; "owner" when ownership moves */
	const struct pbx_rt_row *row;     /* insert, update: the desired row; delete: NULL */
};

struct pbx_rt_table_count {
	const char *table;
	size_t n_insert, n_update, n_delete;
};

struct pbx_rt_plan {
	char *scope;                      /* tenant slug, or NULL for every owner */
	size_t n_changes;                 /* 0: nothing to do */
	struct pbx_rt_change *changes;    /* table by table: deletes, updates, inserts */
	size_t n_tables;
	struct pbx_rt_table_count *tables; /* one per managed table, changed or not */
	pbx_rt_rowset *desired;           /* private: copy of the desired rows */
	pbx_rt_rowset *removed;           /* private: copy of the rows to delete */
};

/*
 * Compare the rows pbxctl owns in @tenant (NULL: of every owner) with @desired, column by
 * column, and return what sync must do. Every desired row must belong to @tenant when it
 * is given. A desired row whose id is taken by a row pbxctl did not create, or that belongs
 * to another owner outside the scope, is a conflict. Reads happen in one consistent
 * snapshot. *ret is owned by the caller (pbx_rt_plan_free).
 * Errors: PBX_EINVALID (a desired row outside the scope), PBX_ECONFLICT, PBX_EUNAVAILABLE,
 * PBX_ERROR.
 */
int pbx_realtime_plan_rows(pbx_realtime *rt, const char *tenant, const pbx_rt_rowset *desired,
			   struct pbx_rt_plan **ret, pbx_error *err);

/* pbx_realtime_plan_rows for an array of devices (converted with pbx_rt_rowset_add_device). */
int pbx_realtime_plan(pbx_realtime *rt, const char *tenant, const struct pbx_rt_device *devs,
		      size_t n, struct pbx_rt_plan **ret, pbx_error *err);

void pbx_rt_plan_free(struct pbx_rt_plan *plan);

/*
 * The plan as text for `apply --dry-run`: one line per managed table
 * ("ps_endpoints: +2 ~1 -0"), each followed by one line per changed row
 * ("  + acme-1001-desk", "  ~ acme-1002-desk: allow, callerid changed",
 * "  - acme-1003-desk"). Values are never printed, so no password is either.
 * *ret is malloc'd, the caller frees it. Errors: PBX_ERROR (out of memory).
 */
int pbx_rt_plan_summary(const struct pbx_rt_plan *plan, char **ret, pbx_error *err);

/*
 * Apply @plan in one transaction, keeping pbxctl_realtime_rows in step: on any failure
 * everything is rolled back and nothing has changed. A row that vanished since the plan,
 * or an id someone else took meanwhile, is PBX_ECONFLICT. Applying the same plan twice
 * fails with PBX_ECONFLICT on the second run (plan again instead).
 * Errors: PBX_ECONFLICT, PBX_EINVALID, PBX_EPERM, PBX_EUNAVAILABLE, PBX_ERROR.
 */
int pbx_realtime_sync(pbx_realtime *rt, const struct pbx_rt_plan *plan, pbx_error *err);

/*
 * Add to @desired, as they are, the rows @owner holds now (rows already in @desired and
 * rows gone from their table excepted): a tenant left out of an apply keeps its rows.
 * Errors: PBX_EINVALID (not an owner), PBX_EUNAVAILABLE, PBX_ERROR.
 */
int pbx_realtime_keep_owner(pbx_realtime *rt, const char *owner, pbx_rt_rowset *desired,
			    pbx_error *err);

/* ---- digests ---------------------------------------------------------------------- */

struct pbx_rt_digest {
	char *owner;                 /* tenant slug or PBX_RT_OWNER_GLOBAL */
	char *digest;                /* equal digests: equal owned rows (count and contents) */
};

/*
 * For every owner (or, when @n_owners > 0, for @owners[0..@n_owners) only, one query each
 * through the owner index), a digest of the rows pbxctl owns as MariaDB holds them now (a
 * row changed, deleted or added by hand changes it); an owner without rows has no entry.
 * Sorted by owner when every owner is read, else in the order of @owners.
 * Errors: PBX_EINVALID (an owner that is no slug), PBX_EUNAVAILABLE, PBX_ERROR.
 */
int pbx_realtime_digests(pbx_realtime *rt, const char *const *owners, size_t n_owners,
			 struct pbx_rt_digest **ret, size_t *n, pbx_error *err);

/* Every owner that has rows, one query through the owner index (pbx_rt_owners_free). */
int pbx_realtime_owners(pbx_realtime *rt, char ***ret, size_t *n, pbx_error *err);
void pbx_rt_owners_free(char **owners, size_t n);

/*
 * A mark of when MariaDB last changed each table pbxctl writes (malloc'd), or *@ret NULL
 * when there is no proof: a time MariaDB does not know (after a restart), a change in this
 * very second, or a server other than MariaDB. Two equal marks: no row of those tables
 * changed between them. Cost: one query on information_schema, whatever the number of
 * rows. Errors: PBX_EUNAVAILABLE, PBX_ERROR.
 */
int pbx_realtime_mark(pbx_realtime *rt, char **ret, pbx_error *err);
void pbx_rt_digests_free(struct pbx_rt_digest *d, size_t n);
/* The digest of @owner in @d, or "" when it owns no row. */
const char *pbx_rt_digest_of(const struct pbx_rt_digest *d, size_t n, const char *owner);

/* ---- snapshots -------------------------------------------------------------------- */

struct pbx_rt_snapshot {
	char *scope;                 /* tenant slug, or NULL for every owner */
	pbx_rt_rowset *rows;         /* every owned row in the scope, all managed columns */
};

/*
 * Read every row pbxctl owns in @tenant (NULL: of every owner), with all the columns it
 * manages, in one consistent read. *ret is owned by the caller (pbx_rt_snapshot_free).
 * Errors: PBX_EUNAVAILABLE, PBX_ERROR.
 */
int pbx_realtime_snapshot(pbx_realtime *rt, const char *tenant, struct pbx_rt_snapshot **ret,
			  pbx_error *err);
void pbx_rt_snapshot_free(struct pbx_rt_snapshot *snap);

/*
 * The text of a snapshot file (format 2) in *@ret (malloc'd, *@ret_len bytes; it holds no
 * secret in clear, but free it with care all the same): the secret columns
 * (ps_auths.password) are sealed with @key (pbx_secret_seal), which is required.
 * Errors: PBX_EINVALID (a value too long to seal), PBX_ERROR.
 */
int pbx_rt_snapshot_format(const struct pbx_rt_snapshot *snap, const pbx_secret_key *key,
			   char **ret, size_t *ret_len, pbx_error *err);

/*
 * Write pbx_rt_snapshot_format's text to @path atomically (temporary file, fsync, rename)
 * with mode 0600. Errors: as pbx_rt_snapshot_format; PBX_ERROR (with the system's reason).
 */
int pbx_rt_snapshot_save(const struct pbx_rt_snapshot *snap, const pbx_secret_key *key,
			 const char *path, pbx_error *err);

/*
 * Read a file written by pbx_rt_snapshot_save, opening its sealed secrets with @key (NULL
 * only reads files without any). Format 1 files (secrets in clear) are read too.
 * Errors: PBX_ENOTFOUND (no such file), PBX_EINVALID (not a snapshot, truncated, naming an
 * unknown table or column, or a secret that @key cannot open; the error carries file and
 * line), PBX_ERROR.
 */
int pbx_rt_snapshot_load(const char *path, const pbx_secret_key *key,
			 struct pbx_rt_snapshot **ret, pbx_error *err);

/* The same for the text of such a file; @name names it in messages. */
int pbx_rt_snapshot_parse(const char *text, const char *name, const pbx_secret_key *key,
			  struct pbx_rt_snapshot **ret, pbx_error *err);

/*
 * Make the rows pbxctl owns in @tenant exactly the rows of @snap with that owner: delete
 * owned rows the snapshot lacks, insert or update the rest, all in one transaction.
 * @tenant NULL means the snapshot's own scope; a scope wider than the snapshot's is
 * refused (PBX_EINVALID), so restoring one tenant's backup never deletes other tenants'
 * rows. Errors: as pbx_realtime_sync.
 */
int pbx_realtime_restore(pbx_realtime *rt, const struct pbx_rt_snapshot *snap,
			 const char *tenant, pbx_error *err);

#endif
