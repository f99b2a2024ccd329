/* SPDX-License-Identifier: MIT */
/*
 * Reading pbxctl.conf: a YAML mapping of sections, parsed with libyaml into a document and
 * checked against one table of known keys. Every unknown key or wrong type is reported with
 * file:line:column; environment variables then override the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/config.h"

enum kind { K_STRING, K_INT, K_BOOL, K_SECONDS, K_KEEP, K_DAYS, K_SSLMODE };

struct key {
	const char *section, *name;
	enum kind kind;
	size_t off;             /* offset of the member in struct pbx_config */
	const char *env;        /* environment variable, or NULL */
};

/* libpq's sslmode values. */
static const char *const sslmodes[] = { "disable", "allow", "prefer", "require", "verify-ca",
					"verify-full", NULL };

#define OFF(m) offsetof(struct pbx_config, m)

static const struct key keys[] = {
	{ "database", "url", K_STRING, OFF(database_url), "PBXCTL_DATABASE_URL" },
	{ "database", "sslmode", K_SSLMODE, OFF(db_sslmode), "PBXCTL_DATABASE_SSLMODE" },
	{ "database", "sslrootcert", K_STRING, OFF(db_sslrootcert), "PBXCTL_DATABASE_SSLROOTCERT" },
	{ "realtime", "host", K_STRING, OFF(rt_host), "PBXCTL_REALTIME_HOST" },
	{ "realtime", "port", K_INT, OFF(rt_port), "PBXCTL_REALTIME_PORT" },
	{ "realtime", "socket", K_STRING, OFF(rt_socket), "PBXCTL_REALTIME_SOCKET" },
	{ "realtime", "user", K_STRING, OFF(rt_user), "PBXCTL_REALTIME_USER" },
	{ "realtime", "password", K_STRING, OFF(rt_password), "PBXCTL_REALTIME_PASSWORD" },
	{ "realtime", "database", K_STRING, OFF(rt_database), "PBXCTL_REALTIME_DATABASE" },
	{ "realtime", "ssl_ca", K_STRING, OFF(rt_ssl_ca), "PBXCTL_REALTIME_SSL_CA" },
	{ "realtime", "ssl_verify", K_BOOL, OFF(rt_ssl_verify), "PBXCTL_REALTIME_SSL_VERIFY" },
	{ "ami", "host", K_STRING, OFF(ami_host), "PBXCTL_AMI_HOST" },
	{ "ami", "port", K_INT, OFF(ami_port), "PBXCTL_AMI_PORT" },
	{ "ami", "username", K_STRING, OFF(ami_username), "PBXCTL_AMI_USERNAME" },
	{ "ami", "secret", K_STRING, OFF(ami_secret), "PBXCTL_AMI_SECRET" },
	{ "ami", "timeout", K_SECONDS, OFF(ami_timeout_ms), "PBXCTL_AMI_TIMEOUT" },
	{ "ami", "md5", K_BOOL, OFF(ami_md5), "PBXCTL_AMI_MD5" },
	{ "ami", "tls", K_BOOL, OFF(ami_tls), "PBXCTL_AMI_TLS" },
	{ "ami", "ca_file", K_STRING, OFF(ami_ca_file), "PBXCTL_AMI_CA_FILE" },
	{ "asterisk", "config_dir", K_STRING, OFF(config_dir), "PBXCTL_ASTERISK_CONFIG_DIR" },
	{ "asterisk", "voicemail_dir", K_STRING, OFF(voicemail_dir), "PBXCTL_ASTERISK_VOICEMAIL_DIR" },
	{ "asterisk", "backup_dir", K_STRING, OFF(backup_dir), "PBXCTL_ASTERISK_BACKUP_DIR" },
	{ "asterisk", "backup_keep", K_KEEP, OFF(backup_keep), "PBXCTL_ASTERISK_BACKUP_KEEP" },
	{ "asterisk", "backup_keep_days", K_DAYS, OFF(backup_keep_days), "PBXCTL_ASTERISK_BACKUP_KEEP_DAYS" },
	{ "asterisk", "voicemail_spool", K_STRING, OFF(voicemail_spool), "PBXCTL_ASTERISK_VOICEMAIL_SPOOL" },
	{ "asterisk", "voicemail_owner", K_STRING, OFF(voicemail_owner), "PBXCTL_ASTERISK_VOICEMAIL_OWNER" },
	{ "asterisk", "emergency_numbers", K_STRING, OFF(emergency_numbers), "PBXCTL_ASTERISK_EMERGENCY_NUMBERS" },
	{ "secrets", "key_file", K_STRING, OFF(key_file), "PBXCTL_KEY_FILE" },
	{ "diag", "cache_dir", K_STRING, OFF(cache_dir), "PBXCTL_DIAG_CACHE_DIR" },
};

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return PBX_ERROR;
	free(*dst);
	*dst = s;
	return 0;
}

int pbx_config_defaults(struct pbx_config *cfg, pbx_error *err)
{
	*cfg = (struct pbx_config){
		.rt_port = 3306,
		.rt_ssl_verify = true,
		.ami_port = 0,          /* 5038, or 5039 with ami.tls */
		.ami_timeout_ms = 5000,
		.backup_keep = 20,
		.backup_keep_days = 7,
	};
	if (set_string(&cfg->database_url, "dbname=pbxctl") < 0 ||
	    set_string(&cfg->rt_database, "asterisk") < 0 ||
	    set_string(&cfg->rt_user, "pbxctl") < 0 ||
	    set_string(&cfg->ami_host, "127.0.0.1") < 0 ||
	    set_string(&cfg->ami_username, "pbxctl") < 0 ||
	    set_string(&cfg->config_dir, "/etc/asterisk/extensions.d/pbxctl") < 0 ||
	    set_string(&cfg->voicemail_dir, "/etc/asterisk/voicemail.d/pbxctl") < 0 ||
	    set_string(&cfg->backup_dir, "/var/lib/pbxctl/backup") < 0 ||
	    set_string(&cfg->voicemail_spool, "/var/spool/asterisk/voicemail") < 0 ||
	    set_string(&cfg->key_file, "/etc/pbxctl/pbxctl.key") < 0)
		return pbx_errorf(err, PBX_ERROR, "configuration", NULL, "out of memory");
	return 0;
}

/* Parse @v as the kind of @k and store it; returns 0 or a message in @why. */
static int store(struct pbx_config *cfg, const struct key *k, const char *v, const char **why)
{
	void *p = (char *)cfg + k->off;
	char *end;
	double d;
	long l;

	switch (k->kind) {
	case K_STRING:
		return set_string(p, v);
	case K_INT:
		errno = 0;
		l = strtol(v, &end, 10);
		if (errno || end == v || *end || l < 1 || l > 65535) {
			*why = "expected a port number from 1 to 65535";
			return PBX_EINVALID;
		}
		*(int *)p = (int)l;
		return 0;
	case K_KEEP:
	case K_DAYS:
		errno = 0;
		l = strtol(v, &end, 10);
		if (errno || end == v || *end || (k->kind == K_KEEP && (l < 1 || l > 100000)) ||
		    (k->kind == K_DAYS && (l < 0 || l > 3650))) {
			*why = k->kind == K_KEEP ? "expected a number of backups from 1 to 100000" :
						   "expected a number of days from 0 to 3650";
			return PBX_EINVALID;
		}
		*(int *)p = (int)l;
		return 0;
	case K_SECONDS:
		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || d <= 0 || d > 3600) {
			*why = "expected a number of seconds greater than 0 and at most 3600";
			return PBX_EINVALID;
		}
		*(int *)p = (int)(d * 1000);
		return 0;
	case K_SSLMODE:
		for (const char *const *c = sslmodes; *c; c++)
			if (!strcmp(*c, v))
				return set_string(p, v);
		*why = "expected disable, allow, prefer, require, verify-ca or verify-full";
		return PBX_EINVALID;
	case K_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
			*(bool *)p = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
			*(bool *)p = false;
		else {
			*why = "expected true or false";
			return PBX_EINVALID;
		}
		return 0;
	}
	return PBX_ERROR;
}

static void add_at(pbx_diag *diag, const char *file, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_at(pbx_diag *diag, const char *file, const yaml_node_t *n, const char *fmt, ...)
{
	pbx_error e;
	va_list ap;

	va_start(ap, fmt);
	pbx_verrorf(&e, PBX_EINVALID, NULL, NULL, fmt, ap);
	va_end(ap);
	pbx_error_set_location(&e, file, (int)n->start_mark.line + 1,
			       (int)n->start_mark.column + 1);
	pbx_diag_add(diag, &e);
}

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].section, section) && (!name || !strcmp(keys[i].name, name)))
			return &keys[i];
	return NULL;
}

static const char *const webhook_events[] = { "apply", "trunk.registration",
					      "device.unregistered", "*", NULL };

static bool valid_events(const char *list)
{
	char *copy = strdup(list), *save = NULL;
	bool ok = copy && *list;

	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && ok; t = strtok_r(NULL, ",", &save)) {
		bool known = false;

		t += strspn(t, " ");
		for (size_t i = 0; webhook_events[i] && !known; i++)
			known = !strcmp(t, webhook_events[i]);
		ok = known;
	}
	free(copy);
	return ok;
}

/* notify.webhooks: a list of {url, events, secret} mappings. */
static void load_webhooks(struct pbx_config *cfg, yaml_document_t *doc, const char *file,
			  yaml_node_t *seq, pbx_diag *diag)
{
	if (seq->type != YAML_SEQUENCE_NODE) {
		add_at(diag, file, seq, "notify.webhooks: expected a list of {url, events, secret}");
		return;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = yaml_document_get_node(doc, *it);
		struct pbx_webhook w = { 0 }, *p;

		if (m->type != YAML_MAPPING_NODE) {
			add_at(diag, file, m, "notify.webhooks: each entry is a mapping of url, events, secret");
			continue;
		}
		for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
			yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
			yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
			const char *k = kn->type == YAML_SCALAR_NODE ? (char *)kn->data.scalar.value : "?";
			char **dst = !strcmp(k, "url") ? &w.url : !strcmp(k, "events") ? &w.events :
				     !strcmp(k, "secret") ? &w.secret : NULL;

			if (!dst)
				add_at(diag, file, kn, "notify.webhooks.%s: unknown key; expected url, events or secret", k);
			else if (vn->type != YAML_SCALAR_NODE)
				add_at(diag, file, vn, "notify.webhooks.%s: expected a single value", k);
			else
				set_string(dst, (char *)vn->data.scalar.value);
		}
		if (!w.url || (strncmp(w.url, "http://", 7) && strncmp(w.url, "https://", 8)))
			add_at(diag, file, m, "notify.webhooks.url: an http:// or https:// URL is required");
		else if (!w.events || !valid_events(w.events))
			add_at(diag, file, m, "notify.webhooks.events: a comma-separated list of apply, trunk.registration, device.unregistered, or *");
		else if ((p = realloc(cfg->webhooks, (cfg->n_webhooks + 1) * sizeof(*p)))) {
			cfg->webhooks = p;
			p[cfg->n_webhooks++] = w;
			continue;
		}
		free(w.url);
		free(w.events);
		free(w.secret);
	}
}

static void load_section(struct pbx_config *cfg, yaml_document_t *doc, const char *file,
			 const char *section, yaml_node_t *map, pbx_diag *diag)
{
	if (map->type == YAML_SCALAR_NODE && map->data.scalar.length == 0)
		return; /* "section:" with nothing under it */
	if (map->type != YAML_MAPPING_NODE) {
		add_at(diag, file, map, "%s: expected a mapping of keys", section);
		return;
	}
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
		const char *name = kn->type == YAML_SCALAR_NODE ? (char *)kn->data.scalar.value : "?";
		const struct key *k = find_key(section, name);
		const char *why = NULL;

		if (!strcmp(section, "notify") && !strcmp(name, "webhooks")) {
			load_webhooks(cfg, doc, file, vn, diag);
			continue;
		}
		if (!k) {
			add_at(diag, file, kn, "%s.%s: unknown key", section, name);
			continue;
		}
		if (vn->type != YAML_SCALAR_NODE) {
			add_at(diag, file, vn, "%s.%s: expected a single value", section, name);
			continue;
		}
		if (store(cfg, k, (char *)vn->data.scalar.value, &why) < 0)
			add_at(diag, file, vn, "%s.%s: %s", section, name, why ? why : "out of memory");
	}
}

static int load_parser(struct pbx_config *cfg, const char *file, yaml_parser_t *parser,
		       pbx_diag *diag)
{
	yaml_document_t doc;
	yaml_node_t *root;
	size_t before = diag->n;

	if (!yaml_parser_load(parser, &doc)) {
		pbx_error e;

		pbx_errorf(&e, PBX_EINVALID, NULL, NULL, "%s",
			   parser->problem ? parser->problem : "invalid YAML");
		pbx_error_set_location(&e, file, (int)parser->problem_mark.line + 1,
				       (int)parser->problem_mark.column + 1);
		pbx_diag_add(diag, &e);
		return PBX_EINVALID;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		if (root->type != YAML_MAPPING_NODE) {
			add_at(diag, file, root, "expected a mapping of sections");
		} else {
			for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
			     pr < root->data.mapping.pairs.top; pr++) {
				yaml_node_t *kn = yaml_document_get_node(&doc, pr->key);
				yaml_node_t *vn = yaml_document_get_node(&doc, pr->value);
				const char *name = kn->type == YAML_SCALAR_NODE ?
					(char *)kn->data.scalar.value : "?";

				if (!find_key(name, NULL) && strcmp(name, "notify")) {
					add_at(diag, file, kn,
					       "%s: unknown section; expected database, realtime, ami, asterisk, secrets, diag or notify",
					       name);
					continue;
				}
				load_section(cfg, &doc, file, name, vn, diag);
			}
		}
	}
	yaml_document_delete(&doc);
	return diag->n > before ? PBX_EINVALID : 0;
}

int pbx_config_load_string(struct pbx_config *cfg, const char *name, const char *text,
			   pbx_diag *diag)
{
	yaml_parser_t parser;
	int r;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	r = load_parser(cfg, name, &parser, diag);
	yaml_parser_delete(&parser);
	return r;
}

int pbx_config_load_file(struct pbx_config *cfg, const char *path, bool required, pbx_diag *diag)
{
	yaml_parser_t parser;
	FILE *f = fopen(path, "r");
	int r;

	if (!f) {
		if (errno == ENOENT && !required)
			return 0;
		return pbx_diag_addf(diag, errno == ENOENT ? PBX_ENOTFOUND : PBX_EPERM,
				     "configuration", NULL, "cannot read %s: %s", path,
				     strerror(errno));
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	r = load_parser(cfg, path, &parser, diag);
	yaml_parser_delete(&parser);
	fclose(f);
	if (r == 0)
		r = set_string(&cfg->source, path);
	return r;
}

int pbx_config_apply_env(struct pbx_config *cfg, pbx_error *err)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = getenv(keys[i].env);
		const char *why = NULL;

		if (!v)
			continue;
		if (store(cfg, &keys[i], v, &why) < 0)
			return pbx_errorf(err, PBX_EINVALID, "environment", keys[i].env, "%s: %s",
					  keys[i].env, why ? why : "out of memory");
	}
	return 0;
}

void pbx_config_free(struct pbx_config *cfg)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].kind == K_STRING || keys[i].kind == K_SSLMODE) {
			char **p = (char **)((char *)cfg + keys[i].off);

			if (*p && keys[i].off == OFF(rt_password))
				memset(*p, 0, strlen(*p));
			if (*p && keys[i].off == OFF(ami_secret))
				memset(*p, 0, strlen(*p));
			free(*p);
			*p = NULL;
		}
	for (size_t i = 0; i < cfg->n_webhooks; i++) {
		free(cfg->webhooks[i].url);
		free(cfg->webhooks[i].events);
		if (cfg->webhooks[i].secret)
			memset(cfg->webhooks[i].secret, 0, strlen(cfg->webhooks[i].secret));
		free(cfg->webhooks[i].secret);
	}
	free(cfg->webhooks);
	cfg->webhooks = NULL;
	cfg->n_webhooks = 0;
	free(cfg->source);
	cfg->source = NULL;
}
