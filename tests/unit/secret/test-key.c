/* SPDX-License-Identifier: MIT */
/*
 * Tests of lib/secret/key.c: creating the key file (mode, format, no overwrite) and
 * loading it (missing, unreadable, open to others, not a file, not a key).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <sodium.h>

#include "pbx/secret.h"

#include "tmpdir.h"

TestSuite(secret_key, .fini = test_tmpdir_remove);

static void read_text(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	cr_assert_not_null(f);
	len = fread(buf, 1, n - 1, f);
	buf[len] = '\0';
	fclose(f);
}

/* A key file holding the base64 of @nbytes bytes, written with mode 0600. */
static void write_key_of(char *path, size_t n, const char *name, size_t nbytes)
{
	unsigned char raw[128];
	char text[256];
	size_t tag = strlen(PBX_SECRET_KEY_TAG);

	randombytes_buf(raw, nbytes);
	memcpy(text, PBX_SECRET_KEY_TAG, tag);
	sodium_bin2base64(text + tag, sizeof(text) - tag, raw, nbytes,
			  sodium_base64_VARIANT_ORIGINAL);
	strcat(text, "\n");
	test_write_file(path, n, name, text, strlen(text), 0600);
}

Test(secret_key, init_creates_0600_file_in_text_form)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], text[256];
	struct stat st;

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0), "%s", err.message);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(u32, (unsigned)(st.st_mode & S_IFMT), (unsigned)S_IFREG));
	cr_assert(eq(u32, (unsigned)(st.st_mode & 07777), 0600));
	read_text(path, text, sizeof(text));
	cr_assert(eq(int, strncmp(text, "pbxctl-key-v2:", 14), 0), "file holds: %s", text);
	/* Tag, 44 base64 characters for 32 bytes, newline. */
	cr_assert(eq(sz, strlen(text), (size_t)(14 + 44 + 1)));
	cr_assert(eq(chr, text[strlen(text) - 1], '\n'));
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0), "%s", err.message);
	cr_assert_not_null(key);
	pbx_secret_key_free(key);
}

Test(secret_key, init_is_0600_whatever_the_umask)
{
	pbx_error err = PBX_ERROR_INIT;
	char a[512], b[512];
	struct stat st;

	test_path(a, sizeof(a), "open.key");
	test_path(b, sizeof(b), "strict.key");
	umask(0);
	cr_assert(eq(int, pbx_secret_key_init(a, &err), 0), "%s", err.message);
	umask(0277);
	cr_assert(eq(int, pbx_secret_key_init(b, &err), 0), "%s", err.message);
	cr_assert(eq(int, stat(a, &st), 0));
	cr_assert(eq(u32, (unsigned)(st.st_mode & 07777), 0600));
	cr_assert(eq(int, stat(b, &st), 0));
	cr_assert(eq(u32, (unsigned)(st.st_mode & 07777), 0600));
}

Test(secret_key, init_refuses_to_overwrite)
{
	pbx_error err = PBX_ERROR_INIT;
	char path[512], before[256], after[256], want[600];

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0), "%s", err.message);
	read_text(path, before, sizeof(before));
	cr_assert(eq(int, pbx_secret_key_init(path, &err), PBX_ECONFLICT));
	cr_assert(eq(int, err.code, PBX_ECONFLICT));
	snprintf(want, sizeof(want), "key file %s already exists; refusing to overwrite", path);
	cr_assert(eq(str, err.message, want));
	read_text(path, after, sizeof(after));
	cr_assert(eq(str, before, after), "the existing key was changed");
}

Test(secret_key, init_refuses_an_existing_foreign_file)
{
	pbx_error err = PBX_ERROR_INIT;
	char path[512], text[64];

	test_write_file(path, sizeof(path), "notes.txt", "keep me\n", 8, 0644);
	cr_assert(eq(int, pbx_secret_key_init(path, &err), PBX_ECONFLICT));
	read_text(path, text, sizeof(text));
	cr_assert(eq(str, text, "keep me\n"));
}

Test(secret_key, init_does_not_follow_a_symlink)
{
	pbx_error err = PBX_ERROR_INIT;
	char link[512], target[512];

	test_path(link, sizeof(link), "link.key");
	test_path(target, sizeof(target), "target.key");
	cr_assert(eq(int, symlink(target, link), 0));
	cr_assert(eq(int, pbx_secret_key_init(link, &err), PBX_ECONFLICT));
	cr_assert(eq(int, access(target, F_OK), -1), "the symlink target was created");
}

Test(secret_key, init_missing_directory_is_invalid)
{
	pbx_error err = PBX_ERROR_INIT;
	char path[512];

	test_path(path, sizeof(path), "no-such-dir/pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), PBX_EINVALID));
	cr_assert_not_null(strstr(err.message, "directory does not exist"), "%s", err.message);
	cr_assert_not_null(strstr(err.message, path), "%s", err.message);
}

Test(secret_key, init_refuses_empty_path)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_secret_key_init("", &err), PBX_EINVALID));
	cr_assert(eq(int, pbx_secret_key_init(NULL, &err), PBX_EINVALID));
}

Test(secret_key, two_inits_make_different_keys)
{
	pbx_error err = PBX_ERROR_INIT;
	char a[512], b[512], ta[256], tb[256];

	test_path(a, sizeof(a), "a.key");
	test_path(b, sizeof(b), "b.key");
	cr_assert(eq(int, pbx_secret_key_init(a, &err), 0));
	cr_assert(eq(int, pbx_secret_key_init(b, &err), 0));
	read_text(a, ta, sizeof(ta));
	read_text(b, tb, sizeof(tb));
	cr_assert(ne(str, ta, tb));
}

Test(secret_key, load_missing_file_is_not_found)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], want[1200];

	test_path(path, sizeof(path), "absent.key");
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_ENOTFOUND));
	cr_assert_null(key);
	snprintf(want, sizeof(want),
		 "key file %s does not exist; create it with `pbxctl secrets init`", path);
	cr_assert(eq(str, err.message, want));
}

/*
 * Unreadable: as root chmod 000 still reads, so a child drops to nobody and loads a
 * root-owned 0600 file in a directory it may traverse. Otherwise chmod 000 does it.
 */
Test(secret_key, load_unreadable_file_is_permission_denied)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512];
	int status;
	pid_t pid;

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0));
	if (geteuid() != 0) {
		cr_assert(eq(int, chmod(path, 0), 0));
		cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EPERM));
		cr_assert_null(key);
		cr_assert_not_null(strstr(err.message, "is not readable"), "%s", err.message);
		return;
	}
	cr_assert(eq(int, chmod(test_tmpdir(), 0711), 0));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int r;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		r = pbx_secret_key_load(path, &key, &err);
		if (r == PBX_EPERM && !key && strstr(err.message, "is not readable"))
			_exit(0);
		_exit(101);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(ne(int, WIFEXITED(status), 0), "child did not exit normally");
	cr_assert(eq(int, WEXITSTATUS(status), 0),
		  "child exit %d (100: could not drop privileges, 101: wrong result)",
		  WEXITSTATUS(status));
}

Test(secret_key, load_refuses_file_open_to_others)
{
	static const unsigned modes[] = { 0644, 0604, 0620, 0606, 0660 };
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], want[1200];

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cr_assert(eq(int, chmod(path, modes[i]), 0));
		cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EPERM),
			  "mode %04o accepted", modes[i]);
		cr_assert_null(key);
		snprintf(want, sizeof(want), "chmod 600 %s", path);
		cr_assert_not_null(strstr(err.message, want), "%s", err.message);
	}
	snprintf(want, sizeof(want),
		 "key file %s is open to other users (mode 0660); run `chmod 600 %s`", path, path);
	cr_assert(eq(str, err.message, want));
}

/* The partner: owner-only and owner-plus-group-read (the pbxctl group) are accepted. */
Test(secret_key, load_accepts_0600_0400_and_group_read)
{
	static const unsigned modes[] = { 0600, 0400, 0640, 0440 };
	pbx_error err = PBX_ERROR_INIT;
	char path[512];

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		pbx_secret_key *key = NULL;

		cr_assert(eq(int, chmod(path, modes[i]), 0));
		cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0),
			  "mode %04o: %s", modes[i], err.message);
		pbx_secret_key_free(key);
	}
}

Test(secret_key, load_directory_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], want[1200];

	test_path(path, sizeof(path), "keydir");
	cr_assert(eq(int, mkdir(path, 0700), 0));
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EINVALID));
	cr_assert_null(key);
	snprintf(want, sizeof(want), "key file %s is not a regular file", path);
	cr_assert(eq(str, err.message, want));
}

Test(secret_key, load_fifo_is_refused_without_hanging, .timeout = 10)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512];

	test_path(path, sizeof(path), "fifo");
	cr_assert(eq(int, mkfifo(path, 0600), 0));
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EINVALID));
	cr_assert_null(key);
}

static void assert_not_a_key(const char *name, const char *content, size_t len)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], want[1200];

	if (len == (size_t)-1)
		len = strlen(content);
	test_write_file(path, sizeof(path), name, content, len, 0600);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EINVALID),
		  "%s was accepted as a key", name);
	cr_assert_null(key);
	snprintf(want, sizeof(want), "key file %s is not a pbxctl key", path);
	cr_assert(eq(str, err.message, want));
}

/* The base64 of 32 zero bytes, with and without its padding. */
#define ZERO_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ZERO_B64_NOPAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

Test(secret_key, load_refuses_garbage)
{
	static const char binary[] = { 0, 1, 2, 3, (char)0xff, 'p', 'b', 'x' };
	char big[4096];

	assert_not_a_key("empty.key", "", 0);
	assert_not_a_key("text.key", "hello world\n", (size_t)-1);
	assert_not_a_key("binary.key", binary, sizeof(binary));
	assert_not_a_key("tag-only.key", "pbxctl-key-v1:\n", (size_t)-1);
	assert_not_a_key("bad-b64.key", "pbxctl-key-v1:!!!!" ZERO_B64 "\n", (size_t)-1);
	assert_not_a_key("other-version.key", "pbxctl-key-v3:" ZERO_B64 "\n", (size_t)-1);
	assert_not_a_key("public.key", "pbxctl-pub-v2:" ZERO_B64 "\n", (size_t)-1);
	assert_not_a_key("trailing.key", "pbxctl-key-v1:" ZERO_B64 "\nmore\n", (size_t)-1);
	assert_not_a_key("space.key", "pbxctl-key-v1: " ZERO_B64 "\n", (size_t)-1);
	assert_not_a_key("no-padding.key", "pbxctl-key-v1:" ZERO_B64_NOPAD "\n", (size_t)-1);
	memset(big, 'A', sizeof(big));
	memcpy(big, PBX_SECRET_KEY_TAG, strlen(PBX_SECRET_KEY_TAG));
	assert_not_a_key("big.key", big, sizeof(big));
}

/* The partner of the garbage test: the same well-formed line with the right tag loads. */
Test(secret_key, load_accepts_well_formed_line)
{
	static const char text[] = "pbxctl-key-v1:" ZERO_B64 "\n";
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512];

	test_write_file(path, sizeof(path), "zero.key", text, strlen(text), 0600);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0), "%s", err.message);
	pbx_secret_key_free(key);
}

Test(secret_key, load_refuses_short_and_long_keys)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512];

	write_key_of(path, sizeof(path), "short.key", 16);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EINVALID));
	cr_assert_not_null(strstr(err.message, "is not a pbxctl key"), "%s", err.message);
	write_key_of(path, sizeof(path), "31.key", 31);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EINVALID));
	write_key_of(path, sizeof(path), "long.key", 48);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), PBX_EINVALID));
	cr_assert_null(key);
	/* The partner: exactly 32 bytes in the same form is a key. */
	write_key_of(path, sizeof(path), "right.key", 32);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0), "%s", err.message);
	pbx_secret_key_free(key);
}

Test(secret_key, load_accepts_missing_or_crlf_newline)
{
	pbx_error err = PBX_ERROR_INIT;
	pbx_secret_key *key = NULL;
	char path[512], text[256];
	size_t len;

	test_path(path, sizeof(path), "pbxctl.key");
	cr_assert(eq(int, pbx_secret_key_init(path, &err), 0));
	read_text(path, text, sizeof(text));
	len = strlen(text) - 1;
	test_write_file(path, sizeof(path), "bare.key", text, len, 0600);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0), "%s", err.message);
	pbx_secret_key_free(key);
	key = NULL;
	memcpy(text + len, "\r\n", 3);
	test_write_file(path, sizeof(path), "crlf.key", text, len + 2, 0600);
	cr_assert(eq(int, pbx_secret_key_load(path, &key, &err), 0), "%s", err.message);
	pbx_secret_key_free(key);
}

Test(secret_key, free_accepts_null)
{
	pbx_secret_key_free(NULL);
	pbx_secret_free_str(NULL);
	pbx_secret_wipe(NULL, 0);
}
