/* SPDX-License-Identifier: MIT */
/*
 * The guarded libyaml event reader under the import grammar (see reader.h). Nothing in a
 * file can make it use memory out of proportion to the file: anchors, aliases and tags are
 * refused (an alias never expands, so "billion laughs" costs nothing), nesting stops at
 * PBX_BULK_MAX_DEPTH, a value longer than PBX_BULK_MAX_VALUE is refused, and the read
 * handler stops libyaml when it has consumed PBX_BULK_MAX_GAP bytes without producing an
 * event (a huge scalar or comment is never accumulated) or PBX_BULK_MAX_INPUT bytes in all.
 * Objects are read against their entity schema: PBX_FIELD_EXPORT keys are fields,
 * PBX_FIELD_READONLY keys are accepted and ignored (so `-o yaml` output can be pasted), and
 * anything else is an error with a suggestion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pbx/device.h"
#include "pbx/trunk.h"
#include "pbx/user.h"
#include "reader.h"

struct bulk_pos reader_pos(const yaml_mark_t *m)
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

void reader_fatal(struct reader *r, struct bulk_pos pos, const char *msg)
{
	/* The reason reading stopped is always listed, past the cap too. */
	r->rep->force = true;
	if (!r->fatal)
		bulk_problem(r->rep, PBX_EINVALID, pos, NULL, "%s", msg);
	r->rep->force = false;
	r->fatal = true;
}

static void parse_failed(struct reader *r)
{
	struct bulk_pos pos = reader_pos(&r->p.problem_mark);

	switch (r->why) {
	case WHY_TOO_BIG:
		reader_fatal(r, pos, "the file is larger than 64 MiB; split it by tenant");
		break;
	case WHY_GAP:
		reader_fatal(r, reader_pos(&r->p.mark), "a single value, comment or blank stretch is larger "
		      "than 1 MiB; refused");
		break;
	case WHY_IO:
		reader_fatal(r, pos, "read error");
		break;
	default:
		if (r->p.error == YAML_MEMORY_ERROR) {
			r->oom = true;
			reader_fatal(r, pos, "out of memory while reading the file");
		} else {
			char msg[256];

			snprintf(msg, sizeof(msg), "YAML syntax: %s%s%s",
				 r->p.problem ? r->p.problem : "invalid YAML",
				 r->p.context ? " " : "", r->p.context ? r->p.context : "");
			reader_fatal(r, pos, msg);
		}
	}
}

/* The next event, checked for anchors, tags and depth; NULL after a fatal problem. */
yaml_event_t *reader_peek(struct reader *r)
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
	pos = reader_pos(&r->ev.start_mark);
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
		reader_fatal(r, pos, "collections are nested more than 32 levels deep; refused");
		yaml_event_delete(&r->ev);
		r->have = false;
		return NULL;
	}
	if (bulk_full(r->rep))
		reader_fatal(r, pos, "too many problems; stopped reading here");
	return &r->ev;
}

void reader_take(struct reader *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
}

/* Consume one whole node. Returns -1 after a fatal problem. */
int reader_skip(struct reader *r)
{
	yaml_event_t *ev = reader_peek(r);
	int depth;

	if (!ev)
		return -1;
	if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT) {
		reader_take(r);
		return 0;
	}
	depth = r->depth;
	reader_take(r);
	while (r->depth >= depth) {
		if (!reader_peek(r))
			return -1;
		reader_take(r);
	}
	return 0;
}

const char *reader_kind(yaml_event_type_t t)
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
int reader_scalar(struct reader *r, const char *path, const char **ret, struct bulk_pos *pos)
{
	yaml_event_t *ev = reader_peek(r);
	const char *v;
	size_t len;

	if (!ev)
		return -1;
	*pos = reader_pos(&ev->start_mark);
	if (ev->type == YAML_ALIAS_EVENT) {
		reader_take(r);
		return 0;
	}
	if (ev->type != YAML_SCALAR_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "expected a single value, not %s",
			     reader_kind(ev->type));
		return reader_skip(r) < 0 ? -1 : 0;
	}
	v = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	if (len > PBX_BULK_MAX_VALUE) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "value is %zu bytes long; at most %d",
			     len, PBX_BULK_MAX_VALUE);
		reader_take(r);
		return 0;
	}
	if (memchr(v, '\0', len)) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "value contains a NUL character");
		reader_take(r);
		return 0;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (len == 0 || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	     !strcmp(v, "NULL"))) {
		*ret = NULL;
	} else if (!(*ret = bulk_strndup(&r->doc->arena, v, len))) {
		r->oom = true;
		reader_fatal(r, *pos, "out of memory");
		reader_take(r);
		return -1;
	}
	reader_take(r);
	return 1;
}

/* Read a list of scalars (or one comma-separated scalar) as "a,b,c". */
static int get_list(struct reader *r, const char *path, const char **ret, struct bulk_pos *pos)
{
	yaml_event_t *ev = reader_peek(r);
	char buf[PBX_BULK_MAX_VALUE + 1];
	size_t n = 0;
	bool ok = true;

	if (!ev)
		return -1;
	*pos = reader_pos(&ev->start_mark);
	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		const char *s;
		int k = reader_scalar(r, path, &s, pos);

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
	reader_take(r);
	for (;;) {
		const char *s;
		struct bulk_pos epos;
		int k;

		if (!(ev = reader_peek(r)))
			return -1;
		if (ev->type == YAML_SEQUENCE_END_EVENT) {
			reader_take(r);
			break;
		}
		if ((k = reader_scalar(r, path, &s, &epos)) < 0)
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

/* The write-only key of @s, which output never shows but import reads: NULL when none. */
static const char *write_only(const struct pbx_schema *s)
{
	if (s == &pbx_schema_user)
		return "pin";
	if (s == &pbx_schema_trunk)
		return "secret";
	return NULL;
}

/* "unknown key" with the closest known key, or the list of keys the object takes. */
static void unknown_key(struct reader *r, struct bulk_pos pos, const char *path, const char *key,
			const struct pbx_schema *s, const char *const *children)
{
	char list[512] = "";
	const char *best = NULL, *wo = write_only(s);
	size_t bestd = 3, n = 0;

	for (size_t i = 0; i < s->n_fields; i++) {
		const char *k = s->fields[i].key;
		size_t d;

		if (!(s->fields[i].flags & PBX_FIELD_EXPORT) && !(wo && !strcmp(k, wo)))
			continue;
		if ((d = distance(key, k)) < bestd) {
			bestd = d;
			best = k;
		}
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
				      n ? ", " : "", k);
	}
	for (const char *const *c = children; c && *c; c++) {
		size_t d = distance(key, *c);

		if (d < bestd) {
			bestd = d;
			best = *c;
		}
		if (pbx_schema_index(s, *c) < 0 || !(s->fields[pbx_schema_index(s, *c)].flags & PBX_FIELD_EXPORT))
			n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0,
					      ", %s", *c);
	}
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
int reader_key(struct reader *r, const char *path, char key[64], struct bulk_pos *pos)
{
	yaml_event_t *ev = reader_peek(r);

	if (!ev)
		return -1;
	*pos = reader_pos(&ev->start_mark);
	if (ev->type == YAML_MAPPING_END_EVENT) {
		reader_take(r);
		return 0;
	}
	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.length >= 64 ||
	    memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
		bulk_problem(r->rep, PBX_EINVALID, *pos, path, "keys must be words of at most 63 characters");
		return reader_skip(r) < 0 ? -1 : 2;
	}
	memcpy(key, ev->data.scalar.value, ev->data.scalar.length + 1);
	reader_take(r);
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

static int obj_values(struct reader *r, struct bulk_obj *o);

/* Read the value of schema field @i of @o. Returns -1 when fatal. */
static int read_field(struct reader *r, struct bulk_obj *o, int i, const char *path)
{
	const struct pbx_field *f = &o->schema->fields[i];
	struct bulk_pos pos;
	const char *v = NULL;
	int k;

	if (obj_values(r, o) < 0)
		return -1;
	if (bulk_has(o, i)) {
		bulk_problem(r->rep, PBX_EINVALID, o->vpos[i], path, "%s is given twice", f->key);
		return reader_skip(r);
	}
	k = f->type == PBX_FT_LIST ? get_list(r, path, &v, &pos) : reader_scalar(r, path, &v, &pos);
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

int reader_obj_init(struct reader *r, struct bulk_obj *o, const struct pbx_schema *s,
		    struct bulk_pos pos)
{
	if (s->n_fields > 32)
		PBX_BUG("a schema has more than 32 fields");
	o->schema = s;
	o->pos = pos;
	return 0;
}

/* The value arrays of @o, made on its first field: an empty object costs nothing more. */
static int obj_values(struct reader *r, struct bulk_obj *o)
{
	size_t n = o->schema->n_fields;

	if (o->val)
		return 0;
	o->val = bulk_alloc(&r->doc->arena, n * sizeof(*o->val));
	o->vpos = bulk_alloc(&r->doc->arena, n * sizeof(*o->vpos));
	if (!o->val || !o->vpos) {
		r->oom = true;
		reader_fatal(r, o->pos, "out of memory");
		return -1;
	}
	return 0;
}

/* Grow a vector of @size-byte elements by one zeroed element; NULL when out of memory. */
void *reader_push(void **vec, size_t *n, size_t *cap, size_t size)
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
bool reader_one_more(struct reader *r, struct bulk_pos pos)
{
	if (++r->objects <= PBX_BULK_MAX_OBJECTS)
		return true;
	reader_fatal(r, pos, "the file holds more than 300000 tenants, users and devices; split it by tenant");
	return false;
}

/* Which objects a key names: the field index, or one of these. */
enum { KEY_IGNORED = -2, KEY_UNKNOWN = -3, KEY_SPECIAL = -4 };

static int classify(const struct pbx_schema *s, const char *key)
{
	int i = pbx_schema_index(s, key);
	const char *wo = write_only(s);

	if (i < 0)
		return KEY_UNKNOWN;
	if (s->fields[i].flags & PBX_FIELD_EXPORT)
		return i;
	if (s->fields[i].flags & PBX_FIELD_READONLY)
		return KEY_IGNORED;
	/* A device's secret is accepted as output's mask only (checked by the grammar). */
	if ((wo && !strcmp(key, wo)) || (s == &pbx_schema_device && !strcmp(key, "secret")))
		return KEY_SPECIAL;
	return KEY_UNKNOWN;
}

int reader_object(struct reader *r, struct bulk_obj *o, void *obj, const char *const *children,
		  reader_child_fn on_child, const char *path)
{
	char key[64], fpath[160];
	struct bulk_pos pos;
	yaml_event_t *ev = reader_peek(r);
	int k;

	if (!ev)
		return -1;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, reader_pos(&ev->start_mark), path,
			     "expected a mapping of keys and values, not %s", reader_kind(ev->type));
		o->broken = true;
		return reader_skip(r);
	}
	reader_take(r);
	while ((k = reader_key(r, path, key, &pos)) != 0) {
		bool child = false;
		int c;

		if (k < 0)
			return -1;
		if (k == 2) {
			if (reader_skip(r) < 0)
				return -1;
			continue;
		}
		snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
		for (const char *const *ch = children; ch && *ch && !child; ch++)
			child = !strcmp(key, *ch);
		c = child ? KEY_SPECIAL : classify(o->schema, key);
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
			unknown_key(r, pos, path, key, o->schema, children);
		if (reader_skip(r) < 0)
			return -1;
	}
	return 0;
}

int reader_list(struct reader *r, void *parent, const char *path, reader_item_fn item)
{
	char ipath[160];
	yaml_event_t *ev = reader_peek(r);
	size_t index = 0;

	if (!ev)
		return -1;
	if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (ev->data.scalar.length == 0 || !strcmp((char *)ev->data.scalar.value, "null") ||
	     !strcmp((char *)ev->data.scalar.value, "~"))) {
		reader_take(r);   /* "users:" with nothing after it: an empty list */
		return 0;
	}
	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		bulk_problem(r->rep, PBX_EINVALID, reader_pos(&ev->start_mark), path,
			     "expected a list, not %s", reader_kind(ev->type));
		return reader_skip(r);
	}
	reader_take(r);
	for (;;) {
		if (!(ev = reader_peek(r)))
			return -1;
		if (ev->type == YAML_SEQUENCE_END_EVENT) {
			reader_take(r);
			return 0;
		}
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, index);
		if (item(r, parent, index++, ipath) < 0)
			return -1;
	}
}

bool reader_init(struct reader *r, FILE *in, struct pbx_bulk_doc *doc, struct bulk_report *rep)
{
	*r = (struct reader){ .in = in, .doc = doc, .rep = rep };
	if (!yaml_parser_initialize(&r->p))
		return false;
	yaml_parser_set_input(&r->p, read_handler, r);
	return true;
}

void reader_done(struct reader *r)
{
	reader_take(r);
	yaml_parser_delete(&r->p);
}
