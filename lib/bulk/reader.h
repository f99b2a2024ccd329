/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/bulk: the guarded libyaml event reader (reader.c) under the import grammar
 * (parse.c). The reader refuses what a hostile file could use against the parser and
 * offers the pieces a grammar is made of: a scalar, a list of scalars, the keys of a
 * mapping, an object read against its entity schema, a list of objects.
 */
#ifndef PBX_BULK_READER_H
#define PBX_BULK_READER_H

#include <stdbool.h>
#include <stdio.h>
#include <yaml.h>

#include "bulk-internal.h"

enum reader_why { WHY_NONE, WHY_TOO_BIG, WHY_GAP, WHY_IO };

struct reader {
	yaml_parser_t p;
	yaml_event_t ev;
	bool have;               /* ev holds an event not yet consumed */
	bool fatal;
	enum reader_why why;
	FILE *in;
	size_t total;            /* bytes read */
	size_t last_end;         /* where the last event ended (libyaml mark index) */
	int depth;
	size_t objects;          /* objects so far */
	struct bulk_report *rep;
	struct pbx_bulk_doc *doc;
	bool oom;
};

/* Set up @r over @in; false when out of memory. reader_done releases it. */
bool reader_init(struct reader *r, FILE *in, struct pbx_bulk_doc *doc, struct bulk_report *rep);
void reader_done(struct reader *r);

struct bulk_pos reader_pos(const yaml_mark_t *m);

/* The next event (checked for anchors, tags, depth), or NULL after a fatal problem. */
yaml_event_t *reader_peek(struct reader *r);
void reader_take(struct reader *r);
/* Consume one whole node; -1 when fatal. */
int reader_skip(struct reader *r);
/* Stop reading with @msg at @pos (listed past the problem cap too). */
void reader_fatal(struct reader *r, struct bulk_pos pos, const char *msg);
/* "a list", "a mapping", ... for messages. */
const char *reader_kind(yaml_event_type_t t);

/* A scalar into the arena: 1 (NULL for a plain null), 0 refused (reported), -1 fatal. */
int reader_scalar(struct reader *r, const char *path, const char **ret, struct bulk_pos *pos);
/* The next key of a mapping: 1 a key, 0 the end, 2 not a usable key (skip it), -1 fatal. */
int reader_key(struct reader *r, const char *path, char key[64], struct bulk_pos *pos);

/* Count one more object; false (fatal, reported) beyond PBX_BULK_MAX_OBJECTS. */
bool reader_one_more(struct reader *r, struct bulk_pos pos);

/* Grow a vector of @size-byte elements by one zeroed element; NULL when out of memory. */
void *reader_push(void **vec, size_t *n, size_t *cap, size_t size);

/* Set up @o for @schema at @pos; -1 (fatal) when out of memory. */
int reader_obj_init(struct reader *r, struct bulk_obj *o, const struct pbx_schema *schema,
		    struct bulk_pos pos);

/*
 * Read a mapping into @o: keys of its schema go to fields, READONLY keys are ignored;
 * the keys in @children (NULL-terminated, may be NULL) and the schema's write-only key
 * (pin of a user, secret of a device or trunk) call @on_child, which consumes the value.
 */
typedef int (*reader_child_fn)(struct reader *r, void *obj, const char *key,
			       struct bulk_pos pos, const char *path);
int reader_object(struct reader *r, struct bulk_obj *o, void *obj, const char *const *children,
		  reader_child_fn on_child, const char *path);

/* A list value (plain null or nothing: empty); @item reads each element. */
typedef int (*reader_item_fn)(struct reader *r, void *parent, size_t index, const char *path);
int reader_list(struct reader *r, void *parent, const char *path, reader_item_fn item);

#endif
