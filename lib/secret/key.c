/* SPDX-License-Identifier: MIT */
/*
 * The sealing key: creating the key file (new, 0600, never overwritten, fsync'd), loading
 * it with strict checks on type, permissions and format, and the in-memory key object,
 * kept in guarded read-only memory and wiped when freed. The file is one line of text,
 * "pbxctl-key-v1:<base64 of 32 bytes>", so an operator can recognise it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "pbx/error.h"
#include "pbx/secret.h"

#include "secret-internal.h"

#define TAG_LEN (sizeof(PBX_SECRET_KEY_TAG) - 1)
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL
/* Base64 text of the key, with its NUL. */
#define KEY_B64_BUFSZ sodium_base64_ENCODED_LEN(PBX_SECRET_KEY_BYTES, B64_VARIANT)
/* Tag, base64, newline and NUL. */
#define KEY_TEXT_BUFSZ (TAG_LEN + KEY_B64_BUFSZ + 1)
/* A key file is far smaller; anything bigger is not ours, and is never read whole. */
#define KEY_FILE_MAX 256

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make the new directory entry durable too; best effort, as the file itself is synced. */
static void sync_parent(const char *path)
{
	char dir[4096];
	char *slash;
	int fd;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return;
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

static int create_error(const char *path, int e, pbx_error *err)
{
	switch (e) {
	case EEXIST:
		return pbx_errorf(err, PBX_ECONFLICT, NULL, NULL,
				  "key file %s already exists; refusing to overwrite", path);
	case ENOENT:
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "cannot create key file %s: its directory does not exist", path);
	case ENOTDIR:
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "cannot create key file %s: a parent is not a directory", path);
	case EISDIR:
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "cannot create key file %s: it names a directory", path);
	case EACCES:
	case EPERM:
	case EROFS:
		return pbx_errorf(err, PBX_EPERM, NULL, NULL,
				  "cannot create key file %s: %s", path, strerror(e));
	default:
		return pbx_errorf(err, PBX_ERROR, NULL, NULL,
				  "cannot create key file %s: %s", path, strerror(e));
	}
}

int pbx_secret_key_init(const char *path, pbx_error *err)
{
	unsigned char key[PBX_SECRET_KEY_BYTES];
	char text[KEY_TEXT_BUFSZ];
	size_t len;
	int fd = -1, r;

	if (!path || !*path)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "key file path is empty");
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return create_error(path, errno, err);

	crypto_secretbox_keygen(key);
	memcpy(text, PBX_SECRET_KEY_TAG, TAG_LEN);
	sodium_bin2base64(text + TAG_LEN, KEY_B64_BUFSZ, key, sizeof(key), B64_VARIANT);
	len = strlen(text);
	text[len++] = '\n';

	/* The umask may only take bits away; make the mode exactly 0600 regardless. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot write key file %s: %s",
			       path, strerror(errno));
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot write key file %s: %s",
			       path, strerror(errno));
		goto cleanup;
	}
	fd = -1;
	sync_parent(path);
	r = 0;

cleanup:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(path);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	return r;
}

static int open_error(const char *path, int e, pbx_error *err)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL,
				  "key file %s does not exist; create it with `pbxctl secrets init`",
				  path);
	case EACCES:
	case EPERM:
		pbx_errorf(err, PBX_EPERM, NULL, NULL, "key file %s is not readable: %s",
			   path, strerror(e));
		pbx_error_set_hint(err, "Run pbxctl as a member of the key file's group "
				   "(the file is mode 0600 or 0640).");
		return PBX_EPERM;
	default:
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot open key file %s: %s",
				  path, strerror(e));
	}
}

/* Read at most KEY_FILE_MAX bytes; *ret_len > KEY_FILE_MAX - 1 means "too long". */
static int read_small(int fd, char *buf, size_t *ret_len)
{
	size_t len = 0;

	while (len < KEY_FILE_MAX) {
		ssize_t n = read(fd, buf + len, KEY_FILE_MAX - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_len = len;
	return 0;
}

static int not_a_key(const char *path, pbx_error *err)
{
	return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "key file %s is not a pbxctl key", path);
}

/* Decode the text of a key file into @out; 0 or -1. */
static int parse_key(const char *text, size_t len, unsigned char *out)
{
	const char *b64, *end = NULL;
	size_t b64_len, bin_len = 0;

	/* One line; a trailing newline (or CRLF, if someone edited it elsewhere) is fine. */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len < TAG_LEN || memcmp(text, PBX_SECRET_KEY_TAG, TAG_LEN) != 0)
		return -1;
	b64 = text + TAG_LEN;
	b64_len = len - TAG_LEN;
	if (memchr(b64, '\0', b64_len))
		return -1;
	if (sodium_base642bin(out, PBX_SECRET_KEY_BYTES, b64, b64_len, NULL, &bin_len, &end,
			      B64_VARIANT) != 0)
		return -1;
	if (end != b64 + b64_len || bin_len != PBX_SECRET_KEY_BYTES)
		return -1;
	return 0;
}

static int key_alloc(pbx_secret_key **ret_key, pbx_error *err)
{
	*ret_key = sodium_malloc(sizeof(**ret_key));
	if (!*ret_key)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory for the key");
	return 0;
}

int pbx_secret_key_load(const char *path, pbx_secret_key **ret_key, pbx_error *err)
{
	char text[KEY_FILE_MAX];
	pbx_secret_key *key = NULL;
	struct stat st;
	size_t len = 0;
	int fd = -1, r;

	if (!path || !*path)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "key file path is empty");
	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us before the type check. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return open_error(path, errno, err);
	if (fstat(fd, &st) < 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot stat key file %s: %s",
			       path, strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		r = pbx_errorf(err, PBX_EINVALID, NULL, NULL,
			       "key file %s is not a regular file", path);
		goto cleanup;
	}
	if (st.st_mode & PBX_SECRET_KEY_FORBIDDEN_MODE) {
		r = pbx_errorf(err, PBX_EPERM, NULL, NULL,
			       "key file %s is open to other users (mode %04o); run `chmod 600 %s`",
			       path, (unsigned)(st.st_mode & 07777), path);
		pbx_error_set_hint(err, "The key must be readable only by its owner, or by the "
				   "owner and the pbxctl group (mode 0640).");
		goto cleanup;
	}
	if (read_small(fd, text, &len) < 0) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot read key file %s: %s",
			       path, strerror(errno));
		goto cleanup;
	}
	if (len >= KEY_FILE_MAX) {
		r = not_a_key(path, err);
		goto cleanup;
	}
	r = key_alloc(&key, err);
	if (r < 0)
		goto cleanup;
	if (parse_key(text, len, key->bytes) < 0) {
		r = not_a_key(path, err);
		goto cleanup;
	}
	sodium_mprotect_readonly(key);
	*ret_key = key;
	key = NULL;
	r = 0;

cleanup:
	if (fd >= 0)
		close(fd);
	sodium_free(key);
	sodium_memzero(text, sizeof(text));
	return r;
}

int pbx_secret_key_generate(pbx_secret_key **ret_key, pbx_error *err)
{
	pbx_secret_key *key = NULL;
	int r;

	r = pbx_secret_sodium_ready(err);
	if (r < 0)
		return r;
	r = key_alloc(&key, err);
	if (r < 0)
		return r;
	crypto_secretbox_keygen(key->bytes);
	sodium_mprotect_readonly(key);
	*ret_key = key;
	return 0;
}

void pbx_secret_key_free(pbx_secret_key *key)
{
	/* sodium_free makes the pages writable, zeroes them and checks the canary. */
	sodium_free(key);
}
