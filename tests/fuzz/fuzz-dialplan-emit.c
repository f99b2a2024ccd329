/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the dialplan and voicemail generators and their line emitter (lib/dialplan/emit.c,
 * tenant and voicemail generation) with a hostile tenant model. The input is split at NUL
 * bytes: slug, tenant name, job id, then per user (at most 8) username, display name,
 * extension, forward target, e-mail, one endpoint id and a flags byte (voicemail, dnd,
 * active, suspended tenant). Whatever the generators accept is read back the way Asterisk
 * reads it, independently of the emitter: comments cut at the first ';', then every line
 * must be a context header, "exten =>" or "same =>"; the extensions and priorities counted
 * per context must equal what the generator reports (so no free text added or removed a
 * line or a priority), and every context belongs to the tenant (<slug>-..., or
 * pbxctl-meta-<slug>). A voicemail line is "[slug]" or "EXT => ,name,email" with exactly two
 * commas. Refusals are one-line PBX_EINVALID errors.
 */
#include <stdbool.h>
#include <string.h>

#include "pbx/dialplan.h"
#include "pbx/error.h"

#include "fuzz.h"

#define MAX_USERS 8
#define FIELDS_PER_USER 7

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static bool owned(const char *slug, const char *ctx)
{
	size_t n = strlen(slug);

	if (!strncmp(ctx, PBX_DP_META_PREFIX, strlen(PBX_DP_META_PREFIX)))
		return !strcmp(ctx + strlen(PBX_DP_META_PREFIX), slug);
	return !strncmp(ctx, slug, n) && ctx[n] == '-';
}

/* Count as Asterisk's pbx_config would, and compare with the generator's own counts. */
static void check_dialplan(const char *slug, const struct pbx_dp_file *f)
{
	char *text = strdup(f->text), *save = NULL, *names[512];
	size_t ci = 0, n_names = 0, prios = 0;
	bool in_ctx = false;

	FUZZ_CHECK(text, "oom");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *semi, *body;

		FUZZ_CHECK(fuzz_one_line(line), "control character in '%s'", line);
		semi = strchr(line, ';');
		if (semi)
			*semi = '\0';
		body = trim(line);
		if (!*body)
			continue;
		if (body[0] == '[') {
			size_t len = strlen(body);

			FUZZ_CHECK(body[len - 1] == ']', "header '%s'", body);
			body[len - 1] = '\0';
			if (in_ctx) {
				FUZZ_CHECK(f->contexts[ci].extensions == n_names &&
					   f->contexts[ci].priorities == prios,
					   "context %s: generator says %zu/%zu, file holds %zu/%zu",
					   f->contexts[ci].name, f->contexts[ci].extensions,
					   f->contexts[ci].priorities, n_names, prios);
				ci++;
			}
			FUZZ_CHECK(ci < f->n_contexts && !strcmp(f->contexts[ci].name, body + 1),
				   "unexpected context '%s'", body + 1);
			FUZZ_CHECK(owned(slug, body + 1), "context '%s' of tenant %s", body + 1, slug);
			in_ctx = true;
			n_names = prios = 0;
			continue;
		}
		FUZZ_CHECK(in_ctx, "line outside a context: '%s'", body);
		if (!strncmp(body, "exten =>", 8)) {
			char *name = trim(body + 8);
			size_t len = strcspn(name, ",");
			bool seen = false;

			name[len] = '\0';
			for (size_t i = 0; i < n_names; i++)
				seen |= !strcmp(names[i], name);
			if (!seen) {
				FUZZ_CHECK(n_names < sizeof(names) / sizeof(names[0]), "names");
				names[n_names++] = name;
			}
			prios++;
		} else {
			FUZZ_CHECK(!strncmp(body, "same =>", 7), "not dialplan: '%s'", body);
			prios++;
		}
	}
	if (in_ctx) {
		FUZZ_CHECK(f->contexts[ci].extensions == n_names && f->contexts[ci].priorities == prios,
			   "last context %s: %zu/%zu vs %zu/%zu", f->contexts[ci].name,
			   f->contexts[ci].extensions, f->contexts[ci].priorities, n_names, prios);
		ci++;
	}
	FUZZ_CHECK(ci == f->n_contexts, "%zu contexts in the file, %zu reported", ci, f->n_contexts);
	free(text);
}

static void check_voicemail(const char *slug, const struct pbx_dp_file *f)
{
	char *text = strdup(f->text), *save = NULL;

	FUZZ_CHECK(text, "oom");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *arrow;
		size_t commas = 0;

		FUZZ_CHECK(fuzz_one_line(line), "control character in '%s'", line);
		if (line[0] == ';' || line[0] == '\0')
			continue;
		if (line[0] == '[') {
			FUZZ_CHECK(!strncmp(line + 1, slug, strlen(slug)) &&
				   !strcmp(line + 1 + strlen(slug), "]"), "section '%s'", line);
			continue;
		}
		arrow = strstr(line, " => ");
		FUZZ_CHECK(arrow && !strstr(arrow + 4, "=>") && !strchr(line, ';'),
			   "voicemail line '%s'", line);
		for (const char *p = arrow; *p; p++)
			commas += *p == ',';
		FUZZ_CHECK(commas == 2, "%zu commas in '%s'", commas, line);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbx_dp_user users[MAX_USERS];
	const char *eps[MAX_USERS][1];
	const char *field[3 + MAX_USERS * FIELDS_PER_USER];
	struct pbx_dp_tenant t = { 0 };
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err;
	size_t nf = 0, n_users;
	char *buf;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	FUZZ_CHECK(buf, "oom");
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; nf < sizeof(field) / sizeof(field[0]);) {
		field[nf++] = p;
		p += strlen(p);
		if (p >= buf + size)
			break;
		p++;
	}
	if (nf < 3) {
		free(buf);
		return 0;
	}
	n_users = (nf - 3) / FIELDS_PER_USER;
	for (size_t i = 0; i < n_users; i++) {
		const char *const *u = field + 3 + i * FIELDS_PER_USER;
		unsigned flags = (unsigned char)u[6][0];

		eps[i][0] = u[5];
		users[i] = (struct pbx_dp_user){
			.username = u[0], .display_name = u[1], .extension = u[2],
			.callerid_num = u[3], .vm_email = u[4], .endpoints = eps[i],
			.n_endpoints = *u[5] ? 1 : 0, .voicemail = flags & 1,
			.active = !(flags & 4),
		};
	}
	t = (struct pbx_dp_tenant){
		.slug = field[0], .display_name = field[1], .job_id = field[2],
		.users = users, .n_users = n_users,
		.suspended = n_users && ((unsigned char)field[3 + 6][0] & 8),
		.outbound = n_users && ((unsigned char)field[3 + 6][0] & 16),
	};
	if (pbx_dialplan_tenant(&t, &f, &err) == 0) {
		check_dialplan(t.slug, &f);
		pbx_dp_file_free(&f);
	} else {
		FUZZ_CHECK(err.code == PBX_EINVALID && fuzz_one_line(err.message), "%d '%s'",
			   err.code, err.message);
	}
	if (pbx_dialplan_voicemail(&t, &f, &err) == 0) {
		check_voicemail(t.slug, &f);
		pbx_dp_file_free(&f);
	} else {
		FUZZ_CHECK(err.code == PBX_EINVALID && fuzz_one_line(err.message), "%d '%s'",
			   err.code, err.message);
	}
	free(buf);
	return 0;
}
