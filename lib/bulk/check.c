/* SPDX-License-Identifier: MIT */
/*
 * The checks of an import file that need no database: each field against the same rule
 * the CLI applies (the lib check functions, so the messages are the same), required keys,
 * duplicates of natural keys (slug, username in a tenant, label of a user, extensions in a
 * tenant), extensions and call forwards against the file's own range, and the number of
 * devices per user. Values are normalised on the way ("" of an optional field is null, a
 * range is rewritten as MIN-MAX) so that plan compares like with like.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/device.h"
#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/secret.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "pbx/valid.h"
#include "bulk-internal.h"

static const char *const nullable_tenant[] = { "default_inbound", "default_policy",
					       "emergency_trunk", "emergency_callerid", NULL };
static const char *const nullable_user[] = { "email", "extension", "outbound_callerid",
					     "forward_to", "policy", NULL };
static const char *const nullable_device[] = { "user", NULL };
static const char *const nullable_did[] = { "tenant", "label", "provider", "destination", NULL };
static const char *const nullable_trunk[] = { "tenant", "username", "callerid", NULL };
static const char *const nullable_policy[] = { "description", NULL };
static const char *const nullable_rule[] = { "prepend", NULL };

bool bulk_nullable(const struct pbx_schema *schema, const char *key)
{
	const char *const *list = schema == &pbx_schema_tenant ? nullable_tenant :
				  schema == &pbx_schema_user ? nullable_user :
				  schema == &pbx_schema_device ? nullable_device :
				  schema == &pbx_schema_did ? nullable_did :
				  schema == &pbx_schema_trunk ? nullable_trunk :
				  schema == &pbx_schema_policy ? nullable_policy : nullable_rule;

	for (; *list; list++)
		if (!strcmp(*list, key))
			return true;
	return false;
}

/* Checking one object: where it is, for messages. */
struct at {
	struct bulk_report *rep;
	struct bulk_arena *arena;
	struct bulk_obj *o;
	size_t ti, ui, di;
};

static void path_of(const struct at *a, const char *key, char *buf, size_t n)
{
	bulk_path(buf, n, a->ti, a->ui, a->di, key);
}

/* The value of @key when given and not refused while reading; NULL otherwise. */
static const char *value(const struct at *a, const char *key)
{
	return bulk_get(a->o, key);
}

static void problem(const struct at *a, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(const struct at *a, const char *key, const char *fmt, ...)
{
	char path[160], msg[PBX_ERR_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	path_of(a, key, path, sizeof(path));
	bulk_problem(a->rep, PBX_EINVALID, key ? bulk_vpos(a->o, key) : a->o->pos, path, "%s", msg);
}

/* Report the error a lib field check filled. */
static void lib_problem(const struct at *a, const char *key, const pbx_error *e)
{
	char path[160];

	path_of(a, key, path, sizeof(path));
	bulk_problem_err(a->rep, bulk_vpos(a->o, key), path, e);
}

static void required(const struct at *a, const char *key, const char *what)
{
	int i = pbx_schema_index(a->o->schema, key);

	if (!bulk_has(a->o, i) && !(a->o->bad & (1u << i)))
		problem(a, NULL, "%s is required (%s)", key, what);
}

/* "" of an optional field means null. */
static void empty_is_null(const struct at *a, const char *key)
{
	int i = pbx_schema_index(a->o->schema, key);

	if (bulk_has(a->o, i) && a->o->val[i] && !a->o->val[i][0])
		a->o->val[i] = NULL;
}

static void set_value(const struct at *a, const char *key, const char *v)
{
	int i = pbx_schema_index(a->o->schema, key);

	if (i >= 0 && a->o->val)
		a->o->val[i] = v;
}

static void check_status(const struct at *a, bool user)
{
	const char *s = value(a, "status");

	if (!s || !strcmp(s, "active") || !strcmp(s, "suspended"))
		return;
	if (user && !strcmp(s, "deleted"))
		problem(a, "status", "status deleted cannot be imported; leave the user out of the "
			"file and import with --prune to delete it");
	else
		problem(a, "status", "status must be active or suspended");
}

static void check_policy(const struct at *a, const char *key)
{
	pbx_error e = PBX_ERROR_INIT;
	char path[160];

	/* The syntax of the name; that the tenant has the policy is checked by the plan. */
	empty_is_null(a, key);
	path_of(a, key, path, sizeof(path));
	if (value(a, key) && pbx_policy_check_name(path, value(a, key), &e) < 0)
		lib_problem(a, key, &e);
}

static void check_tenant(struct at *a, struct bulk_tenant *t)
{
	const char *v;
	pbx_error e = PBX_ERROR_INIT;
	char path[160];

	required(a, "slug", "the tenant's short name");
	if ((v = value(a, "slug")) && pbx_tenant_check_slug(v, &e) < 0)
		lib_problem(a, "slug", &e);
	if ((v = value(a, "name")) && !pbx_valid_text(v, 128))
		problem(a, "name", "name must be 1 to 128 characters without control characters");
	check_status(a, false);
	if ((v = value(a, "extensions"))) {
		int lo, hi;

		path_of(a, "extensions", path, sizeof(path));
		if (pbx_tenant_parse_range(path, v, &lo, &hi, &e) < 0) {
			lib_problem(a, "extensions", &e);
		} else {
			t->ext_min = lo;
			t->ext_max = hi;
			set_value(a, "extensions", bulk_printf(a->arena, "%d-%d", lo, hi));
		}
	}
	empty_is_null(a, "default_inbound");
	if ((v = value(a, "default_inbound")) && !pbx_valid_destination(v))
		problem(a, "default_inbound", "default inbound \"%s\" must be user:USERNAME, ext:NNNN, "
			"voicemail:USERNAME or external:+E164", v);
	check_policy(a, "default_policy");
	/* As `tenant update --emergency-trunk/--emergency-callerid`; the trunk's existence is
	 * checked by the plan. */
	empty_is_null(a, "emergency_trunk");
	path_of(a, "emergency_trunk", path, sizeof(path));
	if ((v = value(a, "emergency_trunk")) && pbx_trunk_check_name(path, v, &e) < 0)
		lib_problem(a, "emergency_trunk", &e);
	empty_is_null(a, "emergency_callerid");
	if ((v = value(a, "emergency_callerid")) && !pbx_valid_callerid(v))
		problem(a, "emergency_callerid", "emergency caller ID \"%.24s\" must be 2 to 20 "
			"digits, optionally after a +", v);
}

static void check_user(struct at *a, struct bulk_tenant *t, struct bulk_user *u)
{
	const char *v, *ext = value(a, "extension");
	char path[160];
	pbx_error e = PBX_ERROR_INIT;

	path_of(a, NULL, path, sizeof(path));
	required(a, "username", "unique in the tenant");
	if ((v = value(a, "username")) && pbx_user_check_username(path, v, &e) < 0)
		lib_problem(a, "username", &e);
	if ((v = value(a, "name")) && !pbx_valid_text(v, 128))
		problem(a, "name", "name must be 1 to 128 characters without control characters");
	empty_is_null(a, "email");
	if ((v = value(a, "email")) && !pbx_valid_email(v))
		problem(a, "email", "email \"%s\" is not an address like name@example.com", v);
	if (ext && !pbx_valid_extension(ext)) {
		problem(a, "extension", "extension \"%s\" must be 2 to 8 digits without a leading zero",
			ext);
		ext = NULL;
	} else if (ext && t->ext_max && (atol(ext) < t->ext_min || atol(ext) > t->ext_max)) {
		const char *slug = bulk_get(&t->o, "slug");

		problem(a, "extension", "%s is outside %s's range %d-%d", ext,
			slug ? slug : "the tenant", t->ext_min, t->ext_max);
	}
	check_status(a, true);
	empty_is_null(a, "outbound_callerid");
	if ((v = value(a, "outbound_callerid")) && pbx_user_check_callerid(path, v, &e) < 0)
		lib_problem(a, "outbound_callerid", &e);
	empty_is_null(a, "forward_to");
	if ((v = value(a, "forward_to"))) {
		if (!pbx_valid_e164(v) && !pbx_valid_extension(v))
			problem(a, "forward_to", "forward destination \"%s\" must be an extension of "
				"the tenant or +E164", v);
		else if (ext && !strcmp(v, ext))
			problem(a, "forward_to", "a user cannot forward to its own extension %s", ext);
	}
	check_policy(a, "policy");
	if (u->pin && *u->pin && pbx_secret_pin_check(u->pin, ext, &e) < 0) {
		path_of(a, "pin", path, sizeof(path));
		bulk_problem_err(a->rep, u->pin_pos, path, &e);
	}
	if (u->n_devices > PBX_DEVICE_MAX_PER_USER)
		problem(a, NULL, "%zu devices are listed; a user has at most %d", u->n_devices,
			PBX_DEVICE_MAX_PER_USER);
}

static void check_device(struct at *a, const struct bulk_user *u)
{
	const char *v, *owner = bulk_get(&u->o, "username");
	char path[160];
	pbx_error e = PBX_ERROR_INIT;

	path_of(a, NULL, path, sizeof(path));
	required(a, "label", "unique for the user, e.g. desk");
	if ((v = value(a, "label")) && pbx_device_check_label(path, v, &e) < 0)
		lib_problem(a, "label", &e);
	if ((v = value(a, "transport")) && pbx_device_check_transport(path, v, &e) < 0)
		lib_problem(a, "transport", &e);
	if ((v = value(a, "codecs")) && pbx_device_check_codecs(path, v, &e) < 0)
		lib_problem(a, "codecs", &e);
	if ((v = value(a, "user")) && owner && strcmp(v, owner))
		problem(a, "user", "user \"%s\" is not the user this device is listed under (%s); "
			"devices move by listing them under their new user", v, owner);
}

/* Duplicates of a natural key: @map holds the first index of each value in @list. */
static void duplicate(const struct at *a, struct bulk_map *map, const char *key, size_t index,
		      const char *what, const char *list)
{
	const char *v = value(a, key);
	char where[128];
	size_t first;

	if (!v)
		return;
	first = bulk_map_get(map, v);
	if (first == SIZE_MAX) {
		if (bulk_map_put(map, v, index) < 0)
			a->rep->oom = true;
		return;
	}
	snprintf(where, sizeof(where), "%s[%zu]", list, first);
	problem(a, key, "%s %s is listed twice; first as %s", what, v, where);
}

void bulk_check_doc(struct pbx_bulk_doc *doc, struct bulk_report *rep)
{
	struct bulk_map slugs = { .n = 0 };

	for (size_t ti = 0; ti < doc->n_tenants; ti++) {
		struct bulk_tenant *t = &doc->tenants[ti];
		struct at a = { .rep = rep, .arena = &doc->arena, .o = &t->o, .ti = ti,
				.ui = SIZE_MAX, .di = SIZE_MAX };
		struct bulk_map names = { .n = 0 }, exts = { .n = 0 };
		char list[80];

		if (t->o.broken)
			continue;
		check_tenant(&a, t);
		duplicate(&a, &slugs, "slug", ti, "tenant", "tenants");
		for (size_t ui = 0; ui < t->n_users; ui++) {
			struct bulk_user *u = &t->users[ui];
			struct at b = { .rep = rep, .arena = &doc->arena, .o = &u->o, .ti = ti,
					.ui = ui, .di = SIZE_MAX };
			struct bulk_map labels = { .n = 0 };

			if (u->o.broken)
				continue;
			check_user(&b, t, u);
			snprintf(list, sizeof(list), "tenants[%zu].users", ti);
			duplicate(&b, &names, "username", ui, "username", list);
			if (bulk_get(&u->o, "extension") && pbx_valid_extension(bulk_get(&u->o, "extension")))
				duplicate(&b, &exts, "extension", ui, "extension", list);
			for (size_t di = 0; di < u->n_devices; di++) {
				struct at c = { .rep = rep, .arena = &doc->arena,
						.o = &u->devices[di].o, .ti = ti, .ui = ui, .di = di };

				if (c.o->broken)
					continue;
				check_device(&c, u);
				snprintf(list, sizeof(list), "tenants[%zu].users[%zu].devices", ti, ui);
				duplicate(&c, &labels, "label", di, "label", list);
			}
			bulk_map_free(&labels);
		}
		bulk_map_free(&names);
		bulk_map_free(&exts);
	}
	bulk_map_free(&slugs);
}
