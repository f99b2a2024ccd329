/* SPDX-License-Identifier: MIT */
/*
 * The grammar of an import file, over the guarded reader (reader.c): a mapping with
 * "version", "tenants" and "trunks" (global ones); a tenant with its fields and the lists
 * "users", "dids", "trunks" and "policies"; a user with "devices"; a policy with "rules".
 * Each object is read straight into the parsed file (no document tree), then bulk_check_doc
 * applies the field rules to whatever was read, so one run lists every problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/device.h"
#include "pbx/did.h"
#include "pbx/policy.h"
#include "pbx/tenant.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "reader.h"

/* Start an object of @schema at the next event: pushed on @vec, counted, set up. */
static void *new_obj(struct reader *r, void **vec, size_t *n, size_t *cap, size_t size,
		     const struct pbx_schema *schema)
{
	yaml_event_t *ev = reader_peek(r);
	struct bulk_obj *o;

	if (!ev || !reader_one_more(r, reader_pos(&ev->start_mark)))
		return NULL;
	/* The struct of every object starts with its struct bulk_obj. */
	if (!(o = reader_push(vec, n, cap, size))) {
		r->oom = true;
		reader_fatal(r, reader_pos(&ev->start_mark), "out of memory");
		return NULL;
	}
	if (reader_obj_init(r, o, schema, reader_pos(&ev->start_mark)) < 0)
		return NULL;
	return o;
}

/* A list key given twice: reported, its value skipped. Returns true when so. */
static bool twice(struct reader *r, bool *given, struct bulk_pos pos, const char *path,
		  const char *key, int *ret)
{
	if (!*given) {
		*given = true;
		return false;
	}
	bulk_problem(r->rep, PBX_EINVALID, pos, path, "%s is given twice", key);
	*ret = reader_skip(r);
	return true;
}

/* A write-only value: @ret gets it ("" for null), @ret_pos its place. */
static int write_only(struct reader *r, const char *key, const char **ret,
		      struct bulk_pos *ret_pos, struct bulk_pos pos, const char *path)
{
	const char *v;
	int k;

	if (*ret) {
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "%s is given twice", key);
		return reader_skip(r);
	}
	k = reader_scalar(r, path, &v, ret_pos);
	if (k == 1)
		*ret = v ? v : "";
	return k < 0 ? -1 : 0;
}

/* ---- devices and users -------------------------------------------------------------- */

static int device_special(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			  const char *path)
{
	const char *v;
	int k = reader_scalar(r, path, &v, &pos);

	/* Output shows the mask; a real secret in a file is refused, never stored. */
	if (k == 1 && v && strcmp(v, PBX_DEVICE_SECRET_MASK))
		bulk_problem(r->rep, PBX_EINVALID, pos, path,
			     "secrets are generated, never read from a file; remove the key "
			     "(new credentials go to --secrets-out)");
	return k < 0 ? -1 : 0;
}

static int device_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct bulk_user *u = parent;
	struct bulk_device *d = new_obj(r, (void **)&u->devices, &u->n_devices, &u->cap_devices,
					sizeof(*d), &pbx_schema_device);

	if (!d)
		return -1;
	r->doc->n_devices++;
	return reader_object(r, &d->o, d, NULL, device_special, path);
}

static int user_child(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
		      const char *path)
{
	struct bulk_user *u = obj;
	int ret;

	if (!strcmp(key, "pin"))
		return write_only(r, key, &u->pin, &u->pin_pos, pos, path);
	if (twice(r, &u->devices_given, pos, path, key, &ret))
		return ret;
	return reader_list(r, u, path, device_item);
}

static int user_item(struct reader *r, void *parent, size_t index, const char *path)
{
	static const char *const children[] = { "devices", NULL };
	struct bulk_tenant *t = parent;
	struct bulk_user *u = new_obj(r, (void **)&t->users, &t->n_users, &t->cap_users,
				      sizeof(*u), &pbx_schema_user);

	if (!u)
		return -1;
	r->doc->n_users++;
	return reader_object(r, &u->o, u, children, user_child, path);
}

/* ---- DIDs, trunks, policies --------------------------------------------------------- */

static int did_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct bulk_tenant *t = parent;
	struct bulk_did *d = new_obj(r, (void **)&t->dids, &t->n_dids, &t->cap_dids, sizeof(*d),
				     &pbx_schema_did);

	if (!d)
		return -1;
	r->doc->n_dids++;
	return reader_object(r, &d->o, d, NULL, NULL, path);
}

static int trunk_special(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			 const char *path)
{
	struct bulk_trunk *k = obj;

	return write_only(r, key, &k->secret, &k->secret_pos, pos, path);
}

static int trunk_in(struct reader *r, struct bulk_trunk **vec, size_t *n, size_t *cap,
		    const char *path)
{
	struct bulk_trunk *k = new_obj(r, (void **)vec, n, cap, sizeof(*k), &pbx_schema_trunk);

	if (!k)
		return -1;
	r->doc->n_all_trunks++;
	return reader_object(r, &k->o, k, NULL, trunk_special, path);
}

static int trunk_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct bulk_tenant *t = parent;

	return trunk_in(r, &t->trunks, &t->n_trunks, &t->cap_trunks, path);
}

static int global_trunk_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct pbx_bulk_doc *doc = parent;

	return trunk_in(r, &doc->trunks, &doc->n_trunks, &doc->cap_trunks, path);
}

static int rule_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct bulk_policy *p = parent;
	struct bulk_rule *ru = new_obj(r, (void **)&p->rules, &p->n_rules, &p->cap_rules,
				       sizeof(*ru), &pbx_schema_policy_rule);

	if (!ru)
		return -1;
	return reader_object(r, &ru->o, ru, NULL, NULL, path);
}

static int policy_child(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			const char *path)
{
	struct bulk_policy *p = obj;
	int ret;

	if (twice(r, &p->rules_given, pos, path, key, &ret))
		return ret;
	p->rules_pos = pos;
	return reader_list(r, p, path, rule_item);
}

static int policy_item(struct reader *r, void *parent, size_t index, const char *path)
{
	static const char *const children[] = { "rules", NULL };
	struct bulk_tenant *t = parent;
	struct bulk_policy *p = new_obj(r, (void **)&t->policies, &t->n_policies,
					&t->cap_policies, sizeof(*p), &pbx_schema_policy);

	if (!p)
		return -1;
	r->doc->n_policies++;
	return reader_object(r, &p->o, p, children, policy_child, path);
}

/* ---- tenants and the top ------------------------------------------------------------ */

static int tenant_child(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			const char *path)
{
	struct bulk_tenant *t = obj;
	int ret;

	if (!strcmp(key, "users"))
		return twice(r, &t->users_given, pos, path, key, &ret) ? ret :
		       reader_list(r, t, path, user_item);
	if (!strcmp(key, "dids"))
		return twice(r, &t->dids_given, pos, path, key, &ret) ? ret :
		       reader_list(r, t, path, did_item);
	if (!strcmp(key, "trunks"))
		return twice(r, &t->trunks_given, pos, path, key, &ret) ? ret :
		       reader_list(r, t, path, trunk_item);
	return twice(r, &t->policies_given, pos, path, key, &ret) ? ret :
	       reader_list(r, t, path, policy_item);
}

static int tenant_item(struct reader *r, void *parent, size_t index, const char *path)
{
	static const char *const children[] = { "users", "dids", "trunks", "policies", NULL };
	struct pbx_bulk_doc *doc = parent;
	struct bulk_tenant *t = new_obj(r, (void **)&doc->tenants, &doc->n_tenants,
					&doc->cap_tenants, sizeof(*t), &pbx_schema_tenant);

	if (!t)
		return -1;
	return reader_object(r, &t->o, t, children, tenant_child, path);
}

/* The top level: a mapping with "version", "tenants" and "trunks". */
static int read_root(struct reader *r)
{
	bool seen_tenants = false, seen_version = false, seen_trunks = false;
	yaml_event_t *ev = reader_peek(r);
	struct bulk_pos pos;
	char key[64];
	int k, ret;

	if (!ev)
		return -1;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, reader_pos(&ev->start_mark), NULL,
			     "expected a mapping with a tenants list at the top, not %s",
			     reader_kind(ev->type));
		return reader_skip(r);
	}
	reader_take(r);
	while ((k = reader_key(r, NULL, key, &pos)) != 0) {
		if (k < 0)
			return -1;
		if (k == 2) {
			ret = reader_skip(r);
		} else if (!strcmp(key, "tenants")) {
			ret = twice(r, &seen_tenants, pos, NULL, key, &ret) ? ret :
			      reader_list(r, r->doc, "tenants", tenant_item);
		} else if (!strcmp(key, "trunks")) {
			ret = twice(r, &seen_trunks, pos, NULL, key, &ret) ? ret :
			      reader_list(r, r->doc, "trunks", global_trunk_item);
		} else if (!strcmp(key, "version")) {
			const char *v;

			if (twice(r, &seen_version, pos, NULL, key, &ret)) {
				/* reported */
			} else if ((k = reader_scalar(r, "version", &v, &pos)) < 0) {
				ret = -1;
			} else {
				ret = 0;
				if (k == 1 && (!v || strcmp(v, "1")))
					bulk_problem(r->rep, PBX_EINVALID, pos, "version",
						     "version must be 1, the only format this pbxctl reads");
			}
		} else {
			bulk_problem(r->rep, PBX_EINVALID, pos, NULL,
				     "unknown key \"%s\" at the top; the file takes version, tenants "
				     "and trunks", key);
			ret = reader_skip(r);
		}
		if (ret < 0)
			return -1;
	}
	return 0;
}

static void read_stream(struct reader *r)
{
	yaml_event_t *ev;

	if (!(ev = reader_peek(r)) || ev->type != YAML_STREAM_START_EVENT)
		return;
	reader_take(r);
	if (!(ev = reader_peek(r)))
		return;
	if (ev->type == YAML_STREAM_END_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, reader_pos(&ev->start_mark), NULL,
			     "the file is empty; expected a mapping with a tenants list");
		return;
	}
	reader_take(r);   /* document start */
	if (read_root(r) < 0 || !(ev = reader_peek(r)))
		return;
	reader_take(r);   /* document end */
	if ((ev = reader_peek(r)) && ev->type != YAML_STREAM_END_EVENT)
		bulk_problem(r->rep, PBX_EINVALID, reader_pos(&ev->start_mark), NULL,
			     "only one YAML document per file; remove the second \"---\"");
}

static void doc_free(struct pbx_bulk_doc *doc)
{
	for (size_t t = 0; t < doc->n_tenants; t++) {
		struct bulk_tenant *te = &doc->tenants[t];

		for (size_t u = 0; u < te->n_users; u++)
			free(te->users[u].devices);
		for (size_t p = 0; p < te->n_policies; p++)
			free(te->policies[p].rules);
		free(te->users);
		free(te->dids);
		free(te->trunks);
		free(te->policies);
	}
	free(doc->tenants);
	free(doc->trunks);
	bulk_arena_free(&doc->arena);
	free(doc);
}

void pbx_bulk_doc_free(pbx_bulk_doc *doc)
{
	if (doc)
		doc_free(doc);
}

size_t pbx_bulk_doc_count(const pbx_bulk_doc *doc, const char *entity)
{
	if (!strcmp(entity, "tenant"))
		return doc->n_tenants;
	if (!strcmp(entity, "user"))
		return doc->n_users;
	if (!strcmp(entity, "device"))
		return doc->n_devices;
	if (!strcmp(entity, "did"))
		return doc->n_dids;
	if (!strcmp(entity, "trunk"))
		return doc->n_all_trunks;
	if (!strcmp(entity, "policy"))
		return doc->n_policies;
	return 0;
}

int pbx_bulk_parse(const char *name, FILE *in, pbx_bulk_doc **ret_doc, pbx_diag *diag,
		   pbx_error *err)
{
	struct pbx_bulk_doc *doc = calloc(1, sizeof(*doc));
	struct bulk_report rep = { .diag = diag };
	struct reader r;
	size_t before = diag->n;

	*ret_doc = NULL;
	if (!doc || !(doc->name = bulk_strdup(&doc->arena, !strcmp(name, "-") ? "stdin" : name))) {
		free(doc);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	rep.file = doc->name;
	if (!reader_init(&r, in, doc, &rep)) {
		doc_free(doc);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	read_stream(&r);
	reader_done(&r);
	if (r.oom || rep.oom) {
		doc_free(doc);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory reading %s", name);
	}
	if (r.why == WHY_IO) {
		doc_free(doc);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot read %s", name);
	}
	/* Field rules run on whatever was read, so one run lists every problem. */
	bulk_check_doc(doc, &rep);
	bulk_check_routing(doc, &rep);
	bulk_report_end(&rep);
	if (diag->n > before) {
		pbx_errorf(err, PBX_EINVALID, NULL, NULL, "%s has %zu problem(s); nothing was changed",
			   rep.file, diag->n - before);
		doc_free(doc);
		return PBX_EINVALID;
	}
	*ret_doc = doc;
	return 0;
}
