/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/realtime/device.c and rowset.c: a device becomes exactly the rows
 * Asterisk needs, and every field that could break a row or cross a tenant is refused,
 * with the code and field named, before anything is added to the set.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/error.h"
#include "pbx/realtime.h"

static const char *const codecs_ua[] = { "ulaw", "alaw" };

static struct pbx_rt_device base_device(void)
{
	return (struct pbx_rt_device){
		.id = "acme-x7k2p9", .tenant = "acme", .context = "acme-internal",
		.password = "s3cret-Pw", .transport = "udp", .codecs = codecs_ua,
		.n_codecs = 2, .force_rport = true, .rewrite_contact = true,
		.rtp_symmetric = true, .direct_media = false,
		.callerid_name = "Alice Liddell", .callerid_num = "1001",
		.mailboxes = "1001@acme",
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

/* Add @dev, expect @code and @field, and that the set stayed empty. */
static void expect_refused(const struct pbx_rt_device *dev, int code, const char *field)
{
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add_device(set, dev, &err), code));
	cr_assert(eq(int, err.code, code));
	cr_assert(eq(str, err.field, (char *)field), "field %s: %s", err.field, err.message);
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 0));
	pbx_rt_rowset_free(set);
}

Test(device_rows, udp_device_becomes_endpoint_auth_and_aor)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;
	const struct pbx_rt_row *ep;

	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 3));
	ep = pbx_rt_rowset_find(set, "ps_endpoints", "acme-x7k2p9");
	cr_assert(ep != NULL);
	cr_assert(eq(str, ep->owner, "acme"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "transport"), "transport-udp"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "aors"), "acme-x7k2p9"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "auth"), "acme-x7k2p9"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "context"), "acme-internal"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "disallow"), "all"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "allow"), "ulaw,alaw"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "direct_media"), "no"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "force_rport"), "yes"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "rewrite_contact"), "yes"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "rtp_symmetric"), "yes"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "dtmf_mode"), "rfc4733"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "callerid"), "\"Alice Liddell\" <1001>"));
	cr_assert(eq(str, (char *)pbx_rt_row_value(ep, "mailboxes"), "1001@acme"));
	cr_assert(pbx_rt_row_value(ep, "webrtc") == NULL);
	cr_assert(eq(str, (char *)VAL(set, "ps_auths", "acme-x7k2p9", "auth_type"), "userpass"));
	cr_assert(eq(str, (char *)VAL(set, "ps_auths", "acme-x7k2p9", "username"), "acme-x7k2p9"));
	cr_assert(eq(str, (char *)VAL(set, "ps_auths", "acme-x7k2p9", "password"), "s3cret-Pw"));
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-x7k2p9", "max_contacts"), "1"));
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-x7k2p9", "remove_existing"), "yes"));
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-x7k2p9", "qualify_frequency"), "60"));
	/* not qualified in realtime: only a short registration makes a vanished phone expire */
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-x7k2p9", "minimum_expiration"), "30"));
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-x7k2p9", "default_expiration"), "60"));
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-x7k2p9", "maximum_expiration"), "60"));
	pbx_rt_rowset_free(set);
}

Test(device_rows, wss_device_gets_webrtc_and_never_direct_media)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.transport = "wss";
	dev.direct_media = true;
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "transport"), "transport-wss"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "webrtc"), "yes"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "direct_media"), "no"));
	pbx_rt_rowset_free(set);
}

Test(device_rows, tcp_and_tls_transports_are_named_as_in_pjsip_conf)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.transport = "tls";
	dev.direct_media = true;
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "transport"), "transport-tls"));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "direct_media"), "yes"));
	dev.id = "acme-tcp1";
	dev.transport = "tcp";
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "transport"), "transport-tcp"));
	pbx_rt_rowset_free(set);
}

Test(device_rows, refuses_unknown_transport)
{
	struct pbx_rt_device dev = base_device();

	dev.transport = "sctp";
	expect_refused(&dev, PBX_EINVALID, "transport");
	dev.transport = NULL;
	expect_refused(&dev, PBX_EINVALID, "transport");
}

Test(device_rows, hostile_callerid_name_is_cleaned)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.callerid_name = " Al \"Bo\" <evil>;\\ Ca\n\r\tDe\x7f ";
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "callerid"),
		     "\"Al Bo evil Ca De\" <1001>"));
	pbx_rt_rowset_free(set);
}

Test(device_rows, callerid_without_name_or_number)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.callerid_name = "\"\"<>";   /* nothing left after cleaning */
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "callerid"), "<1001>"));
	dev.id = "acme-2";
	dev.callerid_num = NULL;
	dev.callerid_name = NULL;
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	cr_assert(VAL(set, "ps_endpoints", dev.id, "callerid") == NULL);
	pbx_rt_rowset_free(set);
}

Test(device_rows, callerid_length_counts_characters_not_bytes)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;
	char name[128] = "", want[128];

	/* 31 two-byte characters + 2 quotes + " <1001>" = 40 characters, 71 bytes: whole */
	for (int i = 0; i < 31; i++)
		strcat(name, "\xc3\xa9");
	dev.callerid_name = name;
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	snprintf(want, sizeof(want), "\"%s\" <1001>", name);
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "callerid"), want));
	pbx_rt_rowset_free(set);
	/* one more: cut after the 31st character, never inside one */
	strcat(name, "\xc3\xa9");
	set = new_set();
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "callerid"), want));
	pbx_rt_rowset_free(set);
}

/* The 53-character display name: applied, cut to what the column holds. */
Test(device_rows, long_display_name_is_cut_to_fit)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;
	const char *cid;

	dev.callerid_name = "Maximiliane Alexandra von Hohenzollern-Sigmaringen II";
	cr_assert(eq(sz, strlen(dev.callerid_name), 53));
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	cid = VAL(set, "ps_endpoints", dev.id, "callerid");
	cr_assert(eq(str, (char *)cid, "\"Maximiliane Alexandra von Hohen\" <1001>"));
	cr_assert(eq(sz, strlen(cid), 40));
	pbx_rt_rowset_free(set);
	/* a cut that ends on a blank drops it; a multibyte name with quotes stays clean */
	set = new_set();
	dev.callerid_name = "J\xc3\xbcrgen \"Der Gro\xc3\x9f\xc3\xa9\" \\ M\xc3\xbcller-L\xc3\xbc" "denscheid Stra\xc3\x9f";
	dev.callerid_num = "+49301234567890123";
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	cid = VAL(set, "ps_endpoints", dev.id, "callerid");
	cr_assert(eq(str, (char *)cid, "\"J\xc3\xbcrgen Der Gro\xc3\x9f\xc3\xa9\" <+49301234567890123>"),
		  "%s", cid);
	pbx_rt_rowset_free(set);
}

Test(device_rows, refuses_invalid_utf8_and_bad_callerid_number)
{
	struct pbx_rt_device dev = base_device();

	dev.callerid_name = "bad \xc3\x28 name";
	expect_refused(&dev, PBX_EINVALID, "callerid_name");
	dev = base_device();
	dev.callerid_num = "1001;x";
	expect_refused(&dev, PBX_EINVALID, "callerid_num");
}

Test(device_rows, refuses_too_long_context)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.context = "acme-internal-0123456789-0123456789-0123"; /* exactly 40 */
	cr_assert(eq(sz, strlen(dev.context), 40));
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0), "%s", err.message);
	pbx_rt_rowset_free(set);
	dev.context = "acme-internal-0123456789-0123456789-01234";
	expect_refused(&dev, PBX_EINVALID, "context");
}

Test(device_rows, refuses_context_of_another_tenant_or_with_bad_characters)
{
	struct pbx_rt_device dev = base_device();

	dev.context = "globex-internal";
	expect_refused(&dev, PBX_EINVALID, "context");
	dev.context = "acme-internal]\n[evil";
	expect_refused(&dev, PBX_EINVALID, "context");
	dev.context = NULL;
	expect_refused(&dev, PBX_EINVALID, "context");
}

Test(device_rows, refuses_bad_ids_and_tenants)
{
	struct pbx_rt_device dev = base_device();

	dev.id = "globex-1001";
	expect_refused(&dev, PBX_EINVALID, "id");
	dev.id = "acme-Upper";
	expect_refused(&dev, PBX_EINVALID, "id");
	dev.id = "acme-0123456789-0123456789-0123456789-xyz";
	cr_assert(eq(sz, strlen(dev.id), 41));
	expect_refused(&dev, PBX_EINVALID, "id");
	dev.id = "acme";
	expect_refused(&dev, PBX_EINVALID, "id");
	dev = base_device();
	dev.tenant = "@global";
	expect_refused(&dev, PBX_EINVALID, "tenant");
}

Test(device_rows, refuses_bad_passwords)
{
	struct pbx_rt_device dev = base_device();
	char pw[100];

	memset(pw, 'p', 81);
	pw[81] = '\0';
	dev.password = pw;
	expect_refused(&dev, PBX_EINVALID, "password");
	dev.password = "";
	expect_refused(&dev, PBX_EINVALID, "password");
	dev.password = "line\nbreak";
	expect_refused(&dev, PBX_EINVALID, "password");
	dev.password = NULL;
	expect_refused(&dev, PBX_EINVALID, "password");
}

Test(device_rows, password_error_never_shows_the_password)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;
	char pw[100];

	memset(pw, 'q', 90);
	pw[90] = '\0';
	dev.password = pw;
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), PBX_EINVALID));
	cr_assert(strstr(err.message, "qqqq") == NULL, "%s", err.message);
	pbx_rt_rowset_free(set);
}

Test(device_rows, codecs_are_joined_in_order)
{
	static const char *const codecs[] = { "opus", "g722", "ulaw", "alaw", "gsm", "g729" };
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.codecs = codecs;
	dev.n_codecs = 6;
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	cr_assert(eq(str, (char *)VAL(set, "ps_endpoints", dev.id, "allow"),
		     "opus,g722,ulaw,alaw,gsm,g729"));
	pbx_rt_rowset_free(set);
}

Test(device_rows, refuses_unknown_repeated_or_no_codecs)
{
	static const char *const unknown[] = { "ulaw", "speex" };
	static const char *const twice[] = { "ulaw", "alaw", "ulaw" };
	struct pbx_rt_device dev = base_device();

	dev.codecs = unknown;
	dev.n_codecs = 2;
	expect_refused(&dev, PBX_EINVALID, "codecs");
	dev.codecs = twice;
	dev.n_codecs = 3;
	expect_refused(&dev, PBX_EINVALID, "codecs");
	dev.n_codecs = 0;
	expect_refused(&dev, PBX_EINVALID, "codecs");
}

Test(device_rows, refuses_mailbox_of_another_tenant)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	dev.mailboxes = "1001@acme-vm";
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	pbx_rt_rowset_free(set);
	dev.mailboxes = "1001@globex";
	expect_refused(&dev, PBX_EINVALID, "mailboxes");
	dev.mailboxes = "1001@acme,2000@globex";
	expect_refused(&dev, PBX_EINVALID, "mailboxes");
	dev.mailboxes = "@acme";
	expect_refused(&dev, PBX_EINVALID, "mailboxes");
}

Test(device_rows, refuses_the_same_device_twice)
{
	struct pbx_rt_device dev = base_device();
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add_device(set, &dev, &err), PBX_ECONFLICT));
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 3));
	pbx_rt_rowset_free(set);
}

Test(rowset, generic_row_is_checked_against_its_columns)
{
	static const char *const cols[] = { "max_contacts", "remove_existing" };
	const char *good[] = { "5", "no" };
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "acme-aor", "acme", cols, good, 2,
					    &err), 0), "%s", err.message);
	cr_assert(eq(str, (char *)VAL(set, "ps_aors", "acme-aor", "max_contacts"), "5"));
	cr_assert(VAL(set, "ps_aors", "acme-aor", "qualify_frequency") == NULL);
	pbx_rt_rowset_free(set);
}

Test(rowset, refuses_values_their_columns_cannot_hold)
{
	static const char *const aor_cols[] = { "max_contacts", "remove_existing" };
	static const char *const ep_cols[] = { "context" };
	static const char *const bad_col[] = { "outbound_proxy" };
	const char *not_int[] = { "5x", "no" };
	const char *not_enum[] = { "5", "maybe" };
	const char *too_long[] = { "a-context-name-that-is-longer-than-forty-chars" };
	const char *ok[] = { "x" };
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "a", "acme", aor_cols, not_int, 2,
					    &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "max_contacts"));
	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "a", "acme", aor_cols, not_enum, 2,
					    &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "remove_existing"));
	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_endpoints", "a", "acme", ep_cols, too_long,
					    1, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "context"));
	cr_assert(strstr(err.message, "at most 40") != NULL, "%s", err.message);
	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "a", "acme", bad_col, ok, 1, &err),
		     PBX_EINVALID));
	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_contacts", "a", "acme", NULL, NULL, 0,
					    &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "a", "Not A Slug", NULL, NULL, 0,
					    &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "owner"));
	cr_assert(eq(sz, pbx_rt_rowset_count(set), 0));
	pbx_rt_rowset_free(set);
}

Test(rowset, global_owner_is_accepted)
{
	pbx_rt_rowset *set = new_set();
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "trunk-x", PBX_RT_OWNER_GLOBAL, NULL,
					    NULL, 0, &err), 0));
	cr_assert(eq(int, pbx_rt_rowset_add(set, "ps_aors", "trunk-x", PBX_RT_OWNER_GLOBAL, NULL,
					    NULL, 0, &err), PBX_ECONFLICT));
	pbx_rt_rowset_free(set);
}
