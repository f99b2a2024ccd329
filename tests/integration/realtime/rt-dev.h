/* SPDX-License-Identifier: MIT */
/*
 * Test devices for the realtime integration tests: a device of a per-test tenant, with its
 * strings held next to it, and plan-then-sync in one call.
 */
#ifndef RT_DEV_H
#define RT_DEV_H

#include <stdio.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

struct tdev {
	char id[128], ctx[128], mbox[128], pw[128];
	struct pbx_rt_device d;
};

static const char *const rt_codecs_u[] = { "ulaw" };
static const char *const rt_codecs_ua[] = { "ulaw", "alaw" };

/* Device "<slug>-<ext>" of tenant @slug; do not copy a tdev (d points into it). */
static inline void tdev_init(struct tdev *t, const char *slug, const char *ext)
{
	snprintf(t->id, sizeof(t->id), "%s-%s", slug, ext);
	snprintf(t->ctx, sizeof(t->ctx), "%s-internal", slug);
	snprintf(t->mbox, sizeof(t->mbox), "%s@%s", ext, slug);
	snprintf(t->pw, sizeof(t->pw), "pw-%s-secret", ext);
	t->d = (struct pbx_rt_device){
		.id = t->id, .tenant = slug, .context = t->ctx, .password = t->pw,
		.transport = "udp", .codecs = rt_codecs_u, .n_codecs = 1,
		.force_rport = true, .rewrite_contact = true, .rtp_symmetric = true,
		.callerid_name = "Test User", .callerid_num = ext,
	};
}

/* Plan @n devices of @tenant and sync; returns the number of changes applied. */
static inline size_t plan_and_sync(pbx_realtime *rt, const char *tenant, struct tdev **devs,
				   size_t n)
{
	struct pbx_rt_device d[16];
	struct pbx_rt_plan *plan = NULL;
	pbx_error err = PBX_ERROR_INIT;
	size_t changes;

	cr_assert(n <= 16);
	for (size_t i = 0; i < n; i++)
		d[i] = devs[i]->d;
	cr_assert(eq(int, pbx_realtime_plan(rt, tenant, d, n, &plan, &err), 0), "plan: %s",
		  err.message);
	cr_assert(eq(int, pbx_realtime_sync(rt, plan, &err), 0), "sync: %s (%s)", err.message,
		  err.detail);
	changes = plan->n_changes;
	pbx_rt_plan_free(plan);
	return changes;
}

#endif
