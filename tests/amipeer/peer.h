/* SPDX-License-Identifier: MIT */
/*
 * The test AMI peer's shared types: a growable string, an AMI request, the peer's state
 * (options, misbehaviour switches, dialplan, AstDB) and the functions of its files.
 */
#ifndef AMIPEER_PEER_H
#define AMIPEER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/ssl.h>

#define AMI_VERSION "13.0.0"
#define ASTERISK_VERSION "UNKNOWN__and_probably_unsupported"
#define MAX_LINE (64 * 1024)
#define MAX_HEADERS 1024
#define MAX_REQUEST (1024 * 1024)

/* ---- growable string ---- */
struct sb {
	char *p;
	size_t len, cap;
};

void sb_add(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_addn(struct sb *s, const char *data, size_t n);
void sb_free(struct sb *s);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* ---- a request (one action) ---- */
struct req_header {
	char *key, *value;
};

struct req {
	struct req_header *h;
	size_t n;
};

/* Value of @key (case-insensitive, blanks after the colon skipped), "" when absent. */
const char *req_get(const struct req *r, const char *key);
bool req_has(const struct req *r, const char *key);

/* ---- dialplan ---- */
#define PRIO_HINT (-1)

struct dp_prio {
	int prio;
	char *label, *app, *data, *file;
	int line;
};

struct dp_ext {
	char *name, *cid;   /* cid NULL unless "exten => name/cid,..." */
	struct dp_prio *p;
	size_t n;
};

struct dp_context {
	char *name;
	struct dp_ext *ext;
	size_t n_ext;
	char **inc;
	size_t n_inc;
};

struct dialplan {
	struct dp_context *ctx;   /* in creation order */
	size_t n;
};

/* Load every *.conf of @dir as Asterisk's pbx_config would; warnings go to @warn. */
void dp_load_dir(const char *dir, struct dialplan *ret, FILE *warn, const char *skip_line);
void dp_free(struct dialplan *dp);
struct dp_context *dp_find(const struct dialplan *dp, const char *name);
/* ast_extension_match: does extension (or pattern) @pattern match @data? */
bool dp_ext_match(const char *pattern, const char *data);

/* ---- the peer ---- */
struct switches {
	bool refuse_login;
	bool reload_error;
	char *drop_after;   /* action name or NULL */
	int slow_ms;
	char *slow_action;  /* NULL: every answer is slow; else only this action's */
	char *skip_line;    /* a dialplan line holding this text is skipped on load, as Asterisk
			       skips a line with an invalid priority */
	bool stale_reload;  /* Reload answers Success but keeps the old dialplan */
	char *not_loaded;   /* a module this Asterisk does not have: "No such module" */
	bool db_error;      /* DBPut fails as when Asterisk cannot write astdb.sqlite3 */
	char *db_error_family; /* NULL: every DBPut fails; else only those of this family */
};

/* ---- AstDB (astdb.c): full keys "/family/key" as main/db.c stores them ---- */
struct astdb_ent;

struct astdb {
	struct astdb_ent *e;
	size_t n, cap, count;    /* slots used, allocated; live keys */
	size_t *buckets, n_buckets;
	size_t *free, n_free;    /* slots of deleted keys */
};

const char *astdb_get(struct astdb *db, const char *key);
void astdb_put(struct astdb *db, const char *key, const char *value);
bool astdb_del(struct astdb *db, const char *key);
/* Delete the tree @prefix ("" for all): the number of keys deleted. */
size_t astdb_deltree(struct astdb *db, const char *prefix);
/* The keys of the tree @prefix in key order; the arrays are the caller's to free, the
 * strings the database's (valid until the next change). */
size_t astdb_tree(struct astdb *db, const char *prefix, const char ***ret_keys,
		  const char ***ret_values);
void astdb_free(struct astdb *db);

struct peer {
	const char *user, *secret;
	SSL_CTX *tls;          /* --tls-cert/--tls-key: serve AMI over TLS only */
	const char *dialplan_dir, *contacts, *registrations, *control, *events;
	FILE *log;
	struct switches base, sw;
	bool drop_armed;
	char *control_text;    /* what the control file held when last applied */
	struct dialplan dp;
	struct astdb db;
	time_t started, reloaded;
	struct sb broadcast;   /* events for every session with user events (UserEvent) */
};

/* What a handler asks of the connection after its answer is sent. */
enum { KEEP = 0, CLOSE = 1 };

struct session {
	bool authed;
	bool events;
	bool user_events;      /* Login Events: on, all, or a list naming user */
	char challenge[32];
};

/* actions.c: answer @r into @out. */
int peer_handle(struct peer *p, struct session *s, const struct req *r, struct sb *out);
void peer_reload_dialplan(struct peer *p);
/* Response head: "Response: X", "ActionID: id" when given, "Message: m" when not NULL. */
void send_response(struct sb *out, const struct req *r, const char *resp, const char *msg,
		   bool end);
void send_error(struct sb *out, const struct req *r, const char *msg);
void send_listack(struct sb *out, const struct req *r, const char *msg);
void send_list_complete(struct sb *out, const struct req *r, const char *event, int items);
void action_id(struct sb *out, const struct req *r);

/* cli.c: Action: Command. */
void peer_command(struct peer *p, const struct req *r, struct sb *out);

/* show.c: ShowDialPlan and the CLI "dialplan show". */
void peer_show_dialplan(struct peer *p, const struct req *r, struct sb *out);
/* Returns true on success; the CLI text goes to @out (lines ending in "\n"). */
bool cli_dialplan_show(struct peer *p, const char *context, const char *exten,
		       struct sb *out);

/* pjsip.c */
void peer_pjsip_contacts(struct peer *p, const struct req *r, struct sb *out);
void peer_pjsip_endpoints(struct peer *p, const struct req *r, struct sb *out);
void peer_pjsip_endpoint(struct peer *p, const struct req *r, struct sb *out);
void peer_pjsip_registrations(struct peer *p, const struct req *r, struct sb *out);

/* md5 from lib/ami (compiled in). */
void pbx_ami_md5_hex(const void *data, size_t len, char out[33]);

/* ---- TLS (tls.c) ---- */
/* The server context from PEM files; NULL after printing why. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key);
/* Handshake on accepted @fd (left non-blocking); NULL when it failed. */
SSL *tls_accept(SSL_CTX *ctx, int fd);
/* recv/send conventions: -1 with errno EAGAIN when it would block, 0 at the end. */
ssize_t tls_read(SSL *ssl, void *buf, size_t n);
ssize_t tls_write(SSL *ssl, const void *buf, size_t n);
void tls_close(SSL *ssl);

#endif
