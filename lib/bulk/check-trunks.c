/* SPDX-License-Identifier: MIT */
/*
 * The checks that need no database of one trunk of an import file, a tenant's own or a
 * global one (check-routing.c runs them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/trunk.h"
#include "pbx/valid.h"
#include "bulk-internal.h"

void bulk_check_trunk(struct bulk_ex *x, const struct bulk_trunk *k, const char *slug)
{
	static const char *const transports[] = { "udp", "tcp", "tls", NULL };
	static const char *const auths[] = { "registration", "ip_auth", NULL };
	static const char *const modes[] = { "pass", "force", NULL };
	pbx_error e = PBX_ERROR_INIT;
	char path[160], ep[64];
	const char *v;

	bulk_ex_where(x, NULL, path, sizeof(path));
	bulk_ex_required(x, "name", "unique across tenants and global trunks");
	if ((v = bulk_ex_value(x, "name"))) {
		if (pbx_trunk_check_name(path, v, &e) < 0)
			bulk_ex_lib_problem(x, "name", &e);
		else if (pbx_trunk_endpoint(slug, v, ep, sizeof(ep), &e) < 0)
			bulk_ex_lib_problem(x, "name", &e);
	}
	bulk_ex_owner(x, slug);
	if ((v = bulk_ex_value(x, "host")) && pbx_trunk_check_host(path, v, &e) < 0)
		bulk_ex_lib_problem(x, "host", &e);
	if ((v = bulk_ex_value(x, "port")) && (strlen(v) > 5 || atol(v) < 1 || atol(v) > 65535))
		bulk_ex_problem(x, "port", "port must be 1 to 65535");
	bulk_ex_one_of(x, "transport", transports, "udp, tcp or tls");
	bulk_ex_one_of(x, "auth", auths, "registration or ip_auth");
	bulk_ex_text(x, "username", 40);
	if (k->secret && *k->secret && (strlen(k->secret) > PBX_TRUNK_SECRET_MAX ||
					!pbx_valid_text(k->secret, PBX_TRUNK_SECRET_MAX)))
		bulk_problem(x->rep, PBX_EINVALID, k->secret_pos, path,
			     "secret must be 1 to 80 printable characters");
	if ((v = bulk_ex_value(x, "match"))) {
		size_t n = 0;

		for (const char *p = v; *p; n++) {
			size_t len = strcspn(p, ",");
			char one[64];

			snprintf(one, sizeof(one), "%.*s", (int)(len < 63 ? len : 63), p);
			if (pbx_trunk_check_match(path, one, &e) < 0) {
				bulk_ex_lib_problem(x, "match", &e);
				break;
			}
			p += len + (p[len] == ',');
		}
		if (n > PBX_TRUNK_MATCH_MAX)
			bulk_ex_problem(x, "match", "match lists at most %d addresses", PBX_TRUNK_MATCH_MAX);
	}
	if ((v = bulk_ex_value(x, "codecs")) && pbx_device_check_codecs(path, v, &e) < 0)
		bulk_ex_lib_problem(x, "codecs", &e);
	bulk_ex_one_of(x, "callerid_mode", modes, "pass or force");
	bulk_ex_empty_is_null(x, "callerid");
	if ((v = bulk_ex_value(x, "callerid"))) {
		size_t n = strlen(v), d = strspn(v + (v[0] == '+'), "0123456789");

		if (d != n - (v[0] == '+') || d < 2 || d > 20)
			bulk_ex_problem(x, "callerid", "callerid \"%s\" must be 2 to 20 digits, optionally after +", v);
	}
}
