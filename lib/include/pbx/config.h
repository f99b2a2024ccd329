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

struct pbx_config {
	/* database: a libpq conninfo string or postgresql:// URL */
	char *database_url;
	/* realtime: MariaDB holding Asterisk's PJSIP Realtime tables */
	char *rt_host;
	int rt_port;
	char *rt_socket;
	char *rt_user;
	char *rt_password;
	char *rt_database;
	/* ami */
	char *ami_host;
	int ami_port;
	char *ami_username;
	char *ami_secret;
	int ami_timeout_ms;
	bool ami_md5;
	/* asterisk */
	char *config_dir;       /* generated dialplan, default /etc/asterisk/extensions.d/pbxctl */
	char *voicemail_dir;    /* generated voicemail config, default /etc/asterisk/voicemail.d/pbxctl */
	char *backup_dir;       /* default /var/lib/pbxctl/backup */
	char *voicemail_spool;  /* default /var/spool/asterisk/voicemail */
	char *voicemail_owner;  /* user[:group] of greeting files; NULL: asterisk if it exists */
	char *emergency_numbers; /* "911,112,999" (NULL: that default); never blocked by a policy */
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
