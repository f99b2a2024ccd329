/* SPDX-License-Identifier: MIT */
/*
 * Inside libpbx: the file side of apply — reading what is deployed, writing atomically,
 * backing up and restoring, and a unified diff for dry runs.
 */
#ifndef PBX_APPLY_FILES_H
#define PBX_APPLY_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/error.h"

/* Suffix of apply's temporary files (removed when an apply died mid-write). */
#define PBX_FILE_TEMP_SUFFIX ".pbxctl-tmp"

/*
 * Open directory @path (O_DIRECTORY) into *@ret_fd, walking it from "/" with openat: the last
 * component and every directory created (with @create, mode @mode exactly) are opened with
 * O_NOFOLLOW; links are followed only in parents that others cannot write; a directory that
 * others can write is refused (parents: unless sticky, as /tmp). Errors: PBX_ENOTFOUND (a
 * component is missing and !@create), PBX_EPERM (a link where none may be, writable by
 * others, no access), PBX_EINVALID (not a directory, ".."), PBX_ERROR.
 */
int pbx_dir_open(const char *path, bool create, int mode, int *ret_fd, pbx_error *err);

/* Remove the temporary files an apply that died left in @dir (best effort). */
void pbx_dir_remove_temps(const char *dir);

/* ".<name>.<16 random characters>.pbxctl-tmp" into @buf: nobody can predict it. */
void pbx_file_temp_name(const char *name, char *buf, size_t n);

/*
 * Create @name in directory @dfd with O_CREAT|O_EXCL|O_NOFOLLOW and exactly @mode. An
 * existing entry, a symbolic link included, is PBX_ECONFLICT; PBX_EPERM, PBX_ERROR.
 */
int pbx_file_open_new(int dfd, const char *name, int mode, int *ret_fd, pbx_error *err);

/* Write @text to @name in @dfd (@dir for messages): temporary file by pbx_file_open_new,
 * fsync, renameat over @name (a link there is replaced, never followed), fsync of @dfd. */
int pbx_file_write_at(int dfd, const char *dir, const char *name, const char *text, int mode,
		      pbx_error *err);

/* Read regular file @name in @dfd without following a link; *ret NULL when missing. */
int pbx_file_read_at(int dfd, const char *dir, const char *name, char **ret, pbx_error *err);

/* Read a whole file; *ret NULL (and 0 returned) when it or its directory does not exist. */
int pbx_file_read(const char *path, char **ret, pbx_error *err);

/* mkdir -p with @mode (pbx_dir_open with @create). */
int pbx_file_mkdirs(const char *path, int mode, pbx_error *err);

/* Write @text to @path: temporary file in the same directory, fsync, rename, fsync dir. */
int pbx_file_write_atomic(const char *path, const char *text, int mode, pbx_error *err);

/* Remove @path (missing is fine) and fsync its directory. */
int pbx_file_remove(const char *path, pbx_error *err);

/* Append a unified diff of @a (old) and @b (new) labelled @name to *@out (malloc'd). */
int pbx_diff_append(char **out, const char *name, const char *a, const char *b, pbx_error *err);

/* Append printf text to a malloc'd string. */
int pbx_str_appendf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
