/* SPDX-License-Identifier: MIT */
/*
 * pbxctl's configuration: a YAML file (-c, $PBXCTL_CONFIG, then /etc/pbxctl/pbxctl.conf),
 * overridden by PBXCTL_* environment variables, overridden by flags. Unknown keys and
 * wrong types are errors with file:line:column.
 */
#ifndef PBX_CONFIG_H
#define PBX_CONFIG_H

#include <stdbool.h>

#include "pbx/error.h"

#define PBX_DEFAULT_CONFIG "/etc/pbxctl/pbxctl.conf"

/* One notify.webhooks entry: POST a JSON body to @url for @events, signed with @secret. */
struct pbx_webhook {
	char *url;              /* http:// or https:// */
	char *events;           /* comma-separated: apply, trunk.registration, device.unregistered; "*": all */
	char *secret;           /* HMAC-SHA256 key of X-Pbxctl-Signature; NULL: unsigned */
};

struct pbx_config {
	/* database: a libpq conninfo string or postgresql:// URL */
	char *database_url;
	char *db_sslmode;       /* NULL: the conninfo's own (libpq default prefer) */
	char *db_sslrootcert;   /* NULL: the conninfo's own (~/.postgresql/root.crt) */
	/* realtime: MariaDB holding Asterisk's PJSIP Realtime tables */
	char *rt_host;
	int rt_port;
	char *rt_socket;
	char *rt_user;
	char *rt_password;
	char *rt_database;
	char *rt_ssl_ca;        /* set: TLS is required, the server checked against this CA */
	bool rt_ssl_verify;     /* with rt_ssl_ca: check the certificate's name (default true) */
	/* ami */
	char *ami_host;
	int ami_port;           /* 0: 5038, or 5039 with ami_tls */
	char *ami_username;
	char *ami_secret;
	int ami_timeout_ms;
	bool ami_md5;
	bool ami_tls;           /* AMI over TLS; never falls back to plain TCP */
	char *ami_ca_file;      /* NULL: the system's trust store */
	/* asterisk */
	char *config_dir;       /* generated dialplan, default /etc/asterisk/extensions.d/pbxctl */
	char *voicemail_dir;    /* generated voicemail config, default /etc/asterisk/voicemail.d/pbxctl */
	char *backup_dir;       /* default /var/lib/pbxctl/backup */
	int backup_keep;        /* keep at least the newest N backups (1..100000, default 20) */
	int backup_keep_days;   /* and every backup of the last N days (0..3650, default 7) */
	char *voicemail_spool;  /* default /var/spool/asterisk/voicemail */
	char *voicemail_owner;  /* user[:group] of greeting files; NULL: asterisk if it exists */
	char *emergency_numbers; /* "911,112,999" (NULL: that default); never blocked by a policy */
	/* diag */
	char *cache_dir;        /* the PJSIP status cache; NULL: /run/pbxctl, $XDG_RUNTIME_DIR/pbxctl or /tmp/pbxctl-UID */
	/* notify */
	struct pbx_webhook *webhooks;
	size_t n_webhooks;
	/* secrets */
	char *key_file;         /* default /etc/pbxctl/pbxctl.key */
	/* where it came from, for messages; NULL when no file was read */
	char *source;
};

/* Fill @cfg with the built-in defaults. */
int pbx_config_defaults(struct pbx_config *cfg, pbx_error *err);

/*
 * Read the YAML file at @path over @cfg. When @required is false a missing file is not an
 * error (the default path). Every problem is added to @diag with file:line:column; the
 * return value is the worst code (PBX_EINVALID for bad content, PBX_ENOTFOUND for a
 * missing required file).
 */
int pbx_config_load_file(struct pbx_config *cfg, const char *path, bool required, pbx_diag *diag);

/* Parse YAML text (for tests); @name is used in messages. */
int pbx_config_load_string(struct pbx_config *cfg, const char *name, const char *text,
			   pbx_diag *diag);

/* Apply PBXCTL_* environment variables (PBXCTL_DATABASE_URL, PBXCTL_REALTIME_*, PBXCTL_AMI_*,
 * PBXCTL_ASTERISK_*, PBXCTL_KEY_FILE). A malformed number is PBX_EINVALID. */
int pbx_config_apply_env(struct pbx_config *cfg, pbx_error *err);

void pbx_config_free(struct pbx_config *cfg);

#endif
