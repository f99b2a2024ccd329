/* SPDX-License-Identifier: MIT */
/*
 * Reaching the directories apply reads and writes (config, voicemail, backups) without being
 * led elsewhere: each path is walked one component at a time with openat(2) from "/", a
 * directory pbxctl creates or names last is never a symbolic link (O_NOFOLLOW), a directory
 * other users may write is refused (its parents only when they lack the sticky bit, as /tmp
 * has it; inside such a sticky directory no link is followed either), and files are then
 * opened relative to the directory's descriptor with O_NOFOLLOW. New files go through a
 * temporary file with an unpredictable name created with O_EXCL in the same directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "files.h"

#define TEMP_RANDOM 16
#define TEMP_ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789"

static int refuse_shared(const char *dir, const struct stat *st, pbx_error *err)
{
	char obj[PBX_ERR_OBJECT];

	snprintf(obj, sizeof(obj), "directory %s", dir);
	return pbx_errorf(err, PBX_EPERM, obj, NULL,
			  "other users can write to it (mode %04o); pbxctl only uses directories "
			  "that others cannot write (chmod o-w %s)",
			  (unsigned)(st->st_mode & 07777), dir);
}

static int fail_open(const char *dir, int dfd, const char *name, pbx_error *err)
{
	int e = errno;
	struct stat st;
	char obj[PBX_ERR_OBJECT];

	snprintf(obj, sizeof(obj), "directory %s", dir);
	if ((e == ELOOP || e == ENOTDIR) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return pbx_errorf(err, PBX_EPERM, obj, NULL,
				  "it is a symbolic link; pbxctl follows no link here (use the real path)");
	if (e == ENOTDIR)
		return pbx_errorf(err, PBX_EINVALID, obj, NULL, "it is not a directory");
	if (e == ENOENT)
		return pbx_errorf(err, PBX_ENOTFOUND, obj, NULL, "it does not exist");
	return pbx_errorf(err, e == EACCES || e == EPERM || e == EROFS ? PBX_EPERM : PBX_ERROR, obj,
			  NULL, "cannot open it: %s", strerror(e));
}

int pbx_dir_open(const char *path, bool create, int mode, int *ret_fd, pbx_error *err)
{
	char done[4096] = "", copy[4096], *save = NULL, *comp, *next;
	bool sticky_parent;
	struct stat st;
	int dfd, r;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy) || !*path)
		return pbx_errorf(err, PBX_EINVALID, "directory", NULL, "path too long or empty: %s",
				  path);
	dfd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		r = pbx_errorf(err, PBX_ERROR, "directory", NULL, "cannot open %s: %s",
			       path[0] == '/' ? "/" : ".", strerror(errno));
		goto fail;
	}
	snprintf(done, sizeof(done), "%s", path[0] == '/' ? "" : ".");
	sticky_parent = (st.st_mode & S_IWOTH) && (st.st_mode & S_ISVTX);
	for (comp = strtok_r(copy, "/", &save); comp; comp = next) {
		int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, fd;
		bool created = false, last;

		next = strtok_r(NULL, "/", &save);
		last = !next;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			r = pbx_errorf(err, PBX_EINVALID, "directory", NULL,
				       "%s: \"..\" is not allowed in the path", path);
			goto fail;
		}
		snprintf(done + strlen(done), sizeof(done) - strlen(done), "/%s", comp);
		/* Links are followed only in parents nobody else writes, as an administrator
		 * made them (/var/run -> /run); never for the last or a created directory. */
		if (last || sticky_parent)
			flags |= O_NOFOLLOW;
		fd = openat(dfd, comp, flags);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(dfd, comp, (mode_t)mode) == 0)
				created = true;
			else if (errno != EEXIST) {
				char obj[PBX_ERR_OBJECT];

				snprintf(obj, sizeof(obj), "directory %s", done);
				r = pbx_errorf(err, errno == EACCES || errno == EROFS ? PBX_EPERM : PBX_ERROR,
					       obj, NULL, "cannot create it: %s", strerror(errno));
				goto fail;
			}
			fd = openat(dfd, comp, flags | O_NOFOLLOW);
		}
		if (fd < 0) {
			r = fail_open(done, dfd, comp, err);
			goto fail;
		}
		close(dfd);
		dfd = fd;
		if (created && fchmod(dfd, (mode_t)mode) < 0) {
			r = pbx_errorf(err, PBX_ERROR, "directory", NULL, "cannot set the mode of %s: %s",
				       done, strerror(errno));
			goto fail;
		}
		if (fstat(dfd, &st) < 0) {
			r = pbx_errorf(err, PBX_ERROR, "directory", NULL, "cannot stat %s: %s", done,
				       strerror(errno));
			goto fail;
		}
		if ((st.st_mode & S_IWOTH) && (last || !(st.st_mode & S_ISVTX))) {
			r = refuse_shared(done, &st, err);
			goto fail;
		}
		/* A sticky shared directory of someone else could swap what it holds. */
		if (sticky_parent && st.st_uid != 0 && st.st_uid != geteuid()) {
			char obj[PBX_ERR_OBJECT];

			snprintf(obj, sizeof(obj), "directory %s", done);
			r = pbx_errorf(err, PBX_EPERM, obj, NULL,
				       "it lies in a directory every user can write and belongs to another user");
			goto fail;
		}
		sticky_parent = (st.st_mode & S_IWOTH) && (st.st_mode & S_ISVTX);
	}
	*ret_fd = dfd;
	return 0;
fail:
	if (dfd >= 0)
		close(dfd);
	return r;
}

void pbx_file_temp_name(const char *name, char *buf, size_t n)
{
	char rnd[TEMP_RANDOM + 1];

	for (size_t i = 0; i < TEMP_RANDOM; i++)
		rnd[i] = TEMP_ALPHABET[randombytes_uniform(sizeof(TEMP_ALPHABET) - 1)];
	rnd[TEMP_RANDOM] = '\0';
	snprintf(buf, n, ".%.200s.%s" PBX_FILE_TEMP_SUFFIX, name, rnd);
}

int pbx_file_open_new(int dfd, const char *name, int mode, int *ret_fd, pbx_error *err)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			(mode_t)mode);

	if (fd < 0)
		return pbx_errorf(err, errno == EEXIST ? PBX_ECONFLICT : PBX_EPERM, "file", NULL,
				  "cannot create %s: %s", name, strerror(errno));
	/* The umask may have taken bits away; never adds any. */
	if (fchmod(fd, (mode_t)mode) < 0) {
		close(fd);
		unlinkat(dfd, name, 0);
		return pbx_errorf(err, PBX_ERROR, "file", NULL, "cannot set the mode of %s: %s", name,
				  strerror(errno));
	}
	*ret_fd = fd;
	return 0;
}

int pbx_file_write_at(int dfd, const char *dir, const char *name, const char *text, int mode,
		      pbx_error *err)
{
	char tmp[300];
	size_t len = strlen(text), off = 0;
	int fd = -1, r = PBX_ECONFLICT;

	if (sodium_init() < 0)
		return pbx_errorf(err, PBX_ERROR, "file", NULL, "no random source for a temporary name");
	/* A clash of 16 random characters means someone plants names: try a few, then stop. */
	for (int i = 0; i < 4 && r == PBX_ECONFLICT; i++) {
		pbx_file_temp_name(name, tmp, sizeof(tmp));
		r = pbx_file_open_new(dfd, tmp, mode, &fd, err);
	}
	if (r < 0)
		return r;
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		off += (size_t)k;
	}
	if (fsync(fd) < 0)
		goto fail;
	r = close(fd);
	fd = -1;
	/* rename never follows a link at @name: a planted link is replaced, not written through */
	if (r < 0 || renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	fsync(dfd);
	return 0;
fail:
	r = pbx_errorf(err, PBX_ERROR, "file", NULL, "cannot write %s/%s: %s", dir, name,
		       strerror(errno));
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	return r;
}

int pbx_file_read_at(int dfd, const char *dir, const char *name, char **ret, pbx_error *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	char *buf = NULL;
	size_t n = 0, cap = 0;
	struct stat st;

	*ret = NULL;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return pbx_errorf(err, PBX_EPERM, "file", NULL,
				  "%s/%s is a symbolic link; pbxctl follows no link here", dir, name);
	if (fd < 0)
		return pbx_errorf(err, PBX_EPERM, "file", NULL, "cannot read %s/%s: %s", dir, name,
				  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pbx_errorf(err, PBX_EINVALID, "file", NULL, "%s/%s is not a regular file", dir,
				  name);
	}
	for (;;) {
		ssize_t k;

		if (cap - n < 4096) {
			char *p = realloc(buf, cap = cap * 2 + 8192);

			if (!p) {
				free(buf);
				close(fd);
				return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			}
			buf = p;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			close(fd);
			return pbx_errorf(err, PBX_ERROR, "file", NULL, "cannot read %s/%s: %s", dir,
					  name, strerror(errno));
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	*ret = buf;
	return 0;
}

void pbx_dir_remove_temps(const char *dir)
{
	pbx_error ignored;
	struct dirent *e;
	DIR *d;
	int dfd;

	if (pbx_dir_open(dir, false, 0, &dfd, &ignored) < 0)
		return;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(PBX_FILE_TEMP_SUFFIX);

		if (len > sl && !strcmp(e->d_name + len - sl, PBX_FILE_TEMP_SUFFIX))
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}
