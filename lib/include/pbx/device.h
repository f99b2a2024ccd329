/* SPDX-License-Identifier: MIT */
/*
 * SIP devices of a user (desk phone, softphone, mobile): a label unique for the user, a
 * globally unique random SIP username ("<slug>-" and 12 random characters; it is also the
 * Asterisk endpoint, AOR and auth id), a random secret sealed at rest with the key file
 * (libsodium secretbox), transport, NAT options, an ordered codec list and an enabled flag.
 * The secret is shown once, by create and rotate-secret, and otherwise only by an audited
 * reveal; everywhere else it reads "********". Every change writes its audit row.
 * A device is named by its user (username, extension or id) and its label (or its SIP
 * username, or its id).
 */
#ifndef PBX_DEVICE_H
#define PBX_DEVICE_H

#include <stdbool.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"
#include "pbx/user.h"

/* A user has at most this many devices. */
#define PBX_DEVICE_MAX_PER_USER 10
/* The codecs a device may list, in no particular order. */
#define PBX_DEVICE_CODECS "ulaw, alaw, g722, opus, gsm, g729"
/* What a secret reads as everywhere but create, rotate-secret and reveal. */
#define PBX_DEVICE_SECRET_MASK "********"

/* What create sets or update changes; NULL / PBX_UNSET = leave alone (create: default). */
struct pbx_device_spec {
	const char *label;      /* create: required; update: rename. 1 to 64 characters */
	const char *transport;  /* udp (default), tcp, tls, wss */
	const char *codecs;     /* ordered, comma-separated, no repeats; default "ulaw,alaw" */
	int force_rport;        /* default on */
	int rewrite_contact;    /* default on */
	int rtp_symmetric;      /* default on */
	int direct_media;       /* default off */
};

#define PBX_DEVICE_SPEC_INIT { .force_rport = PBX_UNSET, .rewrite_contact = PBX_UNSET, \
			       .rtp_symmetric = PBX_UNSET, .direct_media = PBX_UNSET }

/* Field rules, shared with import: 0 or PBX_EINVALID naming @object and the field. */
int pbx_device_check_label(const char *object, const char *label, pbx_error *err);
int pbx_device_check_transport(const char *object, const char *transport, pbx_error *err);
int pbx_device_check_codecs(const char *object, const char *codecs, pbx_error *err);

/*
 * Create a device for @user of @tenant with a new SIP username and secret. Needs the key
 * file: without it nothing is written (PBX_ENOTFOUND, PBX_EPERM or PBX_EINVALID from the
 * key loader, whose message says to run `pbxctl secrets init`). @ret (pbx_schema_device)
 * holds the plaintext secret in its "secret" cell, this once: release it with
 * pbx_device_rows_free, which wipes it. PBX_EINVALID, PBX_ECONFLICT (label taken, or the
 * user already has PBX_DEVICE_MAX_PER_USER devices, or the user is deleted), PBX_ENOTFOUND.
 */
int pbx_device_create(pbx_ctx *ctx, const char *tenant, const char *user,
		      const struct pbx_device_spec *spec, struct pbx_rows *ret, pbx_error *err);

/*
 * Create a user (as pbx_user_create) together with its first @n_devices devices (at most
 * PBX_DEVICE_MAX_PER_USER), in one transaction: all of them or none. @ret_user gets the
 * user; @ret_devices one row per device, in order, with the plaintext secrets this once
 * (release with pbx_device_rows_free). Either may be NULL. The codes of both creates.
 */
int pbx_user_create_with_devices(pbx_ctx *ctx, const char *tenant,
				 const struct pbx_user_spec *user,
				 const struct pbx_device_spec *devices, size_t n_devices,
				 struct pbx_rows *ret_user, struct pbx_rows *ret_devices,
				 pbx_error *err);

/* Change the fields set in @spec; @ret_changed as for users. PBX_EINVALID, PBX_ECONFLICT. */
int pbx_device_update(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		      const struct pbx_device_spec *spec, struct pbx_rows *ret, bool *ret_changed,
		      pbx_error *err);

/* Enable or disable; a disabled device keeps its row but cannot register after apply. */
int pbx_device_set_enabled(pbx_ctx *ctx, const char *tenant, const char *user,
			   const char *device, bool enabled, struct pbx_rows *ret,
			   bool *ret_changed, pbx_error *err);

/* Remove a device. @ret receives its last state (secret masked). PBX_ENOTFOUND. */
int pbx_device_delete(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		      struct pbx_rows *ret, pbx_error *err);

/*
 * Give the device a new random secret. @ret holds the new plaintext secret, as after
 * create; release with pbx_device_rows_free. Needs the key, as create does.
 */
int pbx_device_rotate_secret(pbx_ctx *ctx, const char *tenant, const char *user,
			     const char *device, struct pbx_rows *ret, pbx_error *err);

/*
 * The devices of @tenant, or of one @user of it when not NULL, by username and label; with
 * @tenant NULL, in one query, those of every tenant the operator may see (row-level
 * security), by tenant slug first. PBX_ENOTFOUND (tenant, user), PBX_EINVALID (a @user
 * without @tenant).
 */
int pbx_device_list(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		    pbx_error *err);

/*
 * One device. With @reveal the secret is opened with the key and an audit row (action
 * "reveal") records who revealed it before it is returned; release @ret with
 * pbx_device_rows_free. A ciphertext that does not authenticate is PBX_EINVALID with the
 * message "sealed secret failed authentication: tampered, or sealed with another key".
 */
int pbx_device_show(pbx_ctx *ctx, const char *tenant, const char *user, const char *device,
		    bool reveal, struct pbx_rows *ret, pbx_error *err);

/* pbx_rows_free that first wipes every "secret" cell (sodium_memzero). */
void pbx_device_rows_free(struct pbx_rows *rows);

/*
 * Create the key file at @path (NULL = the configured secrets.key_file), mode 0600,
 * never overwriting. @ret (pbx_schema_key_file) gets its path. PBX_ECONFLICT (exists),
 * PBX_EINVALID (no such directory), PBX_EPERM.
 */
int pbx_device_key_init(pbx_ctx *ctx, const char *path, struct pbx_rows *ret, pbx_error *err);

/*
 * Open every sealed device secret (of @tenant, or all when NULL) with the key, without
 * revealing any. @ret (pbx_schema_secret_check) has one row per device whose secret does not
 * open; PBX_EINVALID when there is at least one, naming the first. The key errors of
 * create. Writes nothing.
 */
int pbx_device_verify_secrets(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret,
			      long *ret_checked, pbx_error *err);

#endif
