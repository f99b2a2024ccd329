/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the dialplan tests. The parser is written independently of the
 * generator's emitter: it cuts comments the way Asterisk's config loader does (at the
 * first ';' not preceded by '\'), strips blanks, classifies each line, and counts
 * distinct extension names and priority lines per context as ShowDialPlan reports them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dp-test.h"

#ifndef DP_GOLDEN_DIR
#error "DP_GOLDEN_DIR must be defined by the build"
#endif

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

void dp_golden(const char *name, const char *text)
{
	char path[4096];
	const char *update = getenv("PBXCTL_UPDATE_GOLDEN");
	size_t len = 0, line = 1, i;
	char *want;

	snprintf(path, sizeof(path), "%s/%s", DP_GOLDEN_DIR, name);
	if (update && !strcmp(update, "1")) {
		FILE *f = fopen(path, "wb");

		cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
		cr_assert(eq(sz, fwrite(text, 1, strlen(text), f), strlen(text)));
		cr_assert(eq(int, fclose(f), 0));
		return;
	}
	want = slurp(path, &len);
	cr_assert_not_null(want, "golden file %s is missing (PBXCTL_UPDATE_GOLDEN=1 writes it)",
			   path);
	for (i = 0; i < len && text[i] && want[i] == text[i]; i++)
		if (want[i] == '\n')
			line++;
	if (i < len || text[i]) {
		char got_line[256], want_line[256];
		size_t start = i;

		while (start > 0 && text[start - 1] != '\n')
			start--;
		snprintf(got_line, sizeof(got_line), "%.*s", (int)strcspn(text + start, "\n"),
			 text + start);
		snprintf(want_line, sizeof(want_line), "%.*s", (int)strcspn(want + start, "\n"),
			 i < len ? want + start : "");
		free(want);
		cr_fatal("%s differs at line %zu:\n  want: %s\n  got:  %s", name, line,
			       want_line, got_line);
	}
	free(want);
}

static const char *const known_apps[] = {
	"Answer", "Busy", "Congestion", "Dial", "ExecIf", "Gosub", "Goto", "GotoIf", "Hangup",
	"NoOp", "Playback", "Read", "Return", "Set", "UserEvent", "VoiceMail", "VoiceMailMain",
	"Wait",
};

static bool known_app(const char *data)
{
	size_t n = strcspn(data, "(");

	for (size_t i = 0; i < sizeof(known_apps) / sizeof(known_apps[0]); i++)
		if (strlen(known_apps[i]) == n && !strncmp(known_apps[i], data, n))
			return true;
	return false;
}

static char *strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n;
};

static void close_names(struct dp_parsed *p, struct names *nm)
{
	size_t distinct = 0;

	if (p->n_ctx == 0)
		return;
	if (nm->n)
		qsort(nm->v, nm->n, sizeof(*nm->v), cmp_str);
	for (size_t i = 0; i < nm->n; i++)
		if (i == 0 || strcmp(nm->v[i - 1], nm->v[i]))
			distinct++;
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	*nm = (struct names){ NULL, 0 };
	p->ctx[p->n_ctx - 1].extensions = distinct;
}

/* "name => value" or "name = value": the value, or NULL when the name differs. */
static char *value_of(char *line, const char *name)
{
	size_t n = strlen(name);
	char *v;

	if (strncmp(line, name, n))
		return NULL;
	v = line + n;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v != '=')
		return NULL;
	v++;
	if (*v == '>')
		v++;
	return strip(v);
}

static void priority(struct dp_parsed *p, char *value, bool cut)
{
	char *app = value;

	if (cut)
		p->cut_priorities++;
	for (int comma = 0; comma < 2 && app; comma++) {
		app = strchr(app, ',');
		if (app)
			app++;
	}
	if (!app || !known_app(app))
		p->unknown_apps++;
	if (p->n_ctx)
		p->ctx[p->n_ctx - 1].priorities++;
}

void dp_parse(const char *text, struct dp_parsed *p)
{
	char *copy = strdup(text), *save = NULL, *raw;
	struct names nm = { NULL, 0 };
	const char *c = text;

	cr_assert_not_null(copy);
	*p = (struct dp_parsed){ .n_ctx = 0 };
	for (; *c; c++)
		if (*c == '\n')
			p->lines++;
	if (text[0] && text[strlen(text) - 1] != '\n')
		p->lines++;
	for (raw = strtok_r(copy, "\n", &save); raw; raw = strtok_r(NULL, "\n", &save)) {
		char *semi = raw, *line, *v;
		bool cut = false;

		if (strstr(raw, ";--"))
			p->block_comments++;
		while ((semi = strchr(semi, ';')) && semi > raw && semi[-1] == '\\')
			semi++;
		if (semi) {
			*semi = '\0';
			cut = true;
		}
		line = strip(raw);
		if (!*line) {
			if (cut)
				p->comments++;
			else
				p->blank++;
			continue;
		}
		if (line[0] == '#') {
			p->directives++;
		} else if (line[0] == '[') {
			size_t n = strlen(line);

			p->headers++;
			close_names(p, &nm);
			if (line[n - 1] != ']' || n - 2 >= sizeof(p->ctx[0].name) ||
			    p->n_ctx == DP_PARSE_MAX_CTX) {
				p->other++;
				continue;
			}
			snprintf(p->ctx[p->n_ctx].name, sizeof(p->ctx[0].name), "%.*s",
				 (int)(n - 2), line + 1);
			p->ctx[p->n_ctx].extensions = p->ctx[p->n_ctx].priorities = 0;
			p->n_ctx++;
		} else if ((v = value_of(line, "exten"))) {
			size_t n = strcspn(v, ",");

			p->exten++;
			nm.v = realloc(nm.v, (nm.n + 1) * sizeof(*nm.v));
			cr_assert_not_null(nm.v);
			nm.v[nm.n++] = strndup(v, n);
			priority(p, v, cut);
		} else if ((v = value_of(line, "same"))) {
			p->same++;
			/* "same => n,App": the extension field is absent, so prepend one. */
			{
				char buf[2048];

				snprintf(buf, sizeof(buf), "x,%s", v);
				priority(p, buf, cut);
			}
		} else if (value_of(line, "include")) {
			p->includes++;
		} else {
			p->other++;
		}
	}
	close_names(p, &nm);
	free(copy);
}

void dp_assert_counts(const struct pbx_dp_file *f, const struct dp_parsed *p)
{
	cr_assert(eq(sz, f->n_contexts, p->n_ctx), "contexts returned vs parsed");
	for (size_t i = 0; i < p->n_ctx; i++) {
		cr_assert(eq(str, f->contexts[i].name, (char *)p->ctx[i].name));
		cr_assert(eq(sz, f->contexts[i].extensions, p->ctx[i].extensions),
			  "extensions of %s", p->ctx[i].name);
		cr_assert(eq(sz, f->contexts[i].priorities, p->ctx[i].priorities),
			  "priorities of %s", p->ctx[i].name);
	}
}

size_t dp_count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, len))
			n++;
	return n;
}

/*
 * acme, in deliberately unsorted order:
 *   2000 kim    one device
 *   1001 alice  two devices (listed out of order), voicemail, e-mail
 *   1002 bob    one device, no voicemail
 *   1003 carol  no enabled device, voicemail
 *   1004 dave   no enabled device, no voicemail
 *   1005 erin   voicemail
 *   1006 frank  no voicemail
 *   1007 grace  voicemail
 *   1008 heidi  voicemail
 *   1009 ivan   suspended: no extension at all
 *   1010 judy   voicemail
 * (DND and forwards are call-time state in AstDB, not part of the model.)
 */
static const char *const ep_alice[] = { "acme-p8w2m4x9c7de", "acme-k3f9x2q7m1ab" };
static const char *const ep_bob[] = { "acme-b0b0desk0001" };
static const char *const ep_erin[] = { "acme-e7r1n0000001" };
static const char *const ep_frank[] = { "acme-fr4nk0000001" };
static const char *const ep_grace[] = { "acme-gr4ce0000001" };
static const char *const ep_heidi[] = { "acme-he1d10000001" };
static const char *const ep_ivan[] = { "acme-1van00000001" };
static const char *const ep_judy[] = { "acme-ju0y00000001" };
static const char *const ep_kim[] = { "acme-k1m000000001" };

static const struct pbx_dp_user acme_users[] = {
	{ .username = "kim", .display_name = "Kim Lee", .extension = "2000",
	  .endpoints = ep_kim, .n_endpoints = 1, .active = true },
	{ .username = "alice", .display_name = "Alice Smith", .extension = "1001",
	  .voicemail = true, .vm_email = "alice@example.com", .callerid_num = "+4930123400",
	  .endpoints = ep_alice, .n_endpoints = 2, .active = true },
	{ .username = "bob", .display_name = "Bob Jones", .extension = "1002",
	  .endpoints = ep_bob, .n_endpoints = 1, .active = true },
	{ .username = "carol", .display_name = "Carol", .extension = "1003",
	  .voicemail = true, .vm_email = "not an address", .active = true },
	{ .username = "dave", .display_name = NULL, .extension = "1004", .active = true },
	{ .username = "erin", .display_name = "Erin", .extension = "1005", .voicemail = true,
	  .endpoints = ep_erin, .n_endpoints = 1, .active = true },
	{ .username = "frank", .display_name = "Frank", .extension = "1006",
	  .endpoints = ep_frank, .n_endpoints = 1, .active = true },
	{ .username = "grace", .display_name = "Grace", .extension = "1007",
	  .voicemail = true, .endpoints = ep_grace, .n_endpoints = 1,
	  .active = true },
	{ .username = "heidi", .display_name = "Heidi", .extension = "1008",
	  .voicemail = true, .endpoints = ep_heidi,
	  .n_endpoints = 1, .active = true },
	{ .username = "ivan", .display_name = "Ivan", .extension = "1009", .voicemail = true,
	  .endpoints = ep_ivan, .n_endpoints = 1, .active = false },
	{ .username = "judy", .display_name = "Judy", .extension = "1010", .voicemail = true,
	  .endpoints = ep_judy, .n_endpoints = 1, .active = true },
};

struct pbx_dp_tenant dp_fixture_acme(void)
{
	return (struct pbx_dp_tenant){
		.slug = "acme",
		.display_name = "Acme Corp",
		.users = acme_users,
		.n_users = sizeof(acme_users) / sizeof(acme_users[0]),
		.job_id = "job-0001",
	};
}

struct pbx_dp_tenant dp_fixture_globex(void)
{
	static const char *const ep[] = { "globex-aaaa" };
	static const struct pbx_dp_user users[] = {
		{ .username = "hank", .extension = "100", .voicemail = true, .endpoints = ep,
		  .n_endpoints = 1, .active = true },
	};

	return (struct pbx_dp_tenant){
		.slug = "globex",
		.display_name = "Globex",
		.suspended = true,
		.users = users,
		.n_users = 1,
		.job_id = "job-0002",
	};
}

struct pbx_dp_tenant dp_fixture_initech(void)
{
	return (struct pbx_dp_tenant){
		.slug = "initech",
		.display_name = "Initech",
		.job_id = "job-0003",
	};
}

struct pbx_dp_tenant dp_fixture_one(struct pbx_dp_user **user)
{
	static const char *const ep[] = { "acme-one" };
	static struct pbx_dp_user u;

	u = (struct pbx_dp_user){ .username = "alice", .display_name = "Alice",
				  .extension = "1001", .voicemail = true, .endpoints = ep,
				  .n_endpoints = 1, .active = true };
	*user = &u;
	return (struct pbx_dp_tenant){ .slug = "acme", .display_name = "Acme", .users = &u,
				       .n_users = 1, .job_id = "job-1" };
}
