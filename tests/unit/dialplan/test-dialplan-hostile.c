/* SPDX-License-Identifier: MIT */
/*
 * Injection tests. Hostile free text (display names, usernames, the tenant's name, e-mail
 * addresses) must not change one dialplan or voicemail line: every generated file is
 * compared with the file of the same model with harmless names, line for line outside
 * comments, and re-parsed the way Asterisk reads it. Hostile identifiers (extension,
 * endpoint, caller ID number, slug, job id) must be refused with PBX_EINVALID
 * naming the field, and the error message must stay on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "pbx/dialplan.h"

#include "dp-test.h"

static const char *hostile[] = {
	"Alice;evil comment",
	"Alice\nexten => 666,1,Dial(PJSIP/globex-x)",
	"Alice\r\n[globex-internal]\r\nexten => _X.,1,Dial(PJSIP/x)",
	"Bob, Jr.),Hangup()",
	"${SHELL(rm -rf /)}",
	"$[1+1]",
	"[evil]",
	"#include /etc/passwd",
	"\n#exec /bin/sh -c id",
	"\n#tryinclude \"/tmp/*\"",
	"a&PJSIP/globex-x|b",
	";-- everything after this is a comment",
	"--; closing",
	"\\;escaped",
	"\"quoted\" {braces} => arrow = eq <lt>",
	"\t\v\f\x01\x1b[31mred\x7f",
	"\xc0\xbb overlong semicolon \xe0\x80\xbb",
	"\xe2\x80\xa8line separator\xe2\x80\xa9paragraph\xc2\x85nel",
};

/* A very long UTF-8 name with newlines sprinkled in, built once. */
static const char *long_utf8(void)
{
	static char buf[2048];

	if (!buf[0]) {
		for (int i = 0; i < 120; i++)
			strcat(buf, i % 17 == 16 ? "\n;" : "\xc3\xa9\xe6\x9d\xb1");
	}
	return buf;
}

/* The acme fixture with every free-text field set to @text. */
static struct pbx_dp_tenant with_text(const char *text, struct pbx_dp_user *users)
{
	struct pbx_dp_tenant t = dp_fixture_acme();

	for (size_t i = 0; i < t.n_users; i++) {
		users[i] = t.users[i];
		users[i].display_name = text;
		users[i].username = text;
		users[i].vm_email = text;
	}
	t.users = users;
	t.display_name = text;
	return t;
}

/* The lines of @text that are not comments, concatenated. */
static char *without_comments(const char *text)
{
	char *out = calloc(1, strlen(text) + 1);
	size_t o = 0;

	cr_assert_not_null(out);
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");

		if (l[0] != ';') {
			memcpy(out + o, l, n);
			o += n;
			out[o++] = '\n';
		}
		l += n + (l[n] == '\n');
	}
	out[o] = '\0';
	return out;
}

static void check_dialplan(const char *text, const struct pbx_dp_file *base,
			   const struct dp_parsed *pb)
{
	struct pbx_dp_user users[32];
	struct pbx_dp_tenant t = with_text(text, users);
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct dp_parsed p;
	char *a, *b;

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), 0), "%s", err.message);
	dp_parse(f.text, &p);
	cr_assert(eq(sz, p.lines, pb->lines), "hostile text changed the number of lines");
	cr_assert(eq(sz, p.headers, 3));
	cr_assert(eq(sz, p.exten, pb->exten));
	cr_assert(eq(sz, p.same, pb->same));
	cr_assert(eq(sz, p.comments, pb->comments));
	cr_assert(eq(sz, p.directives, 0), "a line starts with #");
	cr_assert(eq(sz, p.block_comments, 0), "a ;-- block comment appeared");
	cr_assert(eq(sz, p.other, 0));
	cr_assert(eq(sz, p.includes, 0));
	cr_assert(eq(sz, p.cut_priorities, 0));
	cr_assert(eq(sz, p.unknown_apps, 0));
	dp_assert_counts(&f, &p);
	dp_assert_counts(base, &p);
	a = without_comments(f.text);
	b = without_comments(base->text);
	cr_assert(eq(str, a, b), "free text reached a dialplan line");
	free(a);
	free(b);
	pbx_dp_file_free(&f);
}

static void check_voicemail(const char *text, const char *base)
{
	struct pbx_dp_user users[32];
	struct pbx_dp_tenant t = with_text(text, users);
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct dp_parsed p, pb;

	cr_assert(eq(int, pbx_dialplan_voicemail(&t, &f, &err), 0), "%s", err.message);
	dp_parse(f.text, &p);
	dp_parse(base, &pb);
	cr_assert(eq(sz, p.lines, pb.lines));
	cr_assert(eq(sz, p.headers, 1));
	cr_assert(eq(sz, p.directives, 0));
	cr_assert(eq(sz, p.block_comments, 0));
	cr_assert(eq(sz, p.comments, pb.comments));
	for (const char *l = f.text; *l; l = strchr(l, '\n') + 1) {
		size_t n = strcspn(l, "\n"), commas = 0, eqs = 0, gts = 0;

		if (l[0] == ';' || l[0] == '[' || n == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			commas += l[i] == ',';
			eqs += l[i] == '=';
			gts += l[i] == '>';
			cr_assert(eq(int, l[i] != ';' && l[i] != '[' && l[i] != ']', 1));
		}
		cr_assert(eq(sz, commas, 2), "box line with extra fields: %.*s", (int)n, l);
		cr_assert(eq(sz, eqs, 1), "box line with a second '=': %.*s", (int)n, l);
		cr_assert(eq(sz, gts, 1), "box line with a second '>': %.*s", (int)n, l);
		cr_assert(lt(sz, n, 200));
	}
	pbx_dp_file_free(&f);
}

Test(hostile_text, never_changes_dialplan_lines)
{
	struct pbx_dp_user users[32];
	struct pbx_dp_tenant t = with_text("Plain Name", users);
	struct pbx_dp_file base = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	struct dp_parsed pb;

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &base, &err), 0));
	dp_parse(base.text, &pb);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		check_dialplan(hostile[i], &base, &pb);
	check_dialplan(long_utf8(), &base, &pb);
	pbx_dp_file_free(&base);
}

Test(hostile_text, never_changes_voicemail_lines)
{
	struct pbx_dp_user users[32];
	struct pbx_dp_tenant t = with_text("Plain Name", users);
	struct pbx_dp_file base = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_voicemail(&t, &base, &err), 0));
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		check_voicemail(hostile[i], base.text);
	check_voicemail(long_utf8(), base.text);
	pbx_dp_file_free(&base);
}

Test(hostile_text, comments_keep_escaped_names_only)
{
	struct pbx_dp_user users[32];
	struct pbx_dp_tenant t = with_text("Eve\n[x];y,z(\xc3\xa9)", users);
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), 0));
	cr_assert_not_null(strstr(f.text, "; 1001: user Eve xyz\xc3\xa9 \"Eve xyz\xc3\xa9\": rings 2 devices, voicemail\n"));
	pbx_dp_file_free(&f);
}

/* The fixture's user 1001 (alice) with one field replaced. */
static void expect_user_field_refused(const char *field, const char *value)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	struct pbx_dp_file f = PBX_DP_FILE_INIT;
	pbx_error err = PBX_ERROR_INIT;
	const char *eps[1] = { value };

	if (!strcmp(field, "extension"))
		u->extension = value;
	else if (!strcmp(field, "callerid_num"))
		u->callerid_num = value;
	else if (!strcmp(field, "endpoint"))
		u->endpoints = eps;
	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), PBX_EINVALID), "%s=%s", field, value);
	cr_assert(eq(str, err.field, (char *)field));
	cr_assert(eq(str, err.object, "user alice"));
	cr_assert_null(strpbrk(err.message, "\r\n"), "the message must stay on one line");
	cr_assert_null(f.text);
}

Test(hostile_identifiers, refused_in_every_identifier_field)
{
	static const char *values[] = {
		"10;01", "1001\nexten => 666,1,Dial(x)", "1001)", "${EXTEN}", "$[1]", "[x]",
		"#include x", "1001,1,Dial", "10&20", "\xc3\xa9\xc3\xa9", "",
	};
	static const char *fields[] = { "extension", "callerid_num", "endpoint" };

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			/* An empty caller ID means "none": not an error. */
			if (!values[v][0] && f == 1)
				continue;
			expect_user_field_refused(fields[f], values[v]);
		}
}

Test(hostile_identifiers, exact_message_for_extension)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_dp_file f = PBX_DP_FILE_INIT;

	u->extension = "10;01";
	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, "user alice"));
	cr_assert(eq(str, err.field, "extension"));
	cr_assert(eq(str, err.message, "extension \"10;01\" must be 2 to 8 digits"));
}

Test(hostile_identifiers, hostile_username_stays_one_line_in_errors)
{
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);
	pbx_error err = PBX_ERROR_INIT;
	struct pbx_dp_file f = PBX_DP_FILE_INIT;

	u->username = "ali\nce";
	u->extension = "x";
	cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), PBX_EINVALID));
	cr_assert(eq(str, err.object, "user ali?ce"));
}

Test(hostile_identifiers, valid_callerid_accepted)
{
	static const char *ok_cid[] = { "+4930123400", "030123400", "1001" };
	struct pbx_dp_user *u;
	struct pbx_dp_tenant t = dp_fixture_one(&u);

	for (size_t i = 0; i < sizeof(ok_cid) / sizeof(ok_cid[0]); i++) {
		struct pbx_dp_file f = PBX_DP_FILE_INIT;
		pbx_error err = PBX_ERROR_INIT;

		u->callerid_num = ok_cid[i];
		cr_assert(eq(int, pbx_dialplan_tenant(&t, &f, &err), 0), "%s", err.message);
		pbx_dp_file_free(&f);
	}
}
