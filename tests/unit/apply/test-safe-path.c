/* SPDX-License-Identifier: MIT */
/*
 * lib/apply/safe-path.c and the path functions of files.c: no link is followed where apply
 * reads and writes, directories others can write are refused, temporary files have names
 * nobody can predict and are created with O_EXCL, modes are exact.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../lib/apply/files.h"

static char base[64];

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/pbxctl-safe-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	umask(022);
}

static void teardown(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", base, base);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", base);
}

TestSuite(safe_path, .init = setup, .fini = teardown);

static const char *in(const char *name)
{
	static char buf[4][300];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", base, name);
	return buf[k];
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(safe_path, writes_reads_and_removes_with_exact_modes)
{
	pbx_error err = PBX_ERROR_INIT;
	struct stat st;
	char *text = NULL;

	cr_assert(eq(int, pbx_file_mkdirs(in("a/b/backup"), 0700, &err), 0), "%s", err.message);
	cr_assert(eq(int, stat(in("a/b/backup"), &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0700));
	cr_assert(eq(int, pbx_file_write_atomic(in("a/b/backup/x.conf"), "secret\n", 0600, &err), 0),
		  "%s", err.message);
	cr_assert(eq(int, stat(in("a/b/backup/x.conf"), &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0600));
	cr_assert(eq(int, pbx_file_read(in("a/b/backup/x.conf"), &text, &err), 0), "%s", err.message);
	cr_assert(eq(str, text, "secret\n"));
	free(text);
	cr_assert(eq(int, pbx_file_remove(in("a/b/backup/x.conf"), &err), 0), "%s", err.message);
	cr_assert(eq(int, access(in("a/b/backup/x.conf"), F_OK), -1));
	/* A missing file, or a missing directory, reads as "not deployed". */
	cr_assert(eq(int, pbx_file_read(in("none/x.conf"), &text, &err), 0));
	cr_assert(eq(ptr, text, NULL));
}

Test(safe_path, a_missing_directory_reads_as_nothing_and_leaves_no_message)
{
	pbx_error err = PBX_ERROR_INIT;
	char *text = NULL;

	/* A failure before leaves its message in err; a read that finds nothing clears it. */
	pbx_errorf(&err, PBX_EINVALID, "earlier", NULL, "an earlier failure");
	cr_assert(eq(int, pbx_file_read(in("none/x.conf"), &text, &err), 0));
	cr_assert(eq(ptr, text, NULL));
	cr_assert(eq(int, err.code, 0));
	cr_assert(eq(str, err.message, ""), "stale message: %s", err.message);
	/* A missing file in an existing directory: the same. */
	mkdir(in("dp"), 0755);
	cr_assert(eq(int, pbx_file_read(in("dp/x.conf"), &text, &err), 0));
	cr_assert(eq(str, err.message, ""), "stale message: %s", err.message);
	/* A real failure still reports. */
	cr_assert(eq(int, pbx_file_read(in("dp"), &text, &err), PBX_EINVALID));
	cr_assert(not(eq(str, err.message, "")));
}

Test(safe_path, link_planted_at_the_target_is_replaced_not_followed)
{
	pbx_error err = PBX_ERROR_INIT;
	char *text = NULL;
	struct stat st;

	mkdir(in("dp"), 0755);
	put(in("victim"), "precious\n");
	cr_assert(eq(int, symlink(in("victim"), in("dp/acme.conf")), 0));
	/* Reading what is deployed refuses the link. */
	cr_assert(eq(int, pbx_file_read(in("dp/acme.conf"), &text, &err), PBX_EPERM));
	cr_assert(not(eq(ptr, strstr(err.message, "symbolic link"), NULL)), "%s", err.message);
	/* Writing replaces the link itself; its target keeps its content. */
	cr_assert(eq(int, pbx_file_write_atomic(in("dp/acme.conf"), "new\n", 0644, &err), 0),
		  "%s", err.message);
	cr_assert(eq(str, get(in("victim")), "precious\n"));
	cr_assert(eq(int, lstat(in("dp/acme.conf"), &st), 0));
	cr_assert(eq(int, S_ISREG(st.st_mode) ? 1 : 0, 1));
	cr_assert(eq(str, get(in("dp/acme.conf")), "new\n"));
}

Test(safe_path, link_at_a_temporary_name_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;
	int dfd, fd = -1;

	mkdir(in("dp"), 0755);
	cr_assert(eq(int, symlink(in("elsewhere"), in("dp/.x.conf.aaaa.pbxctl-tmp")), 0));
	dfd = open(in("dp"), O_RDONLY | O_DIRECTORY);
	cr_assert(eq(int, pbx_file_open_new(dfd, ".x.conf.aaaa.pbxctl-tmp", 0600, &fd, &err),
		     PBX_ECONFLICT));
	cr_assert(eq(int, fd, -1));
	close(dfd);
	cr_assert(eq(int, access(in("elsewhere"), F_OK), -1), "the link was followed");
}

Test(safe_path, temporary_names_are_unpredictable)
{
	char a[300], b[300];
	const char *r;

	pbx_file_temp_name("acme.conf", a, sizeof(a));
	pbx_file_temp_name("acme.conf", b, sizeof(b));
	cr_assert(not(eq(str, a, b)));
	cr_assert(eq(int, strncmp(a, ".acme.conf.", 11), 0), "%s", a);
	r = a + 11;
	/* 16 characters of 36 (82 bits) before the suffix */
	cr_assert(eq(sz, strlen(r), 16 + strlen(PBX_FILE_TEMP_SUFFIX)), "%s", a);
	cr_assert(eq(str, (char *)r + 16, PBX_FILE_TEMP_SUFFIX));
}

Test(safe_path, directory_given_as_a_link_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;

	mkdir(in("real"), 0755);
	cr_assert(eq(int, symlink(in("real"), in("dp")), 0));
	cr_assert(eq(int, pbx_file_write_atomic(in("dp/acme.conf"), "x\n", 0644, &err), PBX_EPERM));
	cr_assert(not(eq(ptr, strstr(err.object, "/dp"), NULL)), "%s", err.object);
	cr_assert(not(eq(ptr, strstr(err.message, "symbolic link"), NULL)), "%s", err.message);
	cr_assert(eq(int, access(in("real/acme.conf"), F_OK), -1));
	/* A link among the parents, in a directory only its owner writes, is an administrator's
	 * (/var/run -> /run) and is followed; the directory named last never is. */
	cr_assert(eq(int, pbx_file_mkdirs(in("dp/sub"), 0700, &err), 0), "%s", err.message);
	cr_assert(eq(int, access(in("real/sub"), F_OK), 0));
}

Test(safe_path, world_writable_directory_is_refused_by_name)
{
	pbx_error err = PBX_ERROR_INIT;
	char *text = NULL;

	mkdir(in("dp"), 0755);
	chmod(in("dp"), 0777);
	cr_assert(eq(int, pbx_file_write_atomic(in("dp/acme.conf"), "x\n", 0644, &err), PBX_EPERM));
	cr_assert(not(eq(ptr, strstr(err.object, in("dp")), NULL)), "%s", err.object);
	cr_assert(not(eq(ptr, strstr(err.message, "0777"), NULL)), "%s", err.message);
	cr_assert(eq(int, access(in("dp/acme.conf"), F_OK), -1));
	cr_assert(eq(int, pbx_file_read(in("dp/acme.conf"), &text, &err), PBX_EPERM));
	/* A world-writable parent without the sticky bit is refused too. */
	mkdir(in("open"), 0755);
	chmod(in("open"), 0777);
	cr_assert(eq(int, pbx_file_mkdirs(in("open/dp"), 0755, &err), PBX_EPERM));
	cr_assert(not(eq(ptr, strstr(err.object, "/open"), NULL)), "%s", err.object);
	/* Group-writable is allowed (an asterisk group may share the directory). */
	mkdir(in("grp"), 0775);
	chmod(in("grp"), 0775);
	cr_assert(eq(int, pbx_file_write_atomic(in("grp/acme.conf"), "x\n", 0644, &err), 0),
		  "%s", err.message);
}

Test(safe_path, sticky_shared_parent_is_allowed_but_no_link_in_it_is_followed)
{
	pbx_error err = PBX_ERROR_INIT;

	mkdir(in("tmp"), 0755);
	chmod(in("tmp"), 01777);
	cr_assert(eq(int, pbx_file_mkdirs(in("tmp/own/dp"), 0755, &err), 0), "%s", err.message);
	mkdir(in("real"), 0755);
	cr_assert(eq(int, symlink(in("real"), in("tmp/link")), 0));
	cr_assert(eq(int, pbx_file_mkdirs(in("tmp/link/dp"), 0755, &err), PBX_EPERM));
	cr_assert(eq(int, access(in("real/dp"), F_OK), -1));
}

Test(safe_path, dot_dot_is_refused)
{
	pbx_error err = PBX_ERROR_INIT;

	cr_assert(eq(int, pbx_file_mkdirs(in("a/../b"), 0755, &err), PBX_EINVALID));
	cr_assert(not(eq(ptr, strstr(err.message, ".."), NULL)), "%s", err.message);
}
