/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the dialplan unit tests: golden-file comparison (rewritten with
 * PBXCTL_UPDATE_GOLDEN=1), a small parser that reads generated text the way Asterisk's
 * config loader and pbx_config do and counts contexts, extensions and priorities on its
 * own, and the tenant models the tests generate from.
 */
#ifndef DP_TEST_H
#define DP_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/dialplan.h"

/* Compare @text with golden/@name byte for byte, or rewrite the file when asked to. */
void dp_golden(const char *name, const char *text);

#define DP_PARSE_MAX_CTX 8

struct dp_parsed_ctx {
	char name[64];
	size_t extensions;    /* distinct names */
	size_t priorities;
};

struct dp_parsed {
	struct dp_parsed_ctx ctx[DP_PARSE_MAX_CTX];
	size_t n_ctx;
	size_t lines;         /* physical lines */
	size_t blank;         /* empty, or nothing left once the comment is cut */
	size_t comments;      /* lines that are only a comment */
	size_t headers;       /* [context] lines */
	size_t exten, same;   /* priority lines */
	size_t includes;      /* include => lines */
	size_t directives;    /* lines starting with '#' (#include, #exec) */
	size_t block_comments;/* ";--" anywhere: a block comment would swallow lines */
	size_t other;         /* anything else: Asterisk would ignore or misread it */
	size_t unknown_apps;  /* priorities whose application is not on the known list */
	size_t cut_priorities;/* priority lines that hold a ';' (part of them ignored) */
};

/* Parse @text; never fails (what it cannot classify counts as "other"). */
void dp_parse(const char *text, struct dp_parsed *p);

/* Assert that @f->contexts equal the counts @p found, in the same order. */
void dp_assert_counts(const struct pbx_dp_file *f, const struct dp_parsed *p);

/* Number of lines of @text that start with @prefix. */
size_t dp_count_prefix(const char *text, const char *prefix);

/* The normal tenant "acme" (users described in dp-test.c), suspended "globex", empty "initech". */
struct pbx_dp_tenant dp_fixture_acme(void);
struct pbx_dp_tenant dp_fixture_globex(void);
struct pbx_dp_tenant dp_fixture_initech(void);

/* A one-user tenant "acme" whose single user the caller may edit (static storage). */
struct pbx_dp_tenant dp_fixture_one(struct pbx_dp_user **user);

#endif
