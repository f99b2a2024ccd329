/* SPDX-License-Identifier: MIT */
/*
 * From a policy rule's regular expression to the Asterisk extension patterns that match
 * exactly the same dialable numbers ([0-9]{2,20} or +[0-9]{2,20}, the only numbers the
 * outbound context lets through), or to nothing when no exact form exists; the generator
 * then tests the rule with REGEX() instead. The subset understood: one or more top-level
 * branches each starting with ^ and optionally ending with $ (without $ anything may
 * follow), digits, [...] and [^...] of digits and +, ., groups (a|b) with bounded
 * quantifiers ? {n} {n,m}, and *, + or {n,} on a digit class as the very last item. The
 * expansion is a set of "shapes" (a class per position, optionally followed by "one or
 * more of anything", Asterisk's '.'); classes become literals, X (0-9), Z (1-9) or N (2-9),
 * and any other class is spelled out digit by digit. More than PT_MAX_SHAPES patterns, or
 * anything else, means "no exact form".
 */
#include <stdlib.h>
#include <string.h>

#include "pbx/dialplan-routes.h"

#include "pattern.h"

#define PT_MAX_POS 24
#define PT_MAX_SHAPES 32
#define M_DIGITS 0x3ffu
#define M_PLUS 0x400u

struct shape {
	unsigned short m[PT_MAX_POS];
	unsigned char len;
	bool tail;            /* followed by one or more of anything */
};

struct set {
	struct shape s[PT_MAX_SHAPES];
	size_t n;
};

struct parser {
	const char *p;
	bool fail;
};

static void set_add(struct parser *ps, struct set *to, const struct shape *sh)
{
	for (size_t i = 0; i < to->n; i++)
		if (to->s[i].len == sh->len && to->s[i].tail == sh->tail &&
		    !memcmp(to->s[i].m, sh->m, sh->len * sizeof(sh->m[0])))
			return;
	if (to->n == PT_MAX_SHAPES) {
		ps->fail = true;
		return;
	}
	to->s[to->n++] = *sh;
}

/* @a followed by @b; a shape with a tail cannot be followed by anything. */
static void concat(struct parser *ps, const struct set *a, const struct set *b, struct set *out)
{
	out->n = 0;
	for (size_t i = 0; i < a->n && !ps->fail; i++)
		for (size_t j = 0; j < b->n && !ps->fail; j++) {
			struct shape sh = a->s[i];

			if ((sh.tail && (b->s[j].len || b->s[j].tail)) ||
			    sh.len + b->s[j].len > PT_MAX_POS) {
				ps->fail = true;
				return;
			}
			memcpy(sh.m + sh.len, b->s[j].m, b->s[j].len * sizeof(sh.m[0]));
			sh.len = (unsigned char)(sh.len + b->s[j].len);
			sh.tail = sh.tail || b->s[j].tail;
			set_add(ps, out, &sh);
		}
}

static void set_one_empty(struct set *s)
{
	s->n = 1;
	s->s[0] = (struct shape){ .len = 0 };
}

/* A bracket expression, the '[' already read. */
static unsigned bracket(struct parser *ps)
{
	unsigned m = 0;
	bool neg = false;

	if (*ps->p == '^') {
		neg = true;
		ps->p++;
	}
	if (*ps->p == ']') {
		ps->p++;    /* a literal ']' matches no dialable character */
		if (ps->p[0] == '-' && ps->p[1] != ']') {
			ps->fail = true;    /* a range from ']': see below */
			return 0;
		}
	}
	while (*ps->p && *ps->p != ']') {
		char c = *ps->p++;

		/*
		 * A '-' between two characters is a range in POSIX, whatever they are: "5-^"
		 * holds 6-9 and "+-5" holds 0-5. Only ranges of digits are translated; any other
		 * has no exact form here (the generator uses REGEX() then).
		 */
		if (ps->p[0] == '-' && ps->p[1] && ps->p[1] != ']' &&
		    !(c >= '0' && c <= '9' && ps->p[1] >= '0' && ps->p[1] <= '9')) {
			ps->fail = true;
			return 0;
		}
		if (c >= '0' && c <= '9' && ps->p[0] == '-' && ps->p[1] >= '0' && ps->p[1] <= '9') {
			char hi = ps->p[1];

			if (hi < c) {
				ps->fail = true;
				return 0;
			}
			for (char d = c; d <= hi; d++)
				m |= 1u << (d - '0');
			ps->p += 2;
			if (ps->p[0] == '-' && ps->p[1] && ps->p[1] != ']') {
				ps->fail = true;    /* "1-5-7": regcomp refuses it */
				return 0;
			}
		} else if (c >= '0' && c <= '9') {
			m |= 1u << (c - '0');
		} else if (c == '+') {
			m |= M_PLUS;
		} else if (c == '-' || c == '*' || c == '.' || c == '$' || c == '^' || c == '|' ||
			   c == '?' || c == '(' || c == ')' || c == '{' || c == '}' || c == ',') {
			/* literal characters no dialable number holds */
		} else {
			ps->fail = true;
			return 0;
		}
	}
	if (*ps->p != ']') {
		ps->fail = true;
		return 0;
	}
	ps->p++;
	return neg ? (M_DIGITS | M_PLUS) & ~m : m;
}

static int number(struct parser *ps)
{
	int v = 0, k = 0;

	while (*ps->p >= '0' && *ps->p <= '9' && k < 3) {
		v = v * 10 + (*ps->p++ - '0');
		k++;
	}
	if (k == 0 || (*ps->p >= '0' && *ps->p <= '9'))
		ps->fail = true;
	return v;
}

static void alternation(struct parser *ps, int depth, struct set *out);

/* Whether every shape of @s is at least one position long. */
static bool past_first(const struct set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->s[i].len == 0)
			return false;
	return s->n > 0;
}

/*
 * One sequence of items, up to '|', ')', '$' or the end. An unbounded quantifier is
 * accepted only at depth 0 on a class holding every digit, as the last item.
 */
static void sequence(struct parser *ps, int depth, struct set *out)
{
	struct set *cur = malloc(sizeof(*cur)), *atom = malloc(sizeof(*atom)),
		   *acc = malloc(sizeof(*acc)), *pow = malloc(sizeof(*pow)), *tmp = malloc(sizeof(*tmp));

	if (!cur || !atom || !acc || !pow || !tmp) {
		ps->fail = true;
		goto done;
	}
	set_one_empty(cur);
	while (!ps->fail && *ps->p && *ps->p != '|' && *ps->p != ')' && *ps->p != '$') {
		char c = *ps->p++;
		unsigned m = 0;
		int lo = 1, hi = 1;
		bool single = true, unbounded = false;

		if (c >= '0' && c <= '9')
			m = 1u << (c - '0');
		else if (c == '.')
			m = M_DIGITS | M_PLUS;
		else if (c == '[')
			m = bracket(ps);
		else if (c == '(') {
			single = false;
			alternation(ps, depth + 1, atom);
			if (*ps->p != ')')
				ps->fail = true;
			else
				ps->p++;
		} else {
			ps->fail = true;   /* ^ in the middle, a quantifier with nothing before it */
		}
		if (ps->fail)
			break;
		if (single) {
			atom->n = 1;
			atom->s[0] = (struct shape){ .len = 1, .m = { (unsigned short)m } };
		}
		if (*ps->p == '?') {
			lo = 0;
			ps->p++;
		} else if (*ps->p == '*' || *ps->p == '+') {
			lo = *ps->p == '+';
			unbounded = true;
			ps->p++;
		} else if (*ps->p == '{') {
			ps->p++;
			lo = hi = number(ps);
			if (*ps->p == ',') {
				ps->p++;
				if (*ps->p == '}')
					unbounded = true;
				else
					hi = number(ps);
			}
			if (*ps->p != '}' || hi < lo || hi > 20 || (hi - lo) > 10)
				ps->fail = true;
			else
				ps->p++;
		}
		if (ps->fail)
			break;
		if (unbounded) {
			/* Only "every digit, any number of times" at the very end has a form: '.'. */
			if (depth > 0 || !single || (m & M_DIGITS) != M_DIGITS ||
			    (*ps->p && *ps->p != '$' && *ps->p != '|')) {
				ps->fail = true;
				break;
			}
			/* "lo or more": lo of them, or lo + 1 and then possibly one or more of
			 * anything, which on a dialable number past its first position is a digit */
			hi = lo + 1;
		}
		if (unbounded && past_first(cur)) {
			/* Past the first position every dialable character is a digit, so "lo or
			 * more digits" is lo - 1 digits and then one or more of anything. */
			set_one_empty(acc);
			for (int k = 1; k < lo && !ps->fail; k++) {
				concat(ps, acc, atom, tmp);
				*acc = *tmp;
			}
			if (lo == 0) {
				acc->n = 2;
				acc->s[1] = (struct shape){ .len = 0, .tail = true };
			} else {
				acc->s[0].tail = true;
			}
			concat(ps, cur, acc, tmp);
			*cur = *tmp;
			continue;
		}
		/* cur := cur × atom^k for k in lo..hi */
		set_one_empty(pow);
		acc->n = 0;
		for (int k = 0; k <= hi && !ps->fail; k++) {
			if (k >= lo) {
				for (size_t i = 0; i < pow->n; i++)
					set_add(ps, acc, &pow->s[i]);
				if (unbounded && k == hi)
					for (size_t i = 0; i < pow->n; i++) {
						struct shape t = pow->s[i];

						t.tail = true;
						set_add(ps, acc, &t);
					}
			}
			if (k < hi) {
				concat(ps, pow, atom, tmp);
				*pow = *tmp;
			}
		}
		concat(ps, cur, acc, tmp);
		*cur = *tmp;
	}
	*out = *cur;
done:
	free(cur);
	free(atom);
	free(acc);
	free(pow);
	free(tmp);
}

static void alternation(struct parser *ps, int depth, struct set *out)
{
	struct set *one = malloc(sizeof(*one));

	out->n = 0;
	if (!one) {
		ps->fail = true;
		return;
	}
	for (;;) {
		sequence(ps, depth, one);
		if (ps->fail || *ps->p == '$')
			break;
		for (size_t i = 0; i < one->n; i++)
			set_add(ps, out, &one->s[i]);
		if (*ps->p != '|')
			break;
		ps->p++;
	}
	if (*ps->p == '$')
		ps->fail = true;   /* $ inside a group */
	free(one);
}

/* Append the spelling of @sh (position 0 holding exactly @first) to the output. */
struct out {
	char *buf;
	size_t size, len;
	int n;
	bool full;
};

static void render(struct out *o, const struct shape *sh, size_t pos, char *text, size_t tlen,
		   bool literal)
{
	if (o->full || o->n > PT_MAX_SHAPES)
		return;
	if (pos == sh->len) {
		size_t need;

		if (sh->tail)
			text[tlen++] = '.';
		text[tlen] = '\0';
		need = tlen + (literal && !sh->tail ? 0 : 1) + 1;
		if (o->len + need + 1 > o->size) {
			o->full = true;
			return;
		}
		if (!(literal && !sh->tail))
			o->buf[o->len++] = '_';
		memcpy(o->buf + o->len, text, tlen + 1);
		o->len += tlen + 1;
		o->buf[o->len] = '\0';
		o->n++;
		return;
	}
	{
		unsigned m = sh->m[pos];
		char c = 0;

		if (m == M_PLUS)
			c = '+';
		else if (m == M_DIGITS)
			c = 'X';
		else if (m == (M_DIGITS & ~1u))
			c = 'Z';
		else if (m == (M_DIGITS & ~3u))
			c = 'N';
		if (c) {
			text[tlen] = c;
			render(o, sh, pos + 1, text, tlen + 1, literal && c == '+');
			return;
		}
		for (int d = 0; d <= 9; d++)
			if (m & (1u << d)) {
				text[tlen] = (char)('0' + d);
				render(o, sh, pos + 1, text, tlen + 1, literal);
			}
	}
}

/* Keep @sh only where it can match a dialable number; split a mixed first position. */
static void normalise(struct parser *ps, const struct shape *in, struct set *out)
{
	for (int plus = 0; plus <= 1; plus++) {
		struct shape sh = *in;
		size_t min, max;

		if (sh.len == 0) {
			/* "anything": on dialable numbers, X. and +X. */
			if (!sh.tail)
				continue;
			sh.len = plus ? 2 : 1;
			sh.m[0] = plus ? M_PLUS : M_DIGITS;
			sh.m[1] = M_DIGITS;
		} else {
			sh.m[0] &= plus ? M_PLUS : M_DIGITS;
			if (!sh.m[0])
				continue;
			if (plus && sh.len == 1 && sh.tail) {
				sh.len = 2;    /* +. is +X. on dialable numbers */
				sh.m[1] = M_DIGITS;
			}
		}
		for (size_t i = 1; i < sh.len; i++)
			sh.m[i] &= M_DIGITS;
		min = plus ? 3 : 2;
		max = plus ? 21 : 20;
		{
			bool empty = false;

			for (size_t i = 0; i < sh.len; i++)
				empty = empty || !sh.m[i];
			if (empty)
				continue;
		}
		if (sh.tail ? (size_t)sh.len + 1 > max : (sh.len < min || sh.len > max))
			continue;
		set_add(ps, out, &sh);
	}
}

int pbx_dialplan_patterns(const char *pattern, char *buf, size_t bufsz)
{
	struct parser ps = { .p = pattern };
	struct set *all = calloc(1, sizeof(*all)), *branch = calloc(1, sizeof(*branch));
	struct out o = { .buf = buf, .size = bufsz };
	int r = 0;

	if (bufsz < 1)
		return -1;
	buf[0] = '\0';
	if (!all || !branch || !pattern)
		goto done;
	for (;;) {
		if (*ps.p != '^') {
			ps.fail = true;
			break;
		}
		ps.p++;
		sequence(&ps, 0, branch);
		if (ps.fail)
			break;
		if (*ps.p == '$') {
			ps.p++;
		} else {
			/* unanchored: anything may follow */
			for (size_t i = 0, n = branch->n; i < n; i++)
				if (!branch->s[i].tail) {
					struct shape t = branch->s[i];

					t.tail = true;
					set_add(&ps, branch, &t);
				}
		}
		for (size_t i = 0; i < branch->n; i++)
			normalise(&ps, &branch->s[i], all);
		if (ps.fail || *ps.p == '\0')
			break;
		if (*ps.p != '|') {
			ps.fail = true;
			break;
		}
		ps.p++;
	}
	if (ps.fail)
		goto done;
	for (size_t i = 0; i < all->n && !o.full && o.n <= PT_MAX_SHAPES; i++) {
		char text[PT_MAX_POS + 2];

		render(&o, &all->s[i], 0, text, 0, true);
	}
	if (o.full) {
		r = -1;
	} else if (o.n > PT_MAX_SHAPES) {
		r = 0;
	} else {
		r = routing_sort_patterns(buf);
	}
	if (r <= 0 && bufsz > 0)
		buf[0] = '\0';
done:
	free(all);
	free(branch);
	return r;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int routing_sort_patterns(char *buf)
{
	char *items[PT_MAX_SHAPES * 8], *copy;
	size_t n = 0, len = 0, k = 0;

	for (char *p = buf; *p && n < sizeof(items) / sizeof(items[0]); p += strlen(p) + 1)
		items[n++] = p;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(items[i]) + 1;
	if (!(copy = malloc(len + 1)))
		return 0;
	memcpy(copy, buf, len + 1);
	for (size_t i = 0; i < n; i++)
		items[i] = copy + (items[i] - buf);
	qsort(items, n, sizeof(items[0]), cmp_strp);
	len = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(items[i], items[i - 1]))
			continue;
		memcpy(buf + len, items[i], strlen(items[i]) + 1);
		len += strlen(items[i]) + 1;
		k++;
	}
	buf[len] = '\0';
	free(copy);
	return (int)k;
}

/* The class masks of an Asterisk pattern of ours; -1 when it is not one. */
static int masks_of(const char *p, unsigned short *m, bool *tail)
{
	int n = 0;

	*tail = false;
	if (*p == '_')
		p++;
	for (; *p; p++) {
		if (n == PT_MAX_POS)
			return -1;
		switch (*p) {
		case 'X': m[n++] = M_DIGITS; break;
		case 'Z': m[n++] = M_DIGITS & ~1u; break;
		case 'N': m[n++] = M_DIGITS & ~3u; break;
		case '+': m[n++] = M_PLUS; break;
		case '.':
			if (p[1])
				return -1;
			*tail = true;
			break;
		default:
			if (*p < '0' || *p > '9')
				return -1;
			m[n++] = (unsigned short)(1u << (*p - '0'));
		}
	}
	return n;
}

bool routing_patterns_disjoint(const char *a, const char *b)
{
	unsigned short ma[PT_MAX_POS], mb[PT_MAX_POS];
	bool ta, tb;
	int la = masks_of(a, ma, &ta), lb = masks_of(b, mb, &tb);

	if (la < 0 || lb < 0)
		return false;
	/* lengths: exactly l, or l + 1 and more with a tail */
	if (!ta && !tb && la != lb)
		return true;
	if (!ta && tb && la < lb + 1)
		return true;
	if (ta && !tb && lb < la + 1)
		return true;
	for (int i = 0; i < (la < lb ? la : lb); i++)
		if (!(ma[i] & mb[i]))
			return true;
	return false;
}
