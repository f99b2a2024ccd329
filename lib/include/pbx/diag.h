/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics: what Asterisk says about devices and trunks (read in one AMI round trip per
 * kind and kept 30 seconds in a cache file every invocation on the host shares), health
 * checks with their latency, Prometheus metrics, and drift between the desired state and
 * what is deployed. Nothing here changes the state of pbxctl, MariaDB or Asterisk.
 */
#ifndef PBX_DIAG_H
#define PBX_DIAG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "pbx/ami.h"
#include "pbx/pbx.h"
#include "pbx/schema.h"

/* How long a PJSIP snapshot is reused, in seconds. */
#define PBX_DIAG_CACHE_TTL 30

/* Everything PJSIPShowContacts and PJSIPShowRegistrationsOutbound said, at @fetched. */
struct pbx_diag_pjsip {
	struct pbx_ami_contact *contacts;
	size_t n_contacts;
	struct pbx_ami_registration *regs;
	size_t n_regs;
	long long fetched;      /* Unix time of the AMI round trip */
	bool cached;            /* read from the cache file */
};

/*
 * The PJSIP snapshot: from the cache file when it is younger than PBX_DIAG_CACHE_TTL (and
 * @refresh is false), else from Asterisk (one PJSIPShowContacts and one
 * PJSIPShowRegistrationsOutbound), then stored in the cache (failures to store are logged,
 * not returned). Free with pbx_diag_pjsip_free. PBX_EUNAVAILABLE, PBX_EPERM (AMI login).
 */
int pbx_diag_pjsip_load(pbx_ctx *ctx, bool refresh, struct pbx_diag_pjsip *ret, pbx_error *err);
void pbx_diag_pjsip_free(struct pbx_diag_pjsip *p);

/*
 * The cache file of the configured AMI server: diag.cache_dir (default /run/pbxctl when
 * writable, else $XDG_RUNTIME_DIR/pbxctl, else /tmp/pbxctl-UID), "pjsip-HOST-PORT.cache".
 * 0, or PBX_EINVALID when @n is too small.
 */
int pbx_diag_cache_path(const struct pbx_config *cfg, char *buf, size_t n, pbx_error *err);

/* Remove the cache file (apply calls it after a reload). Never fails; logs a problem. */
void pbx_diag_cache_invalidate(pbx_ctx *ctx);

extern const struct pbx_schema pbx_schema_device_status;

/* A contact counts as registered only while its expiration time is in the future. */
struct pbx_diag_device_query {
	const char *tenant;     /* NULL: every tenant */
	const char *user;       /* NULL: every user (needs @tenant) */
	const char *device;     /* NULL: every device of @user */
	const char *state;      /* NULL, "registered" or "unregistered" */
	bool refresh;           /* ignore the cache */
};

/*
 * One row per device (pbx_schema_device_status): state, contact, source address and port,
 * user agent, round-trip time, expiry. PBX_EINVALID (a bad @state), PBX_ENOTFOUND, and the
 * codes of pbx_diag_pjsip_load.
 */
int pbx_diag_devices(pbx_ctx *ctx, const struct pbx_diag_device_query *q, struct pbx_rows *ret,
		     pbx_error *err);

/*
 * Every trunk of @tenant and the global ones (NULL: all) as pbx_trunk_status reports them
 * (pbx_schema_trunk_status), from the cached snapshot unless @refresh.
 */
int pbx_diag_trunks(pbx_ctx *ctx, const char *tenant, bool refresh, struct pbx_rows *ret,
		    pbx_error *err);

extern const struct pbx_schema pbx_schema_health;

/*
 * Run every health check (postgresql, mariadb, ami_login, asterisk_booted, dialplan,
 * realtime_rows, disk_config, disk_backup, disk_spool), each a pbx_schema_health row with
 * its verdict and latency. *@ret_healthy is false when any failed; a failed check is a
 * verdict, not an error. @tenant (NULL: all) limits the dialplan and realtime_rows checks.
 * PBX_ERROR (out of memory) only.
 */
int pbx_diag_health(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, bool *ret_healthy,
		    pbx_error *err);

/*
 * The Prometheus text exposition (malloc'd, free()): pbxctl_devices{tenant,state},
 * pbxctl_trunk_registered{trunk,state}, pbxctl_trunk_reachable{trunk},
 * pbxctl_last_apply_success / _duration_seconds / _timestamp_seconds,
 * pbxctl_check_up{check}, pbxctl_check_latency_seconds{check}, pbxctl_healthy.
 * @tenant (NULL: all) limits devices, trunks and the last apply. PBX_ERROR only.
 */
int pbx_diag_metrics(pbx_ctx *ctx, const char *tenant, char **ret, pbx_error *err);

extern const struct pbx_schema pbx_schema_event;

/* Called with a one-row pbx_schema_event table per event; non-zero stops the watch. */
typedef int pbx_diag_event_fn(const struct pbx_rows *event, void *userdata);

/*
 * Follow Asterisk's events (ContactStatus, Registry, DeviceStateChange, FullyBooted,
 * Reload, UserEvent) until *@stop is set (from a signal handler) or @fn returns non-zero,
 * reconnecting with a backoff of 250 ms doubling to 8 s whenever Asterisk is unreachable.
 * With @tenant only that tenant's events (and the global FullyBooted and Reload) pass.
 * 0 when stopped; PBX_EPERM (AMI login refused), the codes of the device and trunk lists,
 * or @fn's code.
 */
int pbx_diag_watch(pbx_ctx *ctx, const char *tenant, volatile sig_atomic_t *stop,
		   pbx_diag_event_fn *fn, void *ud, pbx_error *err);

/*
 * Deliver @body (JSON) for @event ("apply", "trunk.registration", "device.unregistered") to
 * every configured webhook that takes it (notify.webhooks): POST, signed
 * "X-Pbxctl-Signature: sha256=<hex HMAC-SHA256 of the body>" with the webhook's secret,
 * "X-Pbxctl-Event: @event"; each attempt bounded to 3 s, three attempts 0.5 s and 1 s
 * apart. Returns how many webhooks could not be reached (each logged as a warning); never
 * an error for the caller.
 */
int pbx_notify(pbx_ctx *ctx, const char *event, const char *body);

/* pbx_notify of {"event": @event, "key": "value", ...} from the pairs @kv (NULL-ended;
 * a NULL value is null). Nothing is built when no webhook is configured. */
int pbx_notify_fields(pbx_ctx *ctx, const char *event, const char *const *kv);

extern const struct pbx_schema pbx_schema_drift;

/*
 * Every difference between the desired state and what is deployed, for @tenant (NULL:
 * all): generated files missing, edited or orphaned on disk; realtime rows missing, changed
 * or left over; dialplan files Asterisk did not load as they are on disk (marker or
 * context counts, as apply's verify checks them); problems that make the desired state
 * invalid. One pbx_schema_drift row each; no rows: no drift. Writes nothing.
 * PBX_EINVALID (bad @tenant), PBX_ENOTFOUND, PBX_EUNAVAILABLE.
 */
int pbx_diag_drift(pbx_ctx *ctx, const char *tenant, struct pbx_rows *ret, pbx_error *err);

#endif
