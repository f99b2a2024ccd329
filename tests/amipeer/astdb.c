/* SPDX-License-Identifier: MIT */
/*
 * The peer's AstDB, as main/db.c keeps it: one table of full keys ("/family/key") and
 * values, looked up by key (astdb's primary key: a put, get or delete costs about the same
 * whatever the number of keys), and trees selected by whole path components ("key || '/'
 * LIKE prefix || '/%'") and listed in key order. Keys live in a hash table chained through
 * an array of entries; a deleted entry is unlinked and its slot reused by the next put.
 */
#include <stdlib.h>
#include <string.h>

#include "peer.h"

struct astdb_ent {
	char *key, *value;  /* key NULL: a free slot */
	size_t next;        /* next entry of the same bucket, or ASTDB_NONE */
};

#define ASTDB_NONE ((size_t)-1)

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static void rehash(struct astdb *db, size_t nb)
{
	free(db->buckets);
	db->buckets = xmalloc(nb * sizeof(*db->buckets));
	db->n_buckets = nb;
	for (size_t i = 0; i < nb; i++)
		db->buckets[i] = ASTDB_NONE;
	for (size_t i = 0; i < db->n; i++) {
		size_t b;

		if (!db->e[i].key)
			continue;
		b = hash(db->e[i].key) % nb;
		db->e[i].next = db->buckets[b];
		db->buckets[b] = i;
	}
}

/* The slot of @key's link: the bucket head or the previous entry's next. */
static size_t *find_link(struct astdb *db, const char *key)
{
	size_t *link;

	if (!db->n_buckets)
		return NULL;
	for (link = &db->buckets[hash(key) % db->n_buckets]; *link != ASTDB_NONE;
	     link = &db->e[*link].next)
		if (strcmp(db->e[*link].key, key) == 0)
			return link;
	return NULL;
}

const char *astdb_get(struct astdb *db, const char *key)
{
	size_t *link = find_link(db, key);

	return link ? db->e[*link].value : NULL;
}

void astdb_put(struct astdb *db, const char *key, const char *value)
{
	size_t *link = find_link(db, key), i, b;

	if (link) {
		free(db->e[*link].value);
		db->e[*link].value = xstrdup(value);
		return;
	}
	if (db->n_free) {
		i = db->free[--db->n_free];
	} else {
		if (db->n == db->cap) {
			db->cap = db->cap ? db->cap * 2 : 64;
			db->e = xrealloc(db->e, db->cap * sizeof(*db->e));
		}
		i = db->n++;
	}
	db->e[i] = (struct astdb_ent){ .key = xstrdup(key), .value = xstrdup(value) };
	db->count++;
	if (db->count * 2 > db->n_buckets) {
		rehash(db, db->n_buckets ? db->n_buckets * 4 : 256);
		return;
	}
	b = hash(key) % db->n_buckets;
	db->e[i].next = db->buckets[b];
	db->buckets[b] = i;
}

static void unlink_at(struct astdb *db, size_t *link)
{
	size_t i = *link;

	*link = db->e[i].next;
	free(db->e[i].key);
	free(db->e[i].value);
	db->e[i] = (struct astdb_ent){ .key = NULL, .next = ASTDB_NONE };
	db->free = xrealloc(db->free, (db->n_free + 1) * sizeof(*db->free));
	db->free[db->n_free++] = i;
	db->count--;
}

bool astdb_del(struct astdb *db, const char *key)
{
	size_t *link = find_link(db, key);

	if (!link)
		return false;
	unlink_at(db, link);
	return true;
}

/* Is @key in the tree @prefix ("" for every key)? Whole path components only. */
static bool in_tree(const char *key, const char *prefix, size_t plen)
{
	return !plen || (strncmp(key, prefix, plen) == 0 && (key[plen] == '/' || !key[plen]));
}

size_t astdb_deltree(struct astdb *db, const char *prefix)
{
	size_t plen = strlen(prefix), gone = 0;

	for (size_t i = 0; i < db->n; i++) {
		if (!db->e[i].key || !in_tree(db->e[i].key, prefix, plen))
			continue;
		unlink_at(db, find_link(db, db->e[i].key));
		gone++;
	}
	return gone;
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp((*(struct astdb_ent *const *)a)->key, (*(struct astdb_ent *const *)b)->key);
}

size_t astdb_tree(struct astdb *db, const char *prefix, const char ***ret_keys,
		  const char ***ret_values)
{
	size_t plen = strlen(prefix), n = 0;
	struct astdb_ent **hit = xmalloc((db->count + 1) * sizeof(*hit));
	const char **keys, **values;

	for (size_t i = 0; i < db->n; i++)
		if (db->e[i].key && in_tree(db->e[i].key, prefix, plen))
			hit[n++] = &db->e[i];
	qsort(hit, n, sizeof(*hit), cmp_ent);
	keys = xmalloc((n + 1) * sizeof(*keys));
	values = xmalloc((n + 1) * sizeof(*values));
	for (size_t i = 0; i < n; i++) {
		keys[i] = hit[i]->key;
		values[i] = hit[i]->value;
	}
	free(hit);
	*ret_keys = keys;
	*ret_values = values;
	return n;
}

void astdb_free(struct astdb *db)
{
	for (size_t i = 0; i < db->n; i++) {
		free(db->e[i].key);
		free(db->e[i].value);
	}
	free(db->e);
	free(db->buckets);
	free(db->free);
	*db = (struct astdb){ .e = NULL };
}
