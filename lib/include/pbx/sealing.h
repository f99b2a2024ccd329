/* SPDX-License-Identifier: MIT */
/*
 * The sealing key pair's life cycle behind `pbxctl secrets publish` and `rotate-key`: the
 * public half published in PostgreSQL for operators who hold no private key, and the
 * rotation that re-seals every SIP secret to a new key pair in one transaction.
 */
#ifndef PBX_SEALING_H
#define PBX_SEALING_H

#include "pbx/pbx.h"
#include "pbx/schema.h"

extern const struct pbx_schema pbx_schema_sealing_key;

/*
 * Publish the public half of the private key in secrets.key_file, replacing any published
 * key, with an audit row. @ret gets one row (key_id, public_key, key_file). Errors:
 * PBX_ENOTFOUND / PBX_EPERM (no readable private key), PBX_EINVALID (a legacy key).
 */
int pbx_sealing_publish(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

/*
 * Rotate: write a new key pair to "<key_file>.<new id>", re-seal every device and trunk
 * secret to it and publish it in ONE transaction, check that the new key opens every
 * secret, then keep the old key as "<key_file>.<old id>" ("<key_file>.v1" for a legacy key)
 * and move the new one to key_file. Every value opens at every step: the context opens a
 * value with the key its id names. A rotation interrupted after its commit is completed by
 * the next call (resumed = true) instead of starting another. The environment variable
 * PBXCTL_TEST_ROTATE_ABORT=<step> ends the process at that step, for tests (new-key,
 * before-commit, after-commit, after-verify, after-keep-old).
 * @ret gets one row (key_id, previous_key_id, key_file, previous_key_file, resealed,
 * resumed). Errors: PBX_ENOTFOUND / PBX_EPERM (no private key), PBX_EINVALID (a secret
 * that opens with no key held here; nothing changed), PBX_ECONFLICT.
 */
int pbx_sealing_rotate(pbx_ctx *ctx, struct pbx_rows *ret, pbx_error *err);

#endif
