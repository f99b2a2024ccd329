/* SPDX-License-Identifier: MIT */
/*
 * Reading an import file with libyaml's event API straight into tenants, users and
 * devices: no document tree is built, and nothing in the file can make the parser use
 * memory out of proportion to it. Anchors, aliases and tags are refused (an alias never
 * expands, so "billion laughs" costs nothing), nesting stops at PBX_BULK_MAX_DEPTH, a value
 * longer than PBX_BULK_MAX_VALUE is refused, and the read handler stops libyaml when it has
 * consumed PBX_BULK_MAX_GAP bytes without producing an event (a huge scalar or comment is
 * never accumulated) or PBX_BULK_MAX_INPUT bytes in all. Keys are the entity schemas'
 * keys: PBX_FIELD_EXPORT keys are read, PBX_FIELD_READONLY keys are accepted and ignored
 * (so `-o yaml` output can be pasted), anything else is an error with a suggestion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/device.h"
#include "pbx/tenant.h"
#include "pbx/user.h"
#include "bulk-internal.h"

enum why { WHY_NONE, WHY_TOO_BIG, WHY_GAP, WHY_IO };

struct reader {
	yaml_parser_t p;
	yaml_event_t ev;
	bool have;               /* ev holds an event not yet consumed */
	bool fatal;
	enum why why;
	FILE *in;
	size_t total;            /* bytes read */
	size_t last_end;         /* where the last event ended (libyaml mark index) */
	int depth;
	size_t objects;          /* tenants, users and devices so far */
	struct bulk_report *rep;
	struct pbx_bulk_doc *doc;
	bool oom;
};

static struct bulk_pos pos_of(const yaml_mark_t *m)
{
	return (struct bulk_pos){ .line = (uint32_t)m->line + 1, .col = (uint32_t)m->column + 1 };
}

static int read_handler(void *data, unsigned char *buf, size_t size, size_t *size_read)
{
	struct reader *r = data;
	size_t n;

	/* libyaml reads on while it scans one token; a token this long is refused here, before
	 * libyaml has buffered it. */
	if (r->p.mark.index > r->last_end && r->p.mark.index - r->last_end > PBX_BULK_MAX_GAP) {
		r->why = WHY_GAP;
		return 0;
	}
	n = fread(buf, 1, size, r->in);
	if (n == 0 && ferror(r->in)) {
		r->why = WHY_IO;
		return 0;
	}
	r->total += n;
	if (r->total > PBX_BULK_MAX_INPUT) {
		r->why = WHY_TOO_BIG;
		return 0;
	}
	*size_read = n;
	return 1;
}

static void fatal(struct reader *r, struct bulk_pos pos, const char *msg)
{
	if (!r->fatal)
		bulk_problem(r->rep, PBX_EINVALID, pos, NULL, "%s", msg);
	r->fatal = true;
}

static void parse_failed(struct reader *r)
{
	struct bulk_pos pos = pos_of(&r->p.problem_mark);

	switch (r->why) {
	case WHY_TOO_BIG:
		fatal(r, pos, "the file is larger than 64 MiB; split it by tenant");
		break;
	case WHY_GAP:
		fatal(r, pos_of(&r->p.mark), "a single value, comment or blank stretch is larger "
		      "than 1 MiB; refused");
		break;
	case WHY_IO:
		fatal(r, pos, "read error");
		break;
	default:
		if (r->p.error == YAML_MEMORY_ERROR) {
			r->oom = true;
			fatal(r, pos, "out of memory while reading the file");
		} else {
			char msg[256];

			snprintf(msg, sizeof(msg), "YAML syntax: %s%s%s",
				 r->p.problem ? r->p.problem : "invalid YAML",
				 r->p.context ? " " : "", r->p.context ? r->p.context : "");
			fatal(r, pos, msg);
		}
	}
}

/* The next event, checked for anchors, tags and depth; NULL after a fatal problem. */
static yaml_event_t *peek(struct reader *r)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	struct bulk_pos pos;

	if (r->have)
		return &r->ev;
	if (r->fatal)
		return NULL;
	if (!yaml_parser_parse(&r->p, &r->ev)) {
		parse_failed(r);
		return NULL;
	}
	r->have = true;
	r->last_end = r->ev.end_mark.index;
	pos = pos_of(&r->ev.start_mark);
	switch (r->ev.type) {
	case YAML_SCALAR_EVENT:
		anchor = r->ev.data.scalar.anchor;
		tag = r->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = r->ev.data.sequence_start.anchor;
		tag = r->ev.data.sequence_start.tag;
		r->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = r->ev.data.mapping_start.anchor;
		tag = r->ev.data.mapping_start.tag;
		r->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		r->depth--;
		break;
	case YAML_ALIAS_EVENT:
		bulk_problem(r->rep, PBX_EINVALID, pos, NULL,
			     "aliases (*name) are not supported; write the value out");
		break;
	default:
		break;
	}
	if (anchor)
		bulk_problem(r->rep, PBX_EINVALID, pos, NULL,
			     "anchors (&name) are not supported; write every value out");
	if (tag)
		bulk_problem(r->rep, PBX_EINVALID, pos, NULL, "tags (!name) are not supported");
	if (r->depth > PBX_BULK_MAX_DEPTH) {
		fatal(r, pos, "collections are nested more than 32 levels deep; refused");
		yaml_event_delete(&r->ev);
		r->have = false;
		return NULL;
	}
	if (bulk_full(r->rep))
		fatal(r, pos, "too many problems; stopped reading here");
	return &r->ev;
}

static void take(struct reader *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
}

/* Consume one whole node. Returns -1 after a fatal problem. */
static int skip_node(struct reader *r)
{
	yaml_event_t *ev = peek(r);
	int depth;

	if (!ev)
		return -1;
	if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT) {
		take(r);
		return 0;
	}
	depth = r->depth;
	take(r);
	while (r->depth >= depth) {
		if (!peek(r))
			return -1;
		take(r);
	}
	return 0;
}

static const char *kind_name(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_ALIAS_EVENT: return "an alias";
	default: return "a single value";
	}
}

/*
 * Read a scalar value into the arena. Returns 1 with *@ret set (NULL for a plain null),
 * 0 when the node is not a usable scalar (reported, skipped), -1 when fatal.
 */
static int get_scalar(struct reader *r, const char *path, const char **ret, struct bulk_pos *pos)
{
	yaml_event_t *ev = peek(r);
	const char *v;
	size_t len;

	if (!ev)
		return -1;
	*pos = pos_of(&ev->start_mark);
	if (ev->type == YAML_ALIAS_EVENT) {
		take(r);
		return 0;
	}
	if (ev->type != YAML_SCALAR_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "expected a single value, not %s",
			     kind_name(ev->type));
		return skip_node(r) < 0 ? -1 : 0;
	}
	v = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	if (len > PBX_BULK_MAX_VALUE) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "value is %zu bytes long; at most %d",
			     len, PBX_BULK_MAX_VALUE);
		take(r);
		return 0;
	}
	if (memchr(v, '\0', len)) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "value contains a NUL character");
		take(r);
		return 0;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (len == 0 || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	     !strcmp(v, "NULL"))) {
		*ret = NULL;
	} else if (!(*ret = bulk_strndup(&r->doc->arena, v, len))) {
		r->oom = true;
		fatal(r, *pos, "out of memory");
		take(r);
		return -1;
	}
	take(r);
	return 1;
}

/* Read a list of scalars (or one comma-separated scalar) as "a,b,c". */
static int get_list(struct reader *r, const char *path, const char **ret, struct bulk_pos *pos)
{
	yaml_event_t *ev = peek(r);
	char buf[PBX_BULK_MAX_VALUE + 1];
	size_t n = 0;
	bool ok = true;

	if (!ev)
		return -1;
	*pos = pos_of(&ev->start_mark);
	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		const char *s;
		int k = get_scalar(r, path, &s, pos);

		if (k <= 0 || !s) {
			*ret = NULL;
			return k;
		}
		/* "ulaw, alaw": the same list, spaces around the commas dropped. */
		for (const char *p = s; *p && n < sizeof(buf) - 1; p++)
			if (*p != ' ')
				buf[n++] = *p;
		buf[n] = '\0';
		*ret = bulk_strdup(&r->doc->arena, buf);
		return *ret ? 1 : -1;
	}
	take(r);
	for (;;) {
		const char *s;
		struct bulk_pos epos;
		int k;

		if (!(ev = peek(r)))
			return -1;
		if (ev->type == YAML_SEQUENCE_END_EVENT) {
			take(r);
			break;
		}
		if ((k = get_scalar(r, path, &s, &epos)) < 0)
			return -1;
		if (k == 0 || !s || strchr(s, ',') || n + strlen(s) + 1 > PBX_BULK_MAX_VALUE) {
			if (k == 1)
				bulk_problem(r->rep, PBX_EINVALID, epos, path,
					     "list elements must be single words without commas");
			ok = false;
			continue;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "", s);
	}
	buf[n] = '\0';
	if (!ok)
		return 0;
	*ret = bulk_strdup(&r->doc->arena, buf);
	return *ret ? 1 : -1;
}

/* Edit distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j], best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* "unknown key" with the closest known key, or the list of keys the object takes. */
static void unknown_key(struct reader *r, struct bulk_pos pos, const char *path, const char *key,
			const struct pbx_schema *s, const char *child)
{
	char list[512] = "";
	const char *best = NULL;
	size_t bestd = 3, n = 0;

	for (size_t i = 0; i < s->n_fields; i++) {
		const char *k = s->fields[i].key;
		size_t d;

		if (!(s->fields[i].flags & PBX_FIELD_EXPORT) && strcmp(k, "pin"))
			continue;
		if ((d = distance(key, k)) < bestd) {
			bestd = d;
			best = k;
		}
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
				      n ? ", " : "", k);
	}
	if (child && distance(key, child) < bestd)
		best = child;
	if (child && n < sizeof(list))
		snprintf(list + n, sizeof(list) - n, ", %s", child);
	if (best)
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "unknown key \"%s\"; did you mean \"%s\"?",
			     key, best);
	else
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "unknown key \"%s\"; a %s takes %s",
			     key, s->name, list);
}

/*
 * The next key of a mapping. Returns 1 with @key filled, 0 at the end of the mapping,
 * 2 when the key was not a usable word (reported; the caller skips the value), -1 fatal.
 */
static int next_key(struct reader *r, const char *path, char key[64], struct bulk_pos *pos)
{
	yaml_event_t *ev = peek(r);

	if (!ev)
		return -1;
	*pos = pos_of(&ev->start_mark);
	if (ev->type == YAML_MAPPING_END_EVENT) {
		take(r);
		return 0;
	}
	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.length >= 64 ||
	    memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "keys must be words of at most 63 characters");
		return skip_node(r) < 0 ? -1 : 2;
	}
	memcpy(key, ev->data.scalar.value, ev->data.scalar.length + 1);
	take(r);
	return 1;
}

static bool bool_word(const char *s, const char **ret)
{
	static const char *const t[] = { "true", "True", "TRUE" }, *const f[] = { "false", "False", "FALSE" };

	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(s, t[i]))
			*ret = "true";
		else if (!strcmp(s, f[i]))
			*ret = "false";
		else
			continue;
		return true;
	}
	return false;
}

/* Read the value of schema field @i of @o. Returns -1 when fatal. */
static int read_field(struct reader *r, struct bulk_obj *o, int i, const char *path)
{
	const struct pbx_field *f = &o->schema->fields[i];
	struct bulk_pos pos;
	const char *v = NULL;
	int k;

	if (bulk_has(o, i)) {
		bulk_problem(r->rep, PBX_EINVALID, o->vpos[i], path, "%s is given twice", f->key);
		return skip_node(r);
	}
	k = f->type == PBX_FT_LIST ? get_list(r, path, &v, &pos) : get_scalar(r, path, &v, &pos);
	if (k == 0)
		o->bad |= 1u << i;
	if (k <= 0)
		return k;
	o->set |= 1u << i;
	o->vpos[i] = pos;
	if (!v) {
		if (!bulk_nullable(o->schema, f->key)) {
			bulk_problem(r->rep, PBX_EINVALID, pos, path, "%s cannot be null", f->key);
			o->set &= ~(1u << i);
			o->bad |= 1u << i;
		}
		o->val[i] = NULL;
		return 0;
	}
	if (f->type == PBX_FT_BOOL && !bool_word(v, &v)) {
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "%s must be true or false", f->key);
		o->set &= ~(1u << i);
		o->bad |= 1u << i;
		return 0;
	}
	if (f->type == PBX_FT_INT && (!*v || strspn(v, "0123456789") != strlen(v))) {
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "%s must be a whole number", f->key);
		o->set &= ~(1u << i);
		o->bad |= 1u << i;
		return 0;
	}
	o->val[i] = v;
	return 0;
}

static int init_obj(struct reader *r, struct bulk_obj *o, const struct pbx_schema *s,
		    struct bulk_pos pos)
{
	if (s->n_fields > 32)
		PBX_BUG("a schema has more than 32 fields");
	o->schema = s;
	o->pos = pos;
	o->val = bulk_alloc(&r->doc->arena, s->n_fields * sizeof(*o->val));
	o->vpos = bulk_alloc(&r->doc->arena, s->n_fields * sizeof(*o->vpos));
	if (!o->val || !o->vpos) {
		r->oom = true;
		fatal(r, pos, "out of memory");
		return -1;
	}
	return 0;
}

/* Grow a vector of @size-byte elements by one zeroed element; NULL when out of memory. */
static void *push(void **vec, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		void *p = realloc(*vec, c * size);

		if (!p)
			return NULL;
		*vec = p;
		*cap = c;
	}
	memset((char *)*vec + *n * size, 0, size);
	return (char *)*vec + (*n)++ * size;
}

/* Count one more object; false (fatal, reported) beyond PBX_BULK_MAX_OBJECTS. */
static bool one_more(struct reader *r, struct bulk_pos pos)
{
	if (++r->objects <= PBX_BULK_MAX_OBJECTS)
		return true;
	fatal(r, pos, "the file holds more than 300000 tenants, users and devices; split it by tenant");
	return false;
}

/* Which objects a key names: the field index, or one of these. */
enum { KEY_IGNORED = -2, KEY_UNKNOWN = -3, KEY_SPECIAL = -4 };

static int classify(const struct pbx_schema *s, const char *key)
{
	int i = pbx_schema_index(s, key);

	if (i < 0)
		return KEY_UNKNOWN;
	if (s->fields[i].flags & PBX_FIELD_EXPORT)
		return i;
	if (s->fields[i].flags & PBX_FIELD_READONLY)
		return KEY_IGNORED;
	if ((s == &pbx_schema_user && !strcmp(key, "pin")) ||
	    (s == &pbx_schema_device && !strcmp(key, "secret")))
		return KEY_SPECIAL;
	return KEY_UNKNOWN;
}

/*
 * The common loop over an object's mapping: fields are read into @o; @child ("users",
 * "devices" or NULL) calls @on_child; "pin" and "secret" call @on_special.
 */
typedef int (*child_fn)(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			const char *path);

static int read_object(struct reader *r, struct bulk_obj *o, void *obj, const char *child,
		       child_fn on_child, const char *path)
{
	char key[64], fpath[160];
	struct bulk_pos pos;
	yaml_event_t *ev = peek(r);
	int k;

	if (!ev)
		return -1;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, pos_of(&ev->start_mark), path,
			     "expected a mapping of keys and values, not %s", kind_name(ev->type));
		o->broken = true;
		return skip_node(r);
	}
	take(r);
	while ((k = next_key(r, path, key, &pos)) != 0) {
		int c;

		if (k < 0)
			return -1;
		if (k == 2) {
			if (skip_node(r) < 0)
				return -1;
			continue;
		}
		snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
		if (child && !strcmp(key, child)) {
			if (on_child(r, obj, key, pos, fpath) < 0)
				return -1;
			continue;
		}
		c = classify(o->schema, key);
		if (c >= 0) {
			if (read_field(r, o, c, fpath) < 0)
				return -1;
			continue;
		}
		if (c == KEY_SPECIAL) {
			if (on_child(r, obj, key, pos, fpath) < 0)
				return -1;
			continue;
		}
		if (c == KEY_UNKNOWN)
			unknown_key(r, pos, path, key, o->schema, child);
		if (skip_node(r) < 0)
			return -1;
	}
	return 0;
}

/* Iterate a list value: calls @item for each element with its index. */
typedef int (*item_fn)(struct reader *r, void *parent, size_t index, const char *path);

static int read_list(struct reader *r, void *parent, const char *path, item_fn item)
{
	char ipath[160];
	yaml_event_t *ev = peek(r);
	size_t index = 0;

	if (!ev)
		return -1;
	if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (ev->data.scalar.length == 0 || !strcmp((char *)ev->data.scalar.value, "null") ||
	     !strcmp((char *)ev->data.scalar.value, "~"))) {
		take(r);   /* "users:" with nothing after it: an empty list */
		return 0;
	}
	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, pos_of(&ev->start_mark), path,
			     "expected a list, not %s", kind_name(ev->type));
		return skip_node(r);
	}
	take(r);
	for (;;) {
		if (!(ev = peek(r)))
			return -1;
		if (ev->type == YAML_SEQUENCE_END_EVENT) {
			take(r);
			return 0;
		}
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, index);
		if (item(r, parent, index++, ipath) < 0)
			return -1;
	}
}

static int device_special(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			  const char *path)
{
	const char *v;
	int k = get_scalar(r, path, &v, &pos);

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
	struct bulk_device *d;
	yaml_event_t *ev = peek(r);

	if (!ev || !one_more(r, pos_of(&ev->start_mark)))
		return -1;
	d = push((void **)&u->devices, &u->n_devices, &u->cap_devices, sizeof(*d));
	if (!d || init_obj(r, &d->o, &pbx_schema_device, pos_of(&ev->start_mark)) < 0) {
		r->oom = true;
		fatal(r, pos_of(&ev->start_mark), "out of memory");
		return -1;
	}
	(void)index;
	r->doc->n_devices++;
	return read_object(r, &d->o, d, NULL, device_special, path);
}

static int user_child(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
		      const char *path)
{
	struct bulk_user *u = obj;

	if (!strcmp(key, "pin")) {
		const char *v;
		int k;

		if (u->pin) {
			bulk_problem(r->rep, PBX_EINVALID, pos, path, "pin is given twice");
			return skip_node(r);
		}
		k = get_scalar(r, path, &v, &u->pin_pos);
		if (k == 1)
			u->pin = v ? v : "";
		return k < 0 ? -1 : 0;
	}
	if (u->devices_given) {
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "devices is given twice");
		return skip_node(r);
	}
	u->devices_given = true;
	return read_list(r, u, path, device_item);
}

static int user_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct bulk_tenant *t = parent;
	struct bulk_user *u;
	yaml_event_t *ev = peek(r);

	if (!ev || !one_more(r, pos_of(&ev->start_mark)))
		return -1;
	u = push((void **)&t->users, &t->n_users, &t->cap_users, sizeof(*u));
	if (!u || init_obj(r, &u->o, &pbx_schema_user, pos_of(&ev->start_mark)) < 0) {
		r->oom = true;
		fatal(r, pos_of(&ev->start_mark), "out of memory");
		return -1;
	}
	(void)index;
	r->doc->n_users++;
	return read_object(r, &u->o, u, "devices", user_child, path);
}

static int tenant_child(struct reader *r, void *obj, const char *key, struct bulk_pos pos,
			const char *path)
{
	struct bulk_tenant *t = obj;

	if (t->users_given) {
		bulk_problem(r->rep, PBX_EINVALID, pos, path, "%s is given twice", key);
		return skip_node(r);
	}
	t->users_given = true;
	return read_list(r, t, path, user_item);
}

static int tenant_item(struct reader *r, void *parent, size_t index, const char *path)
{
	struct pbx_bulk_doc *doc = parent;
	struct bulk_tenant *t;
	yaml_event_t *ev = peek(r);

	if (!ev || !one_more(r, pos_of(&ev->start_mark)))
		return -1;
	t = push((void **)&doc->tenants, &doc->n_tenants, &doc->cap_tenants, sizeof(*t));
	if (!t || init_obj(r, &t->o, &pbx_schema_tenant, pos_of(&ev->start_mark)) < 0) {
		r->oom = true;
		fatal(r, pos_of(&ev->start_mark), "out of memory");
		return -1;
	}
	(void)index;
	return read_object(r, &t->o, t, "users", tenant_child, path);
}

/* The top level: a mapping with "version" and "tenants". */
static int read_root(struct reader *r)
{
	char key[64];
	struct bulk_pos pos;
	bool seen_tenants = false, seen_version = false;
	yaml_event_t *ev = peek(r);
	int k;

	if (!ev)
		return -1;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, pos_of(&ev->start_mark), NULL,
			     "expected a mapping with a tenants list at the top, not %s",
			     kind_name(ev->type));
		return skip_node(r);
	}
	take(r);
	while ((k = next_key(r, NULL, key, &pos)) != 0) {
		if (k < 0)
			return -1;
		if (k == 2) {
			if (skip_node(r) < 0)
				return -1;
		} else if (!strcmp(key, "tenants") && !seen_tenants) {
			seen_tenants = true;
			if (read_list(r, r->doc, "tenants", tenant_item) < 0)
				return -1;
		} else if (!strcmp(key, "version") && !seen_version) {
			const char *v;

			seen_version = true;
			if ((k = get_scalar(r, "version", &v, &pos)) < 0)
				return -1;
			if (k == 1 && (!v || strcmp(v, "1")))
				bulk_problem(r->rep, PBX_EINVALID, pos, "version",
					     "version must be 1, the only format this pbxctl reads");
		} else {
			if (!strcmp(key, "tenants") || !strcmp(key, "version"))
				bulk_problem(r->rep, PBX_EINVALID, pos, NULL, "%s is given twice", key);
			else
				bulk_problem(r->rep, PBX_EINVALID, pos, NULL,
					     "unknown key \"%s\" at the top; the file takes version and tenants",
					     key);
			if (skip_node(r) < 0)
				return -1;
		}
	}
	return 0;
}

static void read_stream(struct reader *r)
{
	yaml_event_t *ev;

	if (!(ev = peek(r)) || ev->type != YAML_STREAM_START_EVENT)
		return;
	take(r);
	if (!(ev = peek(r)))
		return;
	if (ev->type == YAML_STREAM_END_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, pos_of(&ev->start_mark), NULL,
			     "the file is empty; expected a mapping with a tenants list");
		return;
	}
	take(r);   /* document start */
	if (read_root(r) < 0 || !(ev = peek(r)))
		return;
	take(r);   /* document end */
	if ((ev = peek(r)) && ev->type != YAML_STREAM_END_EVENT)
		bulk_problem(r->rep, PBX_EINVALID, pos_of(&ev->start_mark), NULL,
			     "only one YAML document per file; remove the second \"---\"");
}

static void doc_free(struct pbx_bulk_doc *doc)
{
	for (size_t t = 0; t < doc->n_tenants; t++) {
		for (size_t u = 0; u < doc->tenants[t].n_users; u++)
			free(doc->tenants[t].users[u].devices);
		free(doc->tenants[t].users);
	}
	free(doc->tenants);
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
	return 0;
}

int pbx_bulk_parse(const char *name, FILE *in, pbx_bulk_doc **ret_doc, pbx_diag *diag,
		   pbx_error *err)
{
	struct pbx_bulk_doc *doc = calloc(1, sizeof(*doc));
	struct bulk_report rep = { .diag = diag };
	struct reader r = { .in = in, .rep = &rep };
	size_t before = diag->n;

	*ret_doc = NULL;
	if (!doc || !(doc->name = bulk_strdup(&doc->arena, !strcmp(name, "-") ? "stdin" : name))) {
		free(doc);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	rep.file = doc->name;
	r.doc = doc;
	if (!yaml_parser_initialize(&r.p)) {
		doc_free(doc);
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	}
	yaml_parser_set_input(&r.p, read_handler, &r);
	read_stream(&r);
	take(&r);
	yaml_parser_delete(&r.p);
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
	bulk_report_end(&rep);
	if (diag->n > before) {
		doc_free(doc);
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "%s has %zu problem(s); nothing was changed",
				  rep.file, diag->n - before);
	}
	*ret_doc = doc;
	return 0;
}
