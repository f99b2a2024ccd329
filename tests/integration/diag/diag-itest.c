/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the diag integration tests (see diag-itest.h).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbx/db.h"
#include "pbx/device.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "diag-itest.h"
#include "testenv.h"

const char *diag_path(struct diag_env *e, const char *name)
{
	return testenv_site_path(&e->site, name);
}

void diag_env_setup(struct diag_env *e)
{
	struct pbx_tenant_spec spec = { .extensions = "100-199", .name = "Diag Co" };
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char port[16];

	testenv_site_open(&e->site, "diag", true, NULL);
	mkdir(diag_path(e, "cache"), 0700);
	e->ctx = testenv_site_ctx(&e->site, &e->cfg);
	cr_assert(eq(int, pbx_db_migrate_realtime(e->ctx, &err), 0), "%s", err.message);
	snprintf(e->slug, sizeof(e->slug), "%s", testenv_slug("dg"));
	spec.slug = e->slug;
	cr_assert(eq(int, pbx_tenant_create(e->ctx, &spec, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	testenv_emergency_route(e->ctx, e->slug);
	/* the CLI: same peer, directories and cache, through the environment */
	snprintf(port, sizeof(port), "%d", e->site.peer.port);
	setenv("PBXCTL_AMI_PORT", port, 1);
	setenv("PBXCTL_AMI_SECRET", "secret", 1);
	setenv("PBXCTL_AMI_TIMEOUT", "2", 1);
	setenv("PBXCTL_DIAG_CACHE_DIR", e->cfg.cache_dir, 1);
	setenv("PBXCTL_ASTERISK_CONFIG_DIR", e->cfg.config_dir, 1);
	setenv("PBXCTL_ASTERISK_VOICEMAIL_DIR", e->cfg.voicemail_dir, 1);
	setenv("PBXCTL_ASTERISK_BACKUP_DIR", e->cfg.backup_dir, 1);
	setenv("PBXCTL_KEY_FILE", e->cfg.key_file, 1);
}

void diag_env_teardown(struct diag_env *e)
{
	testenv_free(e->ctx, &e->cfg);
	testenv_site_close(&e->site);
}

void diag_add_user(struct diag_env *e, const char *username, int devices)
{
	struct pbx_user_spec u = PBX_USER_SPEC_INIT;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;
	char label[24];

	u.username = username;
	cr_assert(eq(int, pbx_user_create(e->ctx, e->slug, &u, &rows, &err), 0), "%s", err.message);
	pbx_rows_free(&rows);
	for (int i = 0; i < devices; i++) {
		struct pbx_device_spec d = PBX_DEVICE_SPEC_INIT;

		snprintf(label, sizeof(label), "phone %d", i);
		d.label = label;
		cr_assert(eq(int, pbx_device_create(e->ctx, e->slug, username, &d, &rows, &err), 0),
			  "%s", err.message);
		pbx_device_rows_free(&rows);
	}
}

const char *diag_sip_username(struct diag_env *e, const char *user, const char *label)
{
	static char buf[4][64];
	static int k;
	struct pbx_rows rows;
	pbx_error err = PBX_ERROR_INIT;

	k = (k + 1) % 4;
	cr_assert(eq(int, pbx_device_show(e->ctx, e->slug, user, label, false, &rows, &err), 0),
		  "%s", err.message);
	snprintf(buf[k], sizeof(buf[k]), "%s", pbx_rows_get(&rows, 0, "sip_username"));
	pbx_device_rows_free(&rows);
	return buf[k];
}

int diag_run(struct diag_env *e, char **ret_out, char **ret_err, const char *arg, ...)
{
	const char *a[32];
	va_list ap;
	int n = 0;

	(void)e;
	va_start(ap, arg);
	for (const char *s = arg; s && n < 31; s = va_arg(ap, const char *))
		a[n++] = s;
	va_end(ap);
	for (int i = n; i < 32; i++)
		a[i] = NULL;
	return testenv_run(ret_out, ret_err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
			   a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18],
			   a[19], NULL);
}
