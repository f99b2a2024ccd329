/* SPDX-License-Identifier: MIT */
/*
 * The line emitter behind both generators. It appends checked lines to a growing buffer
 * and keeps, for every "[context]" it opens, the counts Asterisk reports through
 * ShowDialPlan: ListExtensions is the number of distinct extension names (patterns and
 * the special i, s, h, t included), ListPriorities the number of priority lines ("same =>
 * n(label)" is one priority, "include =>" is none). apply compares these with what a
 * reloaded Asterisk reports, so they are counted from the very lines written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan.h"

#include "dialplan-internal.h"

void dp_out_init(struct dp_out *o, pbx_error *err)
{
	*o = (struct dp_out){ .err = err };
}

static void fail(struct dp_out *o, int code, const char *what)
{
	if (!o->r)
		o->r = pbx_errorf(o->err, code, NULL, NULL, "dialplan generator: %s", what);
}

static void *grow(struct dp_out *o, void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	q = realloc(p, c * size);
	if (!q) {
		fail(o, PBX_ERROR, "out of memory");
		return NULL;
	}
	*cap = c;
	return q;
}

static void append(struct dp_out *o, const char *s, size_t n)
{
	char *t;

	if (o->r)
		return;
	t = grow(o, o->text, &o->cap, o->len + n + 1, 1);
	if (!t)
		return;
	o->text = t;
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

/*
 * Format into @buf (DP_LINE_MAX + 1 bytes) and refuse what could change the line
 * structure: any control character, and overlong lines. Returns the length or -1.
 */
static int vformat(struct dp_out *o, char *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int vformat(struct dp_out *o, char *buf, const char *fmt, va_list ap)
{
	int n;

	if (o->r)
		return -1;
	n = vsnprintf(buf, DP_LINE_MAX + 1, fmt, ap);
	if (n < 0 || n > DP_LINE_MAX) {
		fail(o, PBX_ERROR, "a generated line is too long");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 || c == 0x7f) {
			fail(o, PBX_ERROR, "a generated line holds a control character");
			return -1;
		}
	}
	return n;
}

static void put_line(struct dp_out *o, const char *line, int n)
{
	append(o, line, (size_t)n);
	append(o, "\n", 1);
}

void dp_blank(struct dp_out *o)
{
	append(o, "\n", 1);
}

void dp_comment(struct dp_out *o, const char *fmt, ...)
{
	char buf[DP_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vformat(o, buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	append(o, "; ", 2);
	put_line(o, buf, n);
}

void dp_raw(struct dp_out *o, const char *fmt, ...)
{
	char buf[DP_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vformat(o, buf, fmt, ap);
	va_end(ap);
	if (n >= 0)
		put_line(o, buf, n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Finish the current context: count its distinct extension names. */
static void close_context(struct dp_out *o)
{
	size_t distinct = 0;

	if (o->n_ctx == 0)
		return;
	if (o->n_names)
		qsort(o->names, o->n_names, sizeof(*o->names), cmp_str);
	for (size_t i = 0; i < o->n_names; i++)
		if (i == 0 || strcmp(o->names[i - 1], o->names[i]))
			distinct++;
	for (size_t i = 0; i < o->n_names; i++)
		free(o->names[i]);
	o->n_names = 0;
	o->ctx[o->n_ctx - 1].extensions = distinct;
	o->have_exten = false;
}

static bool context_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

void dp_context(struct dp_out *o, const char *name)
{
	struct pbx_dp_context_count *c;
	size_t n = strlen(name);

	if (o->r)
		return;
	for (size_t i = 0; i < n; i++)
		if (!context_char(name[i]))
			n = 0;
	if (n == 0 || n >= PBX_DP_CONTEXT_MAX) {
		fail(o, PBX_ERROR, "invalid context name");
		return;
	}
	close_context(o);
	c = grow(o, o->ctx, &o->cap_ctx, o->n_ctx + 1, sizeof(*o->ctx));
	if (!c)
		return;
	o->ctx = c;
	c[o->n_ctx] = (struct pbx_dp_context_count){ .name = strdup(name) };
	if (!c[o->n_ctx].name) {
		fail(o, PBX_ERROR, "out of memory");
		return;
	}
	o->n_ctx++;
	if (o->len)
		dp_blank(o);
	append(o, "[", 1);
	append(o, name, n);
	append(o, "]\n", 2);
}

/* Extension names are ours: digits, patterns (_X. _*X.), *97, i, s, version, +E.164. */
static bool exten_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '*' || c == '+' || c == '.' || c == '!';
}

/* The app part of a priority: "Name(args)" with no ';' anywhere. */
static bool app_ok(const char *app, int n)
{
	const char *paren = strchr(app, '(');

	return n > 2 && paren && paren > app && app[n - 1] == ')' && !strchr(app, ';');
}

static void priority(struct dp_out *o, const char *exten, const char *label,
		     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void priority(struct dp_out *o, const char *exten, const char *label,
		     const char *fmt, va_list ap)
{
	char app[DP_LINE_MAX + 1], line[DP_LINE_MAX + 1];
	int n = vformat(o, app, fmt, ap);

	if (n < 0)
		return;
	if (!app_ok(app, n) || o->n_ctx == 0) {
		fail(o, PBX_ERROR, "malformed priority");
		return;
	}
	if (exten) {
		char **names;
		size_t len = strlen(exten);

		for (size_t i = 0; i < len; i++)
			if (!exten_char(exten[i]))
				len = 0;
		if (len == 0) {
			fail(o, PBX_ERROR, "invalid extension name");
			return;
		}
		n = snprintf(line, sizeof(line), "exten => %s,1,%s", exten, app);
		names = grow(o, o->names, &o->cap_names, o->n_names + 1, sizeof(*o->names));
		if (!names)
			return;
		o->names = names;
		if (!(o->names[o->n_names] = strdup(exten))) {
			fail(o, PBX_ERROR, "out of memory");
			return;
		}
		o->n_names++;
		o->have_exten = true;
	} else if (!o->have_exten) {
		fail(o, PBX_ERROR, "\"same\" without an extension");
		return;
	} else if (label) {
		n = snprintf(line, sizeof(line), "same => n(%s),%s", label, app);
	} else {
		n = snprintf(line, sizeof(line), "same => n,%s", app);
	}
	if (n < 0 || n > DP_LINE_MAX) {
		fail(o, PBX_ERROR, "a generated line is too long");
		return;
	}
	o->ctx[o->n_ctx - 1].priorities++;
	put_line(o, line, n);
}

void dp_exten(struct dp_out *o, const char *exten, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	priority(o, exten, NULL, fmt, ap);
	va_end(ap);
}

void dp_same(struct dp_out *o, const char *label, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	priority(o, NULL, label, fmt, ap);
	va_end(ap);
}

static void discard(struct dp_out *o)
{
	for (size_t i = 0; i < o->n_names; i++)
		free(o->names[i]);
	for (size_t i = 0; i < o->n_ctx; i++)
		free(o->ctx[i].name);
	free(o->names);
	free(o->ctx);
	free(o->text);
	*o = (struct dp_out){ .err = o->err, .r = o->r };
}

int dp_out_finish(struct dp_out *o, const char *name, struct pbx_dp_file *ret)
{
	char *fname;
	int r;

	close_context(o);
	if (!o->r && !o->text)
		append(o, "", 0);
	fname = o->r ? NULL : strdup(name);
	if (!o->r && !fname)
		fail(o, PBX_ERROR, "out of memory");
	if (o->r) {
		r = o->r;
		free(fname);
		discard(o);
		return r;
	}
	free(o->names);
	*ret = (struct pbx_dp_file){
		.name = fname,
		.text = o->text,
		.contexts = o->ctx,
		.n_contexts = o->n_ctx,
	};
	*o = (struct dp_out){ .err = o->err };
	return 0;
}

void pbx_dp_file_free(struct pbx_dp_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_contexts; i++)
		free(f->contexts[i].name);
	free(f->contexts);
	free(f->text);
	free(f->name);
	*f = (struct pbx_dp_file)PBX_DP_FILE_INIT;
}
