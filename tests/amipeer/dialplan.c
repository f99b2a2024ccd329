/* SPDX-License-Identifier: MIT */
/*
 * amipeer's dialplan: every *.conf of a directory read the way Asterisk's config parser and
 * pbx_config read extensions.conf. A context header without ']' is a parse error that drops
 * every context of its file (other files stay); a line without '=' is ignored; a line whose
 * priority is invalid is skipped; unknown applications are accepted. Extensions are kept in
 * Asterisk's order (plain names before patterns), priorities in numeric order.
 */
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "peer.h"

/* One "name = value" or "name => value" of a category, as the config parser produces it. */
struct var {
	char *name, *value;
	int line;
};

struct category {
	char *name;
	struct var *v;
	size_t n;
};

struct file {
	const char *base;   /* basename, as Asterisk shows it in [file:line] */
	struct category *cat;
	size_t n;
};

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Remove comments in place: ';' to the end of the line, ";--" ... "--;" blocks (which may
 * span lines and nest; *depth carries the nesting), and "\;" which is a literal ';'.
 */
static void strip_comments(char *s, int *depth)
{
	char *w = s;

	for (char *r = s; *r;) {
		if (*depth > 0) {
			if (r[0] == '-' && r[1] == '-' && r[2] == ';') {
				(*depth)--;
				r += 3;
			} else if (r[0] == ';' && r[1] == '-' && r[2] == '-' && r[3] != '-') {
				(*depth)++;
				r += 3;
			} else {
				r++;
			}
			continue;
		}
		if (r[0] == '\\' && r[1] == ';') {
			*w++ = ';';
			r += 2;
		} else if (r[0] == ';' && r[1] == '-' && r[2] == '-' && r[3] != '-') {
			(*depth)++;
			r += 3;
		} else if (r[0] == ';') {
			break;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static void free_file(struct file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		for (size_t j = 0; j < f->cat[i].n; j++) {
			free(f->cat[i].v[j].name);
			free(f->cat[i].v[j].value);
		}
		free(f->cat[i].v);
		free(f->cat[i].name);
	}
	free(f->cat);
	*f = (struct file){ 0 };
}

/* Parse one file; false when Asterisk would refuse the whole file. */
static bool parse_file(const char *path, struct file *f, FILE *warn, const char *skip)
{
	FILE *in = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, depth = 0;
	bool ok = true;

	if (!in) {
		fprintf(warn, "amipeer: cannot read %s\n", path);
		return false;
	}
	while (ok && getline(&line, &cap, in) >= 0) {
		struct category *c = f->n ? &f->cat[f->n - 1] : NULL;
		char *s, *eq, *end;

		lineno++;
		if (skip && *skip && strstr(line, skip)) {
			fprintf(warn, "amipeer: skip-line: line %d of %s skipped, as an invalid priority would be\n",
				lineno, path);
			continue;
		}
		strip_comments(line, &depth);
		s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			end = strchr(s, ']');
			if (!end) {
				fprintf(warn, "amipeer: parse error: no closing ']', line %d of %s\n",
					lineno, path);
				ok = false;
				break;
			}
			f->cat = xrealloc(f->cat, (f->n + 1) * sizeof(*f->cat));
			f->cat[f->n++] = (struct category){ .name = xstrndup(s + 1,
						(size_t)(end - s - 1)) };
			continue;
		}
		if (*s == '#') {
			fprintf(warn, "amipeer: %s:%d: directives are not supported, ignored\n",
				path, lineno);
			continue;
		}
		if (!c) {
			fprintf(warn, "amipeer: parse error: no category context for line %d of %s\n",
				lineno, path);
			ok = false;
			break;
		}
		eq = strchr(s, '=');
		if (!eq) {
			fprintf(warn, "amipeer: no '=' (equal sign) in line %d of %s\n", lineno, path);
			continue;
		}
		*eq = '\0';
		if (eq[1] == '>')
			eq++;
		c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
		c->v[c->n++] = (struct var){ .name = xstrdup(trim(s)),
					     .value = xstrdup(trim(eq + 1)), .line = lineno };
	}
	free(line);
	fclose(in);
	if (!ok)
		free_file(f);
	return ok;
}

/* ---- the model ---- */

static struct dp_context *find_or_create(struct dialplan *dp, const char *name)
{
	struct dp_context *c = dp_find(dp, name);

	if (c)
		return c;
	dp->ctx = xrealloc(dp->ctx, (dp->n + 1) * sizeof(*dp->ctx));
	c = &dp->ctx[dp->n++];
	*c = (struct dp_context){ .name = xstrdup(name) };
	return c;
}

struct dp_context *dp_find(const struct dialplan *dp, const char *name)
{
	for (size_t i = 0; i < dp->n; i++)
		if (strcmp(dp->ctx[i].name, name) == 0)
			return &dp->ctx[i];
	return NULL;
}

/* Asterisk ignores '-' when comparing plain extension names. */
static int cmp_exten(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-')
			a++;
		while (*b == '-')
			b++;
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
}

/* Plain names first, then patterns (ordered by text here, by specificity in Asterisk). */
static int ext_order(const char *a, const char *b)
{
	if ((a[0] == '_') != (b[0] == '_'))
		return a[0] == '_' ? 1 : -1;
	return a[0] == '_' ? strcmp(a, b) : cmp_exten(a, b);
}

static bool same_cid(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static struct dp_ext *find_ext(struct dp_context *c, const char *name, const char *cid)
{
	for (size_t i = 0; i < c->n_ext; i++)
		if (strcmp(c->ext[i].name, name) == 0 && same_cid(c->ext[i].cid, cid))
			return &c->ext[i];
	return NULL;
}

/* ast_add_extension2 without replace: a priority already in use is refused. */
static void add_prio(struct dp_context *c, const char *name, const char *cid,
		     struct dp_prio *np, FILE *warn)
{
	struct dp_ext *e = find_ext(c, name, cid);
	size_t at;

	if (!e) {
		size_t i = 0;

		while (i < c->n_ext && ext_order(c->ext[i].name, name) <= 0)
			i++;
		c->ext = xrealloc(c->ext, (c->n_ext + 1) * sizeof(*c->ext));
		memmove(c->ext + i + 1, c->ext + i, (c->n_ext - i) * sizeof(*c->ext));
		c->n_ext++;
		e = &c->ext[i];
		*e = (struct dp_ext){ .name = xstrdup(name), .cid = cid ? xstrdup(cid) : NULL };
	}
	for (at = 0; at < e->n && e->p[at].prio <= np->prio; at++) {
		if (e->p[at].prio == np->prio) {
			fprintf(warn, "amipeer: unable to register extension '%s' priority %d in "
				"'%s', already in use\n", name, np->prio, c->name);
			free(np->label);
			free(np->app);
			free(np->data);
			free(np->file);
			return;
		}
	}
	e->p = xrealloc(e->p, (e->n + 1) * sizeof(*e->p));
	memmove(e->p + at + 1, e->p + at, (e->n - at) * sizeof(*e->p));
	e->p[at] = *np;
	e->n++;
}

static int find_label(struct dp_context *c, const char *ext, const char *cid, const char *label)
{
	struct dp_ext *e = find_ext(c, ext, cid);

	for (size_t i = 0; e && i < e->n; i++)
		if (e->p[i].label && strcmp(e->p[i].label, label) == 0)
			return e->p[i].prio;
	return -1;
}

struct cont {
	char ext[256];
	int lastpri;   /* -2: none yet in this category */
};

/* One "exten =>" (or "same =>", with @realext from the previous line) of pbx_config. */
static void add_exten(struct dp_context *c, struct cont *k, bool same, const struct var *v,
		      const char *file, FILE *warn)
{
	char *tc = xstrdup(v->value), *sp = tc, *ext, *cid, *pri, *label = NULL, *plus, *appl,
	     *data, *fc, *fp, empty[1] = "";
	struct dp_prio np;
	int ipri;

	if (same) {
		if (!k->ext[0]) {
			fprintf(warn, "amipeer: no previous extension for 'same' at line %d of %s\n",
				v->line, file);
			goto done;
		}
		ext = k->ext;
	} else {
		ext = trim(strsep(&sp, ","));
		snprintf(k->ext, sizeof(k->ext), "%s", ext);
		ext = k->ext;
	}
	ext = xstrdup(ext);
	cid = strchr(ext, '/');
	if (cid)
		*cid++ = '\0';
	pri = trim(sp ? strsep(&sp, ",") : empty);
	if ((label = strchr(pri, '('))) {
		char *end;

		*label++ = '\0';
		if (!(end = strchr(label, ')'))) {
			fprintf(warn, "amipeer: label missing trailing ')' at line %d of %s\n",
				v->line, file);
			goto done_ext;
		}
		*end = '\0';
	}
	if ((plus = strchr(pri, '+')))
		*plus++ = '\0';
	if (strcmp(pri, "hint") == 0) {
		ipri = PRIO_HINT;
	} else if (strcmp(pri, "next") == 0 || strcmp(pri, "n") == 0 ||
		   strcmp(pri, "same") == 0 || strcmp(pri, "s") == 0) {
		if (k->lastpri <= -2) {
			fprintf(warn, "amipeer: can't use '%s' priority on the first entry at line "
				"%d of %s\n", pri, v->line, file);
			goto done_ext;
		}
		ipri = pri[0] == 'n' ? k->lastpri + 1 : k->lastpri;
	} else if (sscanf(pri, "%30d", &ipri) != 1 &&
		   (ipri = find_label(c, ext, cid, pri)) < 1) {
		fprintf(warn, "amipeer: invalid priority/label '%s' at line %d of %s\n", pri,
			v->line, file);
		goto done_ext;
	} else if (ipri < 1) {
		fprintf(warn, "amipeer: invalid priority '%s' at line %d of %s\n", pri, v->line,
			file);
		goto done_ext;
	}
	if (plus)
		ipri += atoi(plus);
	k->lastpri = ipri;

	appl = sp ? sp : empty;
	fc = strchr(appl, ',');
	fp = strchr(appl, '(');
	if (fc && (!fp || fc < fp)) {
		*fc = '\0';
		data = fc + 1;
	} else if (!fc && !fp) {
		data = empty;
	} else {
		char *end;

		*fp = '\0';
		data = fp + 1;
		if ((end = strrchr(data, ')')))
			*end = '\0';
		else
			fprintf(warn, "amipeer: no closing parenthesis found at line %d of %s\n",
				v->line, file);
	}
	np = (struct dp_prio){
		.prio = ipri, .label = label && *label ? xstrdup(label) : NULL,
		.app = xstrdup(trim(appl)), .data = xstrdup(data), .file = xstrdup(file),
		.line = v->line,
	};
	add_prio(c, ext, cid, &np, warn);
done_ext:
	free(ext);
done:
	free(tc);
}

static void load_category(struct dialplan *dp, const struct category *cat, const char *file,
			  FILE *warn)
{
	struct cont k = { .lastpri = -2 };
	struct dp_context *c;

	if (strcasecmp(cat->name, "general") == 0 || strcasecmp(cat->name, "globals") == 0)
		return;
	c = find_or_create(dp, cat->name);
	for (size_t i = 0; i < cat->n; i++) {
		const struct var *v = &cat->v[i];

		if (strcasecmp(v->name, "exten") == 0 || strcasecmp(v->name, "same") == 0) {
			add_exten(c, &k, strcasecmp(v->name, "same") == 0, v, file, warn);
		} else if (strcasecmp(v->name, "include") == 0) {
			bool dup = false;

			for (size_t j = 0; j < c->n_inc; j++)
				dup = dup || strcmp(c->inc[j], v->value) == 0;
			if (dup)
				continue;
			c->inc = xrealloc(c->inc, (c->n_inc + 1) * sizeof(*c->inc));
			c->inc[c->n_inc++] = xstrdup(v->value);
		} else if (strcasecmp(v->name, "ignorepat") != 0 &&
			   strcasecmp(v->name, "switch") != 0 &&
			   strcasecmp(v->name, "eswitch") != 0 &&
			   strcasecmp(v->name, "lswitch") != 0) {
			fprintf(warn, "amipeer: unknown directive '%s' at line %d of %s, ignored\n",
				v->name, v->line, file);
		}
	}
}

void dp_load_dir(const char *dir, struct dialplan *ret, FILE *warn, const char *skip_line)
{
	struct dialplan dp = { 0 };
	char *pattern = NULL;
	glob_t g = { 0 };

	if (asprintf(&pattern, "%s/*.conf", dir) < 0) {
		fprintf(stderr, "amipeer: out of memory\n");
		exit(1);
	}
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct file f = { 0 };
			const char *base = strrchr(g.gl_pathv[i], '/');

			f.base = base ? base + 1 : g.gl_pathv[i];
			if (!parse_file(g.gl_pathv[i], &f, warn, skip_line))
				continue;   /* the whole file is lost, as in Asterisk */
			for (size_t j = 0; j < f.n; j++)
				load_category(&dp, &f.cat[j], f.base, warn);
			free_file(&f);
		}
	}
	globfree(&g);
	free(pattern);
	*ret = dp;
}

void dp_free(struct dialplan *dp)
{
	for (size_t i = 0; i < dp->n; i++) {
		struct dp_context *c = &dp->ctx[i];

		for (size_t j = 0; j < c->n_ext; j++) {
			for (size_t k = 0; k < c->ext[j].n; k++) {
				free(c->ext[j].p[k].label);
				free(c->ext[j].p[k].app);
				free(c->ext[j].p[k].data);
				free(c->ext[j].p[k].file);
			}
			free(c->ext[j].p);
			free(c->ext[j].name);
			free(c->ext[j].cid);
		}
		free(c->ext);
		for (size_t j = 0; j < c->n_inc; j++)
			free(c->inc[j]);
		free(c->inc);
		free(c->name);
	}
	free(dp->ctx);
	*dp = (struct dialplan){ 0 };
}

/* ---- matching (ast_extension_match, E_MATCH) ---- */

static bool match_pattern(const char *p, const char *d)
{
	for (; *p; p++) {
		while (*d == '-')
			d++;
		switch (*p) {
		case '-':
			continue;
		case '.':
			return *d != '\0';
		case '!':
			return true;
		case 'X': case 'x':
			if (!isdigit((unsigned char)*d))
				return false;
			break;
		case 'Z': case 'z':
			if (*d < '1' || *d > '9')
				return false;
			break;
		case 'N': case 'n':
			if (*d < '2' || *d > '9')
				return false;
			break;
		case '[': {
			const char *end = strchr(p, ']');
			bool hit = false;

			if (!end || !*d)
				return false;
			for (const char *q = p + 1; q < end; q++) {
				if (q + 2 < end && q[1] == '-') {
					hit = hit || (*d >= q[0] && *d <= q[2]);
					q += 2;
				} else {
					hit = hit || *d == *q;
				}
			}
			if (!hit)
				return false;
			p = end;
			break;
		}
		default:
			if (*p != *d)
				return false;
		}
		d++;
	}
	while (*d == '-')
		d++;
	return *d == '\0';
}

bool dp_ext_match(const char *pattern, const char *data)
{
	if (pattern[0] != '_')
		return cmp_exten(pattern, data) == 0;
	return match_pattern(pattern + 1, data);
}
