/* SPDX-License-Identifier: MIT */
/*
 * Fixtures of the routing generator tests: tenant "acme" with users, trunks and
 * three outbound policies ("local-only", "national", "unrestricted"), the numbers the
 * policy tests dial, and an independent matcher of Asterisk extension patterns.
 */
#ifndef ROUTING_TEST_H
#define ROUTING_TEST_H

#include <stdbool.h>

#include "pbx/dialplan-routes.h"

/* A local, a national, an international and a premium-rate number of the fixtures' plan. */
#define EXT_LOCAL "5551234"
#define EXT_NATIONAL "030123456"
#define EXT_INTERNATIONAL "00441632960000"
#define EXT_PREMIUM "09001234567"

/* The policies, by index: 0 local-only, 1 national, 2 unrestricted. */
extern const struct pbx_dp_policy routing_policies[3];
/* trunk-a (global), acme-trunk b (acme's), beta's trunk c, disabled global trunk d. */
extern const struct pbx_dp_trunk routing_trunks[4];
extern const char *const ext_emergency[3];

/* Tenant acme: alice 1001 (2 devices, national, caller ID), bob 1002 (unrestricted),
 * carol 1003 (tenant default), dave 1004 (suspended). Static storage. */
struct pbx_dp_tenant routing_tenant(void);
extern const char *const routing_user_policies[4];

/* The outbound model of acme with default policy "local-only". */
struct pbx_dp_outbound routing_outbound(void);

/* Whether Asterisk extension @pattern (literal, or "_" with X Z N [..] . !) matches @number. */
bool ext_ast_match(const char *pattern, const char *number);

#endif
