/* SPDX-License-Identifier: MIT */
/*
 * Fixtures of the routing tests (routing-test.h).
 */
#include <string.h>

#include "routing-test.h"

static const char *const t_a[] = { "trunk-a" };
static const char *const t_ba[] = { "b", "trunk-a" };
static const char *const t_ab[] = { "trunk-a", "b" };

#define EMERGENCY { .pattern = "^(112|911|999)$", .allow = true, .trunks = t_a, .n_trunks = 1 }
#define LOCAL { .pattern = "^[2-9][0-9]{6}$", .allow = true, .trunks = t_a, .n_trunks = 1 }

static const struct pbx_policy_rule local_only[] = { EMERGENCY, LOCAL };

static const struct pbx_policy_rule national[] = {
	EMERGENCY,
	{ .pattern = "^0900[0-9]*$", .allow = false },
	{ .pattern = "^0[1-9][0-9]{6,10}$", .allow = true, .strip = 1, .prepend = "+49",
	  .trunks = t_ba, .n_trunks = 2 },
	LOCAL,
};

static const struct pbx_policy_rule unrestricted[] = {
	EMERGENCY,
	{ .pattern = "^00[1-9][0-9]+$", .allow = true, .strip = 2, .prepend = "+",
	  .trunks = t_ab, .n_trunks = 2 },
	{ .pattern = "^0[1-9][0-9]+$", .allow = true, .strip = 1, .prepend = "+49",
	  .trunks = t_ba, .n_trunks = 2 },
	/* E.164 of up to 15 digits: too many lengths for patterns, tested with REGEX() */
	{ .pattern = "^[+][1-9][0-9]{1,14}$", .allow = true, .trunks = t_a, .n_trunks = 1 },
	LOCAL,
};

const struct pbx_dp_policy routing_policies[3] = {
	{ .id = 7, .name = "local-only", .rules = local_only, .n_rules = 2 },
	{ .id = 8, .name = "national", .rules = national, .n_rules = 4 },
	{ .id = 9, .name = "unrestricted", .rules = unrestricted, .n_rules = 5 },
};

const struct pbx_dp_trunk routing_trunks[4] = {
	{ .name = "trunk-a", .endpoint = "trunk-trunk-a", .enabled = true },
	{ .name = "b", .owner = "acme", .endpoint = "acme-trunk-b", .enabled = true,
	  .force_callerid = true, .callerid = "+4930999000" },
	{ .name = "c", .owner = "beta", .endpoint = "beta-trunk-c", .enabled = true },
	{ .name = "d", .endpoint = "trunk-d", .enabled = false },
};

const char *const ext_emergency[3] = { "911", "112", "999" };

static const char *const ep_alice[] = { "acme-p8w2m4x9c7de", "acme-k3f9x2q7m1ab" };
static const char *const ep_bob[] = { "acme-b0b0desk0001" };
static const char *const ep_carol[] = { "acme-c4r0l0000001" };
static const char *const ep_dave[] = { "acme-d4ve00000001" };

static const struct pbx_dp_user users[] = {
	{ .username = "alice", .display_name = "Alice Smith", .extension = "1001",
	  .voicemail = true, .callerid_num = "+4930123456", .endpoints = ep_alice,
	  .n_endpoints = 2, .active = true },
	{ .username = "bob", .display_name = "Bob", .extension = "1002", .endpoints = ep_bob,
	  .n_endpoints = 1, .active = true },
	{ .username = "carol", .display_name = "Carol", .extension = "1003", .voicemail = true,
	  .endpoints = ep_carol, .n_endpoints = 1, .active = true },
	{ .username = "dave", .extension = "1004", .endpoints = ep_dave, .n_endpoints = 1,
	  .active = false },
};

const char *const routing_user_policies[4] = { "national", "unrestricted", NULL, "unrestricted" };

struct pbx_dp_tenant routing_tenant(void)
{
	return (struct pbx_dp_tenant){ .slug = "acme", .display_name = "Acme Corp",
				       .users = users, .n_users = 4, .job_id = "job-0001",
				       .outbound = true };
}

struct pbx_dp_outbound routing_outbound(void)
{
	static struct pbx_dp_tenant t;

	t = routing_tenant();
	return (struct pbx_dp_outbound){
		.tenant = &t, .user_policies = routing_user_policies, .default_policy = "local-only",
		.policies = routing_policies, .n_policies = 3, .trunks = routing_trunks, .n_trunks = 4,
		.emergency = ext_emergency, .n_emergency = 3,
	};
}

static bool class_match(char p, char c)
{
	switch (p) {
	case 'X': return c >= '0' && c <= '9';
	case 'Z': return c >= '1' && c <= '9';
	case 'N': return c >= '2' && c <= '9';
	default: return p == c;
	}
}

bool ext_ast_match(const char *pattern, const char *number)
{
	const char *p = pattern, *n = number;

	if (*p != '_')
		return !strcmp(pattern, number);
	for (p++; *p; p++, n++) {
		if (*p == '.')
			return *n != '\0';
		if (*p == '!')
			return true;
		if (*p == '[') {
			const char *end = strchr(p, ']');
			bool hit = false;

			for (const char *q = p + 1; q < end; q++)
				if (q[1] == '-' && q + 2 < end) {
					hit = hit || (*n >= q[0] && *n <= q[2]);
					q += 2;
				} else {
					hit = hit || *n == *q;
				}
			if (!*n || !hit)
				return false;
			p = end;
			continue;
		}
		if (!*n || !class_match(*p, *n))
			return false;
	}
	return *n == '\0';
}
