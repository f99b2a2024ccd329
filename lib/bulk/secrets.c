/* SPDX-License-Identifier: MIT */
/*
 * The --secrets-out file: the SIP credentials of the devices an import created, for handing
 * to phones. It is created with mode 0600 and O_EXCL, so an existing file (perhaps holding
 * the credentials of an earlier run) is never overwritten or mixed with new ones; it is
 * written and fsync'd before the import commits, and removed when the import fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbx/secret.h"
#include "pbx/user.h"
#include "bulk-internal.h"

int bulk_secrets_check(const char *path, pbx_error *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return pbx_errorf(err, PBX_ECONFLICT, path, "secrets_out",
				  "the secrets file exists; pbxctl never overwrites one: move it away "
				  "or name a new file");
	return 0;
}

int bulk_secrets_create(const char *path, FILE **ret, pbx_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0) {
		if (errno == EEXIST)
			return bulk_secrets_check(path, err) < 0 ? err->code :
			       pbx_errorf(err, PBX_ECONFLICT, path, "secrets_out", "the secrets file exists");
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return pbx_errorf(err, PBX_EPERM, path, "secrets_out",
					  "cannot create the secrets file: %s", strerror(errno));
		return pbx_errorf(err, PBX_EINVALID, path, "secrets_out",
				  "cannot create the secrets file: %s", strerror(errno));
	}
	/* Whatever the umask, the file is the owner's alone. */
	if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
		int e = errno;

		close(fd);
		unlink(path);
		return pbx_errorf(err, PBX_ERROR, path, "secrets_out", "cannot open the secrets file: %s",
				  strerror(e));
	}
	*ret = f;
	return 0;
}

int bulk_secrets_write(FILE *f, const char *path, const struct bulk_secret *s, size_t n,
		       pbx_error *err)
{
	struct bulk_emitter *em;
	int r;

	if (bulk_emit_open(&em, f, PBX_BULK_YAML) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	bulk_emit_seq_start(em, false);
	for (size_t i = 0; i < n; i++) {
		bulk_emit_map_start(em);
		bulk_emit_key(em, "tenant");
		bulk_emit_value(em, PBX_FT_STRING, s[i].tenant);
		bulk_emit_key(em, "user");
		bulk_emit_value(em, PBX_FT_STRING, s[i].user);
		bulk_emit_key(em, "extension");
		bulk_emit_value(em, PBX_FT_INT, s[i].extension);
		bulk_emit_key(em, "label");
		bulk_emit_value(em, PBX_FT_STRING, s[i].label);
		bulk_emit_key(em, "sip_username");
		bulk_emit_value(em, PBX_FT_STRING, s[i].sip_username);
		bulk_emit_key(em, "secret");
		bulk_emit_value(em, PBX_FT_STRING, s[i].secret);
		bulk_emit_map_end(em);
	}
	bulk_emit_seq_end(em);
	r = bulk_emit_close(em);
	if (r == 0 && fsync(fileno(f)) < 0)
		r = PBX_ERROR;
	if (r < 0)
		return pbx_errorf(err, PBX_ERROR, path, "secrets_out",
				  "cannot write the secrets file: %s", strerror(errno));
	return 0;
}

void bulk_secrets_wipe(struct bulk_secret *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].secret)
			pbx_secret_wipe(s[i].secret, strlen(s[i].secret));
}
