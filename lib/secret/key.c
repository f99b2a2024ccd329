/* SPDX-License-Identifier: MIT */
/*
 * The private key: creating the key file (new, 0600, never overwritten, fsync'd), loading
 * it with strict checks on type, permissions and format, the printable public half, and
 * the in-memory key object, kept in guarded read-only memory and wiped when freed. The
 * file is one line of text, "pbxctl-key-v2:<base64 of the 32-byte X25519 secret key>", so
 * an operator can recognise it; "pbxctl-key-v1:" files of the earlier secretbox scheme
 * still load as legacy keys.
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
_Static_assert(sizeof(PBX_SECRET_KEY_TAG) == sizeof(PBX_SECRET_LEGACY_KEY_TAG) &&
	       sizeof(PBX_SECRET_KEY_TAG) == sizeof(PBX_SECRET_PUBLIC_TAG),
	       "key tags have one length");
_Static_assert(crypto_box_SECRETKEYBYTES == PBX_SECRET_KEY_BYTES &&
	       crypto_box_PUBLICKEYBYTES == PBX_SECRET_KEY_BYTES &&
	       crypto_secretbox_KEYBYTES == PBX_SECRET_KEY_BYTES, "key sizes");
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

int pbx_secret_key_save(const pbx_secret_key *key, const char *path, pbx_error *err)
{
	char text[KEY_TEXT_BUFSZ];
	size_t len;
	int fd = -1, r;

	if (!path || !*path)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "key file path is empty");
	if (!key || key->kind != PBX_KEY_PRIVATE)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "only a private key is written to a key file");

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return create_error(path, errno, err);

	memcpy(text, PBX_SECRET_KEY_TAG, TAG_LEN);
	sodium_bin2base64(text + TAG_LEN, KEY_B64_BUFSZ, key->bytes, sizeof(key->bytes),
			  B64_VARIANT);
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
	sodium_memzero(text, sizeof(text));
	return r;
}

int pbx_secret_key_init(const char *path, pbx_error *err)
{
	pbx_secret_key *key = NULL;
	int r;

	if (!path || !*path)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "key file path is empty");
	if ((r = pbx_secret_key_generate(&key, err)) < 0)
		return r;
	r = pbx_secret_key_save(key, path, err);
	pbx_secret_key_free(key);
	return r;
}

int pbx_secret_key_keep(const char *path, const char *keep_path, pbx_error *err)
{
	if (link(path, keep_path) < 0 && errno != EEXIST)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot keep key file %s as %s: %s",
				  path, keep_path, strerror(errno));
	sync_parent(keep_path);
	return 0;
}

int pbx_secret_key_replace(const char *new_path, const char *path, pbx_error *err)
{
	if (rename(new_path, path) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot move key file %s to %s: %s",
				  new_path, path, strerror(errno));
	sync_parent(path);
	return 0;
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

/* Decode the base64 after a tag into exactly PBX_SECRET_KEY_BYTES at @out; 0 or -1. */
static int parse_b64(const char *b64, size_t b64_len, unsigned char *out)
{
	const char *end = NULL;
	size_t bin_len = 0;

	if (memchr(b64, '\0', b64_len))
		return -1;
	if (sodium_base642bin(out, PBX_SECRET_KEY_BYTES, b64, b64_len, NULL, &bin_len, &end,
			      B64_VARIANT) != 0)
		return -1;
	if (end != b64 + b64_len || bin_len != PBX_SECRET_KEY_BYTES)
		return -1;
	return 0;
}

/* Decode the text of a key file into @key (kind, bytes, public key); 0 or -1. */
static int parse_key(const char *text, size_t len, struct pbx_secret_key *key)
{
	/* One line; a trailing newline (or CRLF, if someone edited it elsewhere) is fine. */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len < TAG_LEN)
		return -1;
	if (!memcmp(text, PBX_SECRET_KEY_TAG, TAG_LEN))
		key->kind = PBX_KEY_PRIVATE;
	else if (!memcmp(text, PBX_SECRET_LEGACY_KEY_TAG, TAG_LEN))
		key->kind = PBX_KEY_LEGACY;
	else
		return -1;
	if (parse_b64(text + TAG_LEN, len - TAG_LEN, key->bytes) < 0)
		return -1;
	if (key->kind == PBX_KEY_PRIVATE && crypto_scalarmult_base(key->pk, key->bytes) != 0)
		return -1;
	pbx_secret_key_set_id(key);
	return 0;
}

void pbx_secret_key_set_id(struct pbx_secret_key *key)
{
	unsigned char h[PBX_SECRET_KEY_ID_LEN / 2];

	if (key->kind == PBX_KEY_LEGACY) {
		snprintf(key->id, sizeof(key->id), "v1");
		return;
	}
	crypto_generichash(h, sizeof(h), key->pk, sizeof(key->pk), NULL, 0);
	sodium_bin2hex(key->id, sizeof(key->id), h, sizeof(h));
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
	if (parse_key(text, len, key) < 0) {
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
	key->kind = PBX_KEY_PRIVATE;
	crypto_box_keypair(key->pk, key->bytes);
	pbx_secret_key_set_id(key);
	sodium_mprotect_readonly(key);
	*ret_key = key;
	return 0;
}

int pbx_secret_key_from_public(const char *text, pbx_secret_key **ret_key, pbx_error *err)
{
	pbx_secret_key *key = NULL;
	size_t len = text ? strlen(text) : 0;
	int r;

	if ((r = pbx_secret_sodium_ready(err)) < 0)
		return r;
	if (len < TAG_LEN || memcmp(text, PBX_SECRET_PUBLIC_TAG, TAG_LEN) != 0 ||
	    len >= PBX_SECRET_PUBLIC_BUFSZ)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "the published key is not a pbxctl public key");
	if ((r = key_alloc(&key, err)) < 0)
		return r;
	key->kind = PBX_KEY_PUBLIC;
	if (parse_b64(text + TAG_LEN, len - TAG_LEN, key->pk) < 0) {
		sodium_free(key);
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "the published key is not a pbxctl public key");
	}
	sodium_memzero(key->bytes, sizeof(key->bytes));
	pbx_secret_key_set_id(key);
	sodium_mprotect_readonly(key);
	*ret_key = key;
	return 0;
}

int pbx_secret_key_public_text(const pbx_secret_key *key, char *buf, size_t n,
			       pbx_error *err)
{
	if (key->kind == PBX_KEY_LEGACY)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL,
				  "a legacy key (pbxctl-key-v1) has no public half; run `pbxctl secrets rotate-key`");
	if (n < TAG_LEN + KEY_B64_BUFSZ)
		return pbx_errorf(err, PBX_EINVALID, NULL, NULL, "buffer too small for a public key");
	memcpy(buf, PBX_SECRET_PUBLIC_TAG, TAG_LEN);
	sodium_bin2base64(buf + TAG_LEN, n - TAG_LEN, key->pk, sizeof(key->pk), B64_VARIANT);
	return 0;
}

const char *pbx_secret_key_id(const pbx_secret_key *key)
{
	return key->id;
}

bool pbx_secret_key_can_open(const pbx_secret_key *key)
{
	return key && key->kind != PBX_KEY_PUBLIC;
}

bool pbx_secret_key_is_legacy(const pbx_secret_key *key)
{
	return key && key->kind == PBX_KEY_LEGACY;
}

void pbx_secret_key_free(pbx_secret_key *key)
{
	/* sodium_free makes the pages writable, zeroes them and checks the canary. */
	sodium_free(key);
}
