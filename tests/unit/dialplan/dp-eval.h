/* SPDX-License-Identifier: MIT */
/*
 * A small evaluator of generated dialplan, for the tests that must show what a call does:
 * it loads the text, then runs one call from a context and extension the way pbx_config and
 * the applications used would (Set, GotoIf, ExecIf, Goto, Gosub, Return, Read, UserEvent,
 * Playback, Dial, VoiceMail, VoiceMailMain, Busy, Hangup, NoOp), expanding ${VAR},
 * ${VAR:offset:length}, $[expression] and the functions DB, DB_EXISTS, REGEX, SHA1, LEN,
 * IF, CHANNEL(endpoint) and EXTEN. AstDB is an in-memory table the test fills and reads.
 * Only what the generators emit is supported; anything else fails the test.
 */
#ifndef DP_EVAL_H
#define DP_EVAL_H

#include <stddef.h>

#define DPE_MAX 256

struct dpe_db {
	char key[DPE_MAX][128];    /* "family/key" */
	char val[DPE_MAX][128];
	size_t n;
};

struct dpe_call {
	const char *endpoint;      /* ${CHANNEL(endpoint)} */
	const char *input[8];      /* what Read() gets, in order */
	const char *dialstatus;    /* after Dial; NULL: NOANSWER */
	const char *vars[4];       /* "NAME=value" set on the channel before the call */
	/* what the call did, one line per application that matters, e.g.
	 * "Dial(PJSIP/acme-b,20)", "VoiceMail(1001@acme,b)", "UserEvent(...)", "Hangup" */
	char trace[64][256];
	size_t n_trace;
};

/* Run a call to @exten in @context of @text against @db; returns the number of steps. */
int dpe_run(const char *text, const char *context, const char *exten, struct dpe_db *db,
	    struct dpe_call *call);

/* AstDB helpers. */
void dpe_db_put(struct dpe_db *db, const char *key, const char *val);
const char *dpe_db_get(const struct dpe_db *db, const char *key);

/* Index of the first trace line starting with @prefix, or -1. */
int dpe_find(const struct dpe_call *call, const char *prefix);

#endif
