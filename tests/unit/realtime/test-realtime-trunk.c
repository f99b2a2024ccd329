/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/realtime/trunk.c: a registration trunk becomes an endpoint, an AOR, an
 * auth and an outbound registration with line support; a trunk identified by address an
 * endpoint, an AOR and one ps_endpoint_id_ips row per address; every value checked, and
 * nothing added when a field is refused.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"
#include "pbx/trunk.h"

static const char *const codecs_ag[] = { "alaw", "g722" };
static const char *const addrs[] = { "203.0.113.10", "2001:db8::/32" };

static struct pbx_rt_trunk reg_trunk(void)
{
	return (struct pbx_rt_trunk){
		.id = "acme-trunk-carrier", .owner = "acme", .context = "pbxctl-inbound",
		.host = "sip.carrier.example", .port = 5080, .transport = "tcp",
		.codecs = codecs_ag, .n_codecs = 2, .registration = true,
		.username = "acct42", .password = "s3cret",
	};
}

static struct pbx_rt_trunk ip_trunk(void)
{
	return (struct pbx_rt_trunk){
		.id = "trunk-pbx", .context = "pbxctl-inbound", .host = "2001:db8::10", .port = 5060,
		.transport = "udp", .codecs = codecs_ag, .n_codecs = 1, .match = addrs, .n_match = 2,
	};
}

static pbx_rt_rowset *new_set(void)
{
	pbx_rt_rowset *set = NULL;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_new(&set, &err), 0));
	return set;
}

#define VAL(set, table, id, col) \
	pbx_rt_row_value(pbx_rt_rowset_find((set), (table), (id)), (col))

static void expect_refused(const struct pbx_rt_trunk *t, const char *field)
{
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add_trunk(set, t, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, (char *)field), "field %s: %s", err.field, err.message);
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 0), "nothing is added");
	pbx_rt_rowset_free(set);
}

Test(trunk_rows, registration_trunk_becomes_endpoint_aor_auth_and_registration)
{
	struct pbx_rt_trunk t = reg_trunk();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;
	const char *id = t.id;

	cr_assert(eq(int, pbx_rt_rowset_add_trunk(set, &t, &err), 0), "%s", err.message);
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 4));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "transport"), "transport-tcp"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "context"), "pbxctl-inbound"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "allow"), "alaw,g722"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "disallow"), "all"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "outbound_auth"), (char *)id));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "from_user"), "acct42"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", id, "from_domain"), "sip.carrier.example"));
	cr_assert_null(VAL(set, "ps_endpoints", id, "auth"), "the provider does not authenticate to us");
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", id, "contact"), "sip:sip.carrier.example:5080"));
	cr_assert(eq(str, (char *)VAL(set, "ps_auths", id, "auth_type"), "userpass"));
	cr_assert(eq(str, (char *)VAL(set, "ps_auths", id, "username"), "acct42"));
	cr_assert(eq(str, (char *)VAL(set, "ps_auths", id, "password"), "s3cret"));
	cr_assert(eq(str, (char *)VAL(set, "ps_registrations", id, "server_uri"),
		     "sip:sip.carrier.example:5080"));
	cr_assert(eq(str, (char *)VAL(set, "ps_registrations", id, "client_uri"),
		     "sip:acct42@sip.carrier.example:5080"));
	cr_assert(eq(str, (char *)VAL(set, "ps_registrations", id, "line"), "yes"));
	cr_assert(eq(str, (char *)VAL(set, "ps_registrations", id, "endpoint"), (char *)id));
	cr_assert(eq(str, (char *)VAL(set, "ps_registrations", id, "outbound_auth"), (char *)id));
	cr_assert(eq(str, (char *)pbx_rt_rowset_find(set, "ps_registrations", id)->owner, "acme"));
	pbx_rt_rowset_free(set);
}

Test(trunk_rows, ip_trunk_gets_one_identify_row_per_address_and_is_global)
{
	struct pbx_rt_trunk t = ip_trunk();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add_trunk(set, &t, &err), 0), "%s", err.message);
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 4));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", "trunk-pbx", "identify_by"), "ip"));
	cr_assert_null(VAL(set, "ps_endpoints", "trunk-pbx", "outbound_auth"));
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "trunk-pbx", "contact"), "sip:[2001:db8::10]:5060"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoint_id_ips", "trunk-pbx-1", "match"), "203.0.113.10"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoint_id_ips", "trunk-pbx-2", "match"), "2001:db8::/32"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoint_id_ips", "trunk-pbx-2", "endpoint"), "trunk-pbx"));
	cr_assert(eq(str, (char *)pbx_rt_rowset_find(set, "ps_endpoints", "trunk-pbx")->owner,
		     PBX_RT_OWNER_GLOBAL));
	cr_assert_null(pbx_rt_rowset_find(set, "ps_auths", "trunk-pbx"));
	cr_assert_null(pbx_rt_rowset_find(set, "ps_registrations", "trunk-pbx"));
	pbx_rt_rowset_free(set);
}

Test(trunk_rows, refuses_what_could_break_a_row_or_cross_a_tenant)
{
	static const char *const bad_addr[] = { "203.0.113.10;evil" };
	static const char *const dup_codecs[] = { "alaw", "alaw" };
	struct pbx_rt_trunk t = reg_trunk();

	t.id = "beta-trunk-carrier";
	expect_refused(&t, "id");
	t = reg_trunk();
	t.id = "acme-trunk-a-name-that-is-far-too-long-for-the-column";
	expect_refused(&t, "id");
	t = ip_trunk();
	t.id = "acme-trunk-x";
	expect_refused(&t, "id");
	t = reg_trunk();
	t.host = "sip.example.net\r\nVia: x";
	expect_refused(&t, "host");
	t = reg_trunk();
	t.username = "user name";
	expect_refused(&t, "username");
	t = reg_trunk();
	t.password = NULL;
	expect_refused(&t, "password");
	t = reg_trunk();
	t.transport = "wss";
	expect_refused(&t, "transport");
	t = reg_trunk();
	t.codecs = dup_codecs;
	expect_refused(&t, "codecs");
	t = ip_trunk();
	t.match = bad_addr;
	t.n_match = 1;
	expect_refused(&t, "match");
	t = ip_trunk();
	t.n_match = 0;
	expect_refused(&t, "match");
	t = reg_trunk();
	t.port = 0;
	expect_refused(&t, "port");
}

Test(trunk_rows, the_same_trunk_twice_is_a_conflict)
{
	struct pbx_rt_trunk t = reg_trunk();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add_trunk(set, &t, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add_trunk(set, &t, &err), PBX_ECONFLICT));
	pbx_rt_rowset_free(set);
}

/* Anything trunk create accepts fits the columns: the longest host and user name. */
Test(trunk_rows, longest_accepted_host_and_username_fit_every_column)
{
	struct pbx_rt_trunk t = reg_trunk();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;
	char host[PBX_TRUNK_HOST_MAX + 2];

	memset(host, 'a', sizeof(host));
	host[63] = host[127] = host[191] = '.';
	host[PBX_TRUNK_HOST_MAX] = '\0';
	t.host = host;
	t.port = 65535;
	t.username = "u234567890123456789012345678901234567890";
	cr_assert(eq(sz, strlen(t.username), 40));
	cr_assert(eq(int, pbx_rt_rowset_add_trunk(set, &t, &err), 0), "%s", err.message);
	pbx_rt_rowset_free(set);
	/* one character more is refused, as trunk create refuses it */
	host[PBX_TRUNK_HOST_MAX] = 'a';
	host[PBX_TRUNK_HOST_MAX + 1] = '\0';
	expect_refused(&t, "host");
	cr_assert(eq(int, pbx_trunk_check_host("trunk x", host, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "host"));
}
