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

/* Read a whole file; *ret NULL (and 0 returned) when it does not exist. */
int pbx_file_read(const char *path, char **ret, pbx_error *err);

/* mkdir -p with @mode. */
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
