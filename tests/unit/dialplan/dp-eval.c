/* SPDX-License-Identifier: MIT */
/*
 * The dialplan evaluator of dp-eval.h: a loader for generated text and an interpreter for
 * the applications, functions and expression operators the generators use.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dp-eval.h"

#define MAX_PRIOS 2048
#define STR 1024

struct prio {
	char ctx[64], ext[32], label[32], app[STR];
	int n;
};

struct plan {
	struct prio p[MAX_PRIOS];
	size_t n;
};

struct var {
	char name[32], value[STR];
};

struct state {
	const struct plan *pl;
	struct dpe_db *db;
	struct dpe_call *call;
	struct var vars[32];
	size_t n_vars;
	char ctx[64], ext[32], exten[64];
	int at;                    /* index into pl->p */
	int stack[8];
	char stack_ctx[8][64], stack_ext[8][32], stack_exten[8][64];
	int depth, inputs;
	bool done, jumped;
};

static void load(const char *text, struct plan *pl)
{
	char ctx[64] = "", ext[32] = "";
	int n = 0;

	pl->n = 0;
	for (const char *l = text; l && *l;) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		char line[STR + 128];

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		l = eol ? eol + 1 : NULL;
		if (line[0] == '[') {
			snprintf(ctx, sizeof(ctx), "%.*s", (int)(strchr(line, ']') - line - 1), line + 1);
			continue;
		}
		bool exten = !strncmp(line, "exten => ", 9), same = !strncmp(line, "same => ", 8);
		char *s, *comma;
		struct prio *p;

		if (!exten && !same)
			continue;
		cr_assert(lt(sz, pl->n, MAX_PRIOS));
		p = &pl->p[pl->n++];
		s = line + (exten ? 9 : 8);
		if (exten) {
			comma = strchr(s, ',');
			snprintf(ext, sizeof(ext), "%.*s", (int)(comma - s), s);
			s = comma + 1;
			n = 0;
		}
		comma = strchr(s, ',');
		cr_assert_not_null(comma, "no priority in %s", line);
		if (!strncmp(s, "n(", 2))
			snprintf(p->label, sizeof(p->label), "%.*s", (int)(strchr(s, ')') - s - 2), s + 2);
		else
			p->label[0] = '\0';
		p->n = ++n;
		snprintf(p->ctx, sizeof(p->ctx), "%s", ctx);
		snprintf(p->ext, sizeof(p->ext), "%s", ext);
		snprintf(p->app, sizeof(p->app), "%s", comma + 1);
	}
}

/* Does pattern or name @pat match dialled @s? */
static bool match(const char *pat, const char *s)
{
	if (pat[0] != '_')
		return !strcmp(pat, s);
	for (pat++; *pat; pat++, s++) {
		if (*pat == '.')
			return *s != '\0';
		if (*pat == '!')
			return true;
		if (!*s)
			return false;
		if ((*pat == 'X' && !isdigit((unsigned char)*s)) ||
		    (*pat == 'Z' && (*s < '1' || *s > '9')) ||
		    (*pat == 'N' && (*s < '2' || *s > '9')) ||
		    (!strchr("XZN", *pat) && *pat != *s))
			return false;
	}
	return *s == '\0';
}

static size_t literal_prefix(const char *pat)
{
	size_t n = 0;

	if (pat[0] != '_')
		return 1000;
	for (pat++; *pat && !strchr("XZN.![", *pat); pat++)
		n++;
	return n;
}

/* First priority of the extension of @ctx that @dialled reaches (exact wins), or -1. */
static int find_ext(const struct plan *pl, const char *ctx, const char *dialled)
{
	int best = -1;
	size_t score = 0;

	for (size_t i = 0; i < pl->n; i++) {
		const struct prio *p = &pl->p[i];

		if (p->n != 1 || strcmp(p->ctx, ctx) || !match(p->ext, dialled))
			continue;
		if (best < 0 || literal_prefix(p->ext) > score) {
			best = (int)i;
			score = literal_prefix(p->ext);
		}
	}
	return best;
}

static const char *get_var(struct state *st, const char *name)
{
	if (!strcmp(name, "EXTEN"))
		return st->exten;
	for (size_t i = 0; i < st->n_vars; i++)
		if (!strcmp(st->vars[i].name, name))
			return st->vars[i].value;
	return "";
}

static void set_var(struct state *st, const char *name, const char *value)
{
	for (size_t i = 0; i < st->n_vars; i++)
		if (!strcmp(st->vars[i].name, name)) {
			snprintf(st->vars[i].value, STR, "%s", value);
			return;
		}
	cr_assert(lt(sz, st->n_vars, 32));
	snprintf(st->vars[st->n_vars].name, 32, "%s", name);
	snprintf(st->vars[st->n_vars++].value, STR, "%s", value);
}

void dpe_db_put(struct dpe_db *db, const char *key, const char *val)
{
	for (size_t i = 0; i < db->n; i++)
		if (!strcmp(db->key[i], key)) {
			snprintf(db->val[i], sizeof(db->val[i]), "%s", val);
			return;
		}
	cr_assert(lt(sz, db->n, DPE_MAX));
	snprintf(db->key[db->n], sizeof(db->key[0]), "%s", key);
	snprintf(db->val[db->n++], sizeof(db->val[0]), "%s", val);
}

const char *dpe_db_get(const struct dpe_db *db, const char *key)
{
	for (size_t i = 0; i < db->n; i++)
		if (!strcmp(db->key[i], key))
			return db->val[i];
	return NULL;
}

static void expand(struct state *st, const char *in, char *out, size_t n);

/* ---- $[ ] expressions: | & (= != < > <= >=) (+ -) over strings and integers ---- */

struct toks {
	char t[32][STR];
	int n, i;
};

static void tokenize(const char *s, struct toks *tk)
{
	tk->n = tk->i = 0;
	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		cr_assert(lt(int, tk->n, 32));
		if (*s == '"') {
			const char *e = strchr(s + 1, '"');

			cr_assert_not_null(e);
			snprintf(tk->t[tk->n++], STR, "%.*s", (int)(e - s - 1), s + 1);
			s = e + 1;
		} else if (strchr("=<>!|&+-", *s)) {
			size_t k = (s[1] == '=' && strchr("<>!", *s)) ? 2 : 1;

			snprintf(tk->t[tk->n++], STR, "\x01%.*s", (int)k, s);
			s += k;
		} else {
			size_t k = strcspn(s, " \t\"=<>!|&+-");

			snprintf(tk->t[tk->n++], STR, "%.*s", (int)k, s);
			s += k;
		}
	}
}

static bool is_num(const char *s, long *v)
{
	char *end;

	if (!*s)
		return false;
	*v = strtol(s, &end, 10);
	return *end == '\0';
}

static bool truth(const char *s)
{
	long v;

	return *s && (!is_num(s, &v) || v != 0);
}

static void e_or(struct toks *tk, char *out);

static bool op(struct toks *tk, const char *o)
{
	if (tk->i < tk->n && tk->t[tk->i][0] == '\x01' && !strcmp(tk->t[tk->i] + 1, o)) {
		tk->i++;
		return true;
	}
	return false;
}

static void e_prim(struct toks *tk, char *out)
{
	cr_assert(lt(int, tk->i, tk->n), "expression ends early");
	snprintf(out, STR, "%s", tk->t[tk->i++]);
}

static void e_add(struct toks *tk, char *out)
{
	char r[STR];
	long a, b;

	e_prim(tk, out);
	for (;;) {
		bool plus = op(tk, "+");

		if (!plus && !op(tk, "-"))
			return;
		e_prim(tk, r);
		cr_assert(is_num(out, &a) && is_num(r, &b), "non-numeric %s %s", out, r);
		snprintf(out, STR, "%ld", plus ? a + b : a - b);
	}
}

static void e_cmp(struct toks *tk, char *out)
{
	static const char *const ops[] = { "=", "!=", "<", ">", "<=", ">=" };
	char r[STR];
	long a, b;

	e_add(tk, out);
	for (size_t k = 0; k < 6; k++) {
		if (!op(tk, ops[k]))
			continue;
		e_add(tk, r);
		int c = is_num(out, &a) && is_num(r, &b) ? (a > b) - (a < b) : strcmp(out, r);
		bool v = k == 0 ? c == 0 : k == 1 ? c != 0 : k == 2 ? c < 0 : k == 3 ? c > 0 :
			 k == 4 ? c <= 0 : c >= 0;

		snprintf(out, STR, "%d", v);
		return;
	}
}

static void e_and(struct toks *tk, char *out)
{
	char r[STR];

	e_cmp(tk, out);
	while (op(tk, "&")) {
		e_cmp(tk, r);
		snprintf(out, STR, "%d", truth(out) && truth(r));
	}
}

static void e_or(struct toks *tk, char *out)
{
	char r[STR];

	e_and(tk, out);
	while (op(tk, "|")) {
		e_and(tk, r);
		snprintf(out, STR, "%d", truth(out) || truth(r));
	}
}

/* ---- functions ---- */

static void sha1_hex(const char *s, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	cr_assert(EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL) == 1);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void function(struct state *st, const char *name, const char *arg, char *out)
{
	if (!strcmp(name, "DB")) {
		const char *v = dpe_db_get(st->db, arg);

		snprintf(out, STR, "%s", v ? v : "");
	} else if (!strcmp(name, "DB_EXISTS")) {
		snprintf(out, STR, "%d", dpe_db_get(st->db, arg) != NULL);
	} else if (!strcmp(name, "LEN")) {
		snprintf(out, STR, "%zu", strlen(arg));
	} else if (!strcmp(name, "SHA1")) {
		char h[41];

		sha1_hex(arg, h);
		snprintf(out, STR, "%s", h);
	} else if (!strcmp(name, "CHANNEL")) {
		cr_assert(eq(str, (char *)arg, "endpoint"));
		snprintf(out, STR, "%s", st->call->endpoint ? st->call->endpoint : "");
	} else if (!strcmp(name, "REGEX")) {
		const char *q = strchr(arg + 1, '"');
		char re[STR];
		regex_t rx;

		cr_assert(arg[0] == '"' && q, "REGEX(%s)", arg);
		snprintf(re, sizeof(re), "%.*s", (int)(q - arg - 1), arg + 1);
		cr_assert(eq(int, regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0), "%s", re);
		q++;
		while (*q == ' ')
			q++;
		snprintf(out, STR, "%d", regexec(&rx, q, 0, NULL, 0) == 0);
		regfree(&rx);
	} else if (!strcmp(name, "IF")) {
		const char *qm = strchr(arg, '?'), *colon = qm ? strchr(qm, ':') : NULL;
		char cond[STR];

		cr_assert(qm && colon, "IF(%s)", arg);
		snprintf(cond, sizeof(cond), "%.*s", (int)(qm - arg), arg);
		if (truth(cond))
			snprintf(out, STR, "%.*s", (int)(colon - qm - 1), qm + 1);
		else
			snprintf(out, STR, "%s", colon + 1);
	} else {
		cr_assert(0, "function %s is not known to the evaluator", name);
	}
}

/* ${...} once its inside is expanded: a function call or a variable with a substring. */
static void dollar_brace(struct state *st, const char *in, char *out)
{
	const char *paren = strchr(in, '(');
	const char *colon = strchr(in, ':');

	if (paren && (!colon || paren < colon) && in[strlen(in) - 1] == ')') {
		char name[32], arg[STR];

		snprintf(name, sizeof(name), "%.*s", (int)(paren - in), in);
		snprintf(arg, sizeof(arg), "%.*s", (int)(strlen(paren) - 2), paren + 1);
		function(st, name, arg, out);
		return;
	}
	if (colon) {
		char name[32];
		const char *v;
		long off = strtol(colon + 1, NULL, 10), len = -1;
		const char *c2 = strchr(colon + 1, ':');
		size_t vl;

		snprintf(name, sizeof(name), "%.*s", (int)(colon - in), in);
		v = get_var(st, name);
		vl = strlen(v);
		if (c2)
			len = strtol(c2 + 1, NULL, 10);
		if ((size_t)off > vl)
			off = (long)vl;
		snprintf(out, STR, "%.*s", (int)(len < 0 ? (long)vl - off : len), v + off);
		return;
	}
	snprintf(out, STR, "%s", get_var(st, in));
}

static void expand(struct state *st, const char *in, char *out, size_t n)
{
	size_t o = 0;

	while (*in && o + 1 < n) {
		if (in[0] == '$' && (in[1] == '{' || in[1] == '[')) {
			char open = in[1], close = open == '{' ? '}' : ']';
			const char *p = in + 2;
			int depth = 1;
			char inner[STR], done[STR], val[STR];

			/* As Asterisk counts: every open and close of the same kind. */
			for (; *p && depth; p++) {
				if (*p == open)
					depth++;
				else if (*p == close)
					depth--;
			}
			cr_assert(eq(int, depth, 0), "unbalanced %s", in);
			snprintf(inner, sizeof(inner), "%.*s", (int)(p - in - 3), in + 2);
			expand(st, inner, done, sizeof(done));
			if (open == '{') {
				dollar_brace(st, done, val);
			} else {
				struct toks tk;

				tokenize(done, &tk);
				e_or(&tk, val);
				cr_assert(eq(int, tk.i, tk.n), "expression not used up: %s", done);
			}
			o += (size_t)snprintf(out + o, n - o, "%s", val);
			in = p;
			continue;
		}
		out[o++] = *in++;
	}
	out[o] = '\0';
}

/* ---- applications ---- */

static void trace(struct dpe_call *c, const char *name, const char *args)
{
	cr_assert(lt(sz, c->n_trace, 64));
	if (args)
		snprintf(c->trace[c->n_trace++], sizeof(c->trace[0]), "%s(%s)", name, args);
	else
		snprintf(c->trace[c->n_trace++], sizeof(c->trace[0]), "%s", name);
}

static void enter(struct state *st, const char *ctx, const char *dialled)
{
	int i = find_ext(st->pl, ctx, dialled);

	cr_assert(ge(int, i, 0), "no extension %s in %s", dialled, ctx);
	snprintf(st->ctx, sizeof(st->ctx), "%s", ctx);
	snprintf(st->ext, sizeof(st->ext), "%s", st->pl->p[i].ext);
	snprintf(st->exten, sizeof(st->exten), "%s", dialled);
	st->at = i;
}

/* Jump to "label", "prio", "ext,label" or "ctx,ext,prio". */
static void jump(struct state *st, const char *target)
{
	char part[3][64] = { "", "", "" };
	int k = 0;
	const char *label;

	for (const char *s = target; k < 3; k++) {
		size_t len = strcspn(s, ",");

		snprintf(part[k], sizeof(part[k]), "%.*s", (int)len, s);
		if (!s[len]) {
			k++;
			break;
		}
		s += len + 1;
	}
	if (k == 3) {
		enter(st, part[0], part[1]);
	} else if (k == 2) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "%s", st->ctx);
		enter(st, ctx, part[0]);
	}
	label = part[k - 1];
	for (size_t i = 0; i < st->pl->n; i++) {
		const struct prio *p = &st->pl->p[i];

		if (strcmp(p->ctx, st->ctx) || strcmp(p->ext, st->ext))
			continue;
		if (!strcmp(p->label, label) || (isdigit((unsigned char)label[0]) && p->n == atoi(label))) {
			st->at = (int)i;
			st->jumped = true;
			return;
		}
	}
	cr_assert(0, "no priority %s in %s,%s", label, st->ctx, st->ext);
}

static void run_app(struct state *st, const char *app)
{
	const char *paren = strchr(app, '(');
	char name[32], raw[STR], args[STR];

	cr_assert_not_null(paren, "%s", app);
	snprintf(name, sizeof(name), "%.*s", (int)(paren - app), app);
	snprintf(raw, sizeof(raw), "%.*s", (int)(strlen(paren) - 2), paren + 1);
	expand(st, raw, args, sizeof(args));
	if (!strcmp(name, "Set")) {
		char *eq = strchr(args, '=');

		cr_assert_not_null(eq);
		*eq = '\0';
		if (!strncmp(args, "DB(", 3)) {
			args[strlen(args) - 1] = '\0';
			dpe_db_put(st->db, args + 3, eq + 1);
		} else {
			set_var(st, args, eq + 1);
		}
	} else if (!strcmp(name, "GotoIf")) {
		char *qm = strchr(args, '?'), *colon;

		cr_assert_not_null(qm);
		*qm++ = '\0';
		colon = strchr(qm, ':');
		if (colon)
			*colon++ = '\0';
		if (truth(args))
			jump(st, qm);
		else if (colon)
			jump(st, colon);
	} else if (!strcmp(name, "ExecIf")) {
		char *qm = strchr(args, '?');

		cr_assert_not_null(qm);
		*qm++ = '\0';
		if (truth(args))
			run_app(st, qm);
	} else if (!strcmp(name, "Goto")) {
		jump(st, args);
	} else if (!strcmp(name, "Gosub")) {
		cr_assert(lt(int, st->depth, 8));
		st->stack[st->depth] = st->at;
		snprintf(st->stack_ctx[st->depth], 64, "%s", st->ctx);
		snprintf(st->stack_ext[st->depth], 32, "%s", st->ext);
		snprintf(st->stack_exten[st->depth++], 64, "%s", st->exten);
		jump(st, args);
	} else if (!strcmp(name, "Return")) {
		cr_assert(gt(int, st->depth, 0));
		st->depth--;
		st->at = st->stack[st->depth] + 1;
		st->jumped = true;
		snprintf(st->ctx, 64, "%s", st->stack_ctx[st->depth]);
		snprintf(st->ext, 32, "%s", st->stack_ext[st->depth]);
		snprintf(st->exten, 64, "%s", st->stack_exten[st->depth]);
	} else if (!strcmp(name, "Read")) {
		char *c1 = strchr(args, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		const char *in = st->call->input[st->inputs] ? st->call->input[st->inputs++] : "";
		char val[64];

		cr_assert(c1 && c2);
		*c1 = '\0';
		snprintf(val, sizeof(val), "%.*s", atoi(c2 + 1), in);
		set_var(st, args, val);
		trace(st->call, "Read", val);
	} else if (!strcmp(name, "Dial")) {
		trace(st->call, "Dial", args);
		set_var(st, "DIALSTATUS", st->call->dialstatus ? st->call->dialstatus : "NOANSWER");
	} else if (!strcmp(name, "UserEvent") || !strcmp(name, "Playback")) {
		trace(st->call, name, args);
	} else if (!strcmp(name, "VoiceMail") || !strcmp(name, "VoiceMailMain") ||
		   !strcmp(name, "Busy") || !strcmp(name, "Hangup")) {
		trace(st->call, name, args);
		st->done = true;
	} else if (strcmp(name, "NoOp")) {
		cr_assert(0, "application %s is not known to the evaluator", name);
	}
}

int dpe_run(const char *text, const char *context, const char *exten, struct dpe_db *db,
	    struct dpe_call *call)
{
	struct plan *pl = calloc(1, sizeof(*pl));
	struct state *st = calloc(1, sizeof(*st));
	int steps = 0;

	cr_assert(pl && st);
	load(text, pl);
	*st = (struct state){ .pl = pl, .db = db, .call = call };
	call->n_trace = 0;
	for (size_t i = 0; i < 4 && call->vars[i]; i++) {
		const char *eq = strchr(call->vars[i], '=');
		char name[32];

		cr_assert_not_null(eq);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - call->vars[i]), call->vars[i]);
		set_var(st, name, eq + 1);
	}
	enter(st, context, exten);
	while (!st->done) {
		const struct prio *p = &pl->p[st->at];

		cr_assert(lt(int, ++steps, 2000), "the call does not end");
		run_app(st, p->app);
		if (st->done)
			break;
		if (st->jumped) {
			st->jumped = false;
			continue;
		}
		st->at++;
		if ((size_t)st->at >= pl->n || strcmp(pl->p[st->at].ctx, st->ctx) ||
		    strcmp(pl->p[st->at].ext, st->ext) || pl->p[st->at].n == 1) {
			trace(call, "fell off the end", NULL);
			break;
		}
	}
	free(pl);
	free(st);
	return steps;
}

int dpe_find(const struct dpe_call *call, const char *prefix)
{
	for (size_t i = 0; i < call->n_trace; i++)
		if (!strncmp(call->trace[i], prefix, strlen(prefix)))
			return (int)i;
	return -1;
}
