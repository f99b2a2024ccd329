/* SPDX-License-Identifier: MIT */
/*
 * The Asterisk Manager Interface (AMI) client: one TCP session to Asterisk, logged in with a
 * plain or MD5-challenge Login, that sends actions with unique ActionIDs and collects their
 * responses (head message, event lists, Command output). Every read has a deadline, every
 * message is bounded in size, and a broken connection is retried once for read-only actions
 * only. A handle is used by one thread at a time.
 */
#ifndef PBX_AMI_H
#define PBX_AMI_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/error.h"

#define PBX_AMI_DEFAULT_PORT 5038
#define PBX_AMI_DEFAULT_TLS_PORT 5039   /* manager.conf tlsbindport */
#define PBX_AMI_DEFAULT_TIMEOUT_MS 5000

/* Limits on what the server may send; anything beyond is a protocol error. */
#define PBX_AMI_MAX_LINE (64 * 1024)            /* bytes in one line */
#define PBX_AMI_MAX_MESSAGE (1024 * 1024)       /* bytes in one message */
#define PBX_AMI_MAX_HEADERS 100000              /* lines in one message */
#define PBX_AMI_MAX_EVENTS 1000000              /* events in one list */
#define PBX_AMI_MAX_RESPONSE (256 * 1024 * 1024) /* bytes of one list */

struct pbx_ami_config {
	const char *host;     /* name or address; NULL means 127.0.0.1 */
	int port;             /* 0 means 5038, or 5039 with @tls */
	const char *username; /* NULL: do not log in (only useful for tests) */
	const char *secret;
	int timeout_ms;       /* connect and per-message deadline; 0 means 5000 */
	bool md5;             /* log in through Action: Challenge / AuthType: md5 */
	const char *events;   /* Login's Events header; NULL means "off" */
	/*
	 * TLS (manager.conf tlsenable): the server's certificate must chain to @ca_file (PEM;
	 * NULL or "": the system's trust store) and name @host (DNS name or IP address). A
	 * server that does not speak TLS or fails the checks is an error, never plain TCP.
	 */
	bool tls;
	const char *ca_file;
};

#define PBX_AMI_CONFIG_INIT { .host = NULL, .port = PBX_AMI_DEFAULT_PORT }

typedef struct pbx_ami pbx_ami;

/* One "Key: Value" line. Keys may repeat inside a message; order is kept. */
struct pbx_ami_header {
	char *key;
	char *value;
};

struct pbx_ami_msg {
	struct pbx_ami_header *headers;
	size_t n_headers;
};

/*
 * The answer to one action: the Response message (@head), the events of an event list
 * (between "EventList: start" and the completion event, which is @complete, NULL when the
 * answer is not a list) and the lines of Command output, from "Output:" headers (modern form)
 * or from the raw text of "Response: Follows" (Asterisk before 14). Everything is owned by
 * the response and freed by pbx_ami_response_free.
 */
struct pbx_ami_response {
	struct pbx_ami_msg head;
	struct pbx_ami_msg *events;
	size_t n_events;
	struct pbx_ami_msg *complete;
	char **output;
	size_t n_output;
};

/*
 * Called for every event the server sends that is not part of an answer to one of our
 * actions (e.g. "Event: FullyBooted"), as the client reads them, that is while it waits for
 * an answer. @event is valid during the call only. Stale responses are dropped silently.
 */
typedef void pbx_ami_event_fn(const struct pbx_ami_msg *event, void *userdata);

/*
 * Connect to @cfg->host:@cfg->port (non-blocking connect bounded by timeout_ms), read the
 * greeting ("Asterisk Call Manager/x.y.z") and log in. The strings of @cfg are copied.
 * Returns 0 and sets *@ret (free with pbx_ami_close), or:
 *   PBX_EUNAVAILABLE  refused, unreachable, timed out, or not an AMI server;
 *   PBX_EPERM         the server refused the login (the message never holds the secret);
 *   PBX_EINVALID      @cfg->tls with a @cfg->ca_file that cannot be loaded.
 */
int pbx_ami_connect(const struct pbx_ami_config *cfg, pbx_ami **ret, pbx_error *err);

/*
 * The same over an already connected stream socket @fd (a socketpair in tests, a tunnel),
 * which the handle owns from now on, even on failure. @cfg->host and @cfg->port only name the
 * server in messages. Such a handle cannot reconnect, so it never retries.
 */
int pbx_ami_connect_fd(int fd, const struct pbx_ami_config *cfg, pbx_ami **ret,
		       pbx_error *err);

/* Send Logoff (best effort, briefly waiting for "Goodbye"), close and free. NULL is a no-op. */
void pbx_ami_close(pbx_ami *ami);

/* The protocol version from the greeting ("13.0.0"). Owned by @ami. */
const char *pbx_ami_version(const pbx_ami *ami);

/* Install (or, with NULL, remove) the callback for unsolicited messages. */
void pbx_ami_set_event_cb(pbx_ami *ami, pbx_ami_event_fn *cb, void *userdata);

/*
 * Send @action with the header pairs @kv ("Key", "Value", ..., NULL; may be NULL) and wait for
 * the whole answer. Keys must be tokens and no key or value may contain CR or LF (that would
 * inject headers or actions): PBX_EINVALID, nothing sent.
 * Returns 0 when the server answered Success (also Follows and Goodbye) and sets *@ret (free
 * with pbx_ami_response_free). On "Response: Error" returns the code of
 * pbx_ami_response_check and *@ret is untouched. Transport failures: PBX_EUNAVAILABLE
 * (connection lost, deadline passed), PBX_ERROR (malformed or oversized message).
 */
int pbx_ami_action(pbx_ami *ami, const char *action, const char *const *kv,
		   struct pbx_ami_response **ret, pbx_error *err);

/*
 * Like pbx_ami_action, but returns 0 for any complete answer, including "Response: Error",
 * so the caller can look at it; check it with pbx_ami_response_check.
 */
int pbx_ami_action_raw(pbx_ami *ami, const char *action, const char *const *kv,
		       struct pbx_ami_response **ret, pbx_error *err);

/* One action of a batch (pbx_ami_batch): its name and header pairs, as pbx_ami_action's. */
struct pbx_ami_batch_action {
	const char *action;
	const char *const *kv;
};

/* The answer to action @i of a batch: 0, or the code pbx_ami_action returns, with @why. */
typedef void pbx_ami_batch_fn(size_t i, int result, const pbx_error *why, void *userdata);

/*
 * Send the @n actions on one connection, up to PBX_AMI_BATCH_WINDOW of them ahead of their
 * answers (Asterisk answers a session's actions in the order they arrive), and call @done
 * with each answer, in order. An action that Asterisk refuses does not stop the others. A
 * transport failure does: the connection is dropped, the actions not yet answered are not
 * reported and nothing is resent (PBX_EUNAVAILABLE or PBX_ERROR, as pbx_ami_action). An
 * action with a bad key or value (see pbx_ami_action) is PBX_EINVALID before anything is sent.
 */
#define PBX_AMI_BATCH_WINDOW 64
int pbx_ami_batch(pbx_ami *ami, const struct pbx_ami_batch_action *actions, size_t n,
		  pbx_ami_batch_fn *done, void *userdata, pbx_error *err);

/*
 * 0 when @resp says Success, Follows or Goodbye. Otherwise fills @err with "ami at host:port:
 * @action failed: <server message>" (the server text also goes to detail) and returns
 * PBX_ENOTFOUND (no such context, extension, database entry or endpoint), PBX_EPERM
 * (permission denied, authentication failed) or PBX_ERROR.
 */
int pbx_ami_response_check(const pbx_ami *ami, const char *action,
			   const struct pbx_ami_response *resp, pbx_error *err);

void pbx_ami_response_free(struct pbx_ami_response *resp);

/* The value of the first header named @key (case-insensitive), or NULL. */
const char *pbx_ami_msg_get(const struct pbx_ami_msg *msg, const char *key);

/* ---- High-level helpers (apply and diag) ---- */

/* Action: Ping. PBX_EUNAVAILABLE when the server does not answer. */
int pbx_ami_ping(pbx_ami *ami, pbx_error *err);

/*
 * Action: Command with the CLI text @command; *@ret (may be NULL) gets the response, whose
 * output lines are in ->output. A failed CLI command gives PBX_ENOTFOUND ("There is no
 * existence of ...") or PBX_ERROR with the output in the message.
 */
int pbx_ami_command(pbx_ami *ami, const char *command, struct pbx_ami_response **ret,
		    pbx_error *err);

/* Action: Reload with Module: @module (NULL reloads everything). Never retried. */
int pbx_ami_reload(pbx_ami *ami, const char *module, pbx_error *err);

/*
 * ShowDialPlan with Context: @context; the number of extensions and priorities Asterisk has
 * loaded in it (ListExtensions / ListPriorities of the completion event).
 * PBX_ENOTFOUND when the context does not exist.
 */
int pbx_ami_dialplan_counts(pbx_ami *ami, const char *context, int *ret_extensions,
			    int *ret_priorities, pbx_error *err);

/*
 * Read the apply marker: "dialplan show version@@meta_context" and the argument of the
 * NoOp() at priority 1 of extension 'version', copied into @buf (@n bytes, NUL included).
 * PBX_ENOTFOUND when the context or the extension is missing; PBX_ERROR when the line is not
 * a NoOp marker; PBX_EINVALID when @buf is too small.
 */
int pbx_ami_read_marker(pbx_ami *ami, const char *meta_context, char *buf, size_t n,
			pbx_error *err);

/* AstDB. pbx_ami_db_get sets *@ret_value (malloc'd, free()); missing key: PBX_ENOTFOUND. */
int pbx_ami_db_put(pbx_ami *ami, const char *family, const char *key, const char *value,
		   pbx_error *err);
int pbx_ami_db_get(pbx_ami *ami, const char *family, const char *key, char **ret_value,
		   pbx_error *err);
int pbx_ami_db_del(pbx_ami *ami, const char *family, const char *key, pbx_error *err);
/* Delete the whole @family, or the subtree @key of it when @key is not NULL. */
int pbx_ami_db_deltree(pbx_ami *ami, const char *family, const char *key, pbx_error *err);

/* One AstDB entry of a DBGetTree answer: the full path "/family/key" and its value. */
struct pbx_ami_db_entry {
	char *key;
	char *value;
};

/*
 * DBGetTree of @family: every entry below it (an empty family has none: *@ret_n is 0).
 * *@ret is a malloc'd array freed with pbx_ami_db_entries_free. PBX_ERROR on a malformed
 * answer.
 */
int pbx_ami_db_gettree(pbx_ami *ami, const char *family, struct pbx_ami_db_entry **ret,
		       size_t *ret_n, pbx_error *err);
void pbx_ami_db_entries_free(struct pbx_ami_db_entry *e, size_t n);

/* One registered contact (PJSIPShowContacts ContactList event). */
struct pbx_ami_contact {
	char *aor;            /* from ObjectName "aor;@hash" */
	char *endpoint;
	char *uri;
	char *via_addr;
	int via_port;         /* 0 when unknown */
	char *user_agent;
	long long expiration_time; /* Unix time, 0 when unknown */
	char *status;         /* Reachable, Unreachable, NonQualified, Unknown, ... */
	long long roundtrip_usec;  /* -1 when "N/A" */
};

/* All contacts; *@ret is an array of *@ret_n (free with pbx_ami_contacts_free). */
int pbx_ami_contacts(pbx_ami *ami, struct pbx_ami_contact **ret, size_t *ret_n,
		     pbx_error *err);
void pbx_ami_contacts_free(struct pbx_ami_contact *contacts, size_t n);

/* One outbound registration (PJSIPShowRegistrationsOutbound). */
struct pbx_ami_registration {
	char *name;           /* ObjectName */
	char *server_uri;
	char *client_uri;
	char *endpoint;       /* may be empty */
	char *status;         /* Registered, Unregistered, Rejected, ... */
	long long next_reg;   /* seconds, -1 when unknown */
};

int pbx_ami_registrations_outbound(pbx_ami *ami, struct pbx_ami_registration **ret,
				   size_t *ret_n, pbx_error *err);
void pbx_ami_registrations_free(struct pbx_ami_registration *regs, size_t n);

#endif
