/* SPDX-License-Identifier: MIT */
/*
 * Greeting audio (pbx/greeting.h): recognising WAV and MP3 by their first bytes, decoding
 * with libsndfile from memory, mixing down to mono, resampling to 8 kHz with libsamplerate,
 * and writing the result atomically into a voicemail box directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "pbx/greeting.h"

/* Highest input rate accepted: keeps the decoded buffer bounded. */
#define MAX_RATE 192000

struct mem {
	const unsigned char *p;
	sf_count_t len, pos;
};

static sf_count_t mem_len(void *u)
{
	return ((struct mem *)u)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *u)
{
	struct mem *m = u;
	sf_count_t to = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->len + off;

	if (to < 0 || to > m->len)
		return -1;
	m->pos = to;
	return to;
}

static sf_count_t mem_read(void *buf, sf_count_t n, void *u)
{
	struct mem *m = u;

	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mem_write(const void *buf, sf_count_t n, void *u)
{
	(void)buf;
	(void)n;
	(void)u;
	return 0;
}

static sf_count_t mem_tell(void *u)
{
	return ((struct mem *)u)->pos;
}

/* "wav", "mp3", or NULL: by content only. */
static const char *sniff(const unsigned char *p, size_t len)
{
	if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WAVE", 4))
		return "wav";
	if (len >= 10 && !memcmp(p, "ID3", 3))
		return "mp3";
	/* An MPEG audio frame header: 11 sync bits, layer III. */
	if (len >= 4 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0 && (p[1] & 0x06) == 0x02)
		return "mp3";
	return NULL;
}

static int refuse(pbx_error *err, const char *object, const char *why)
{
	return pbx_errorf(err, PBX_EINVALID, object, "file", "%s", why);
}

void pbx_greeting_audio_free(struct pbx_greeting_audio *a)
{
	free(a->pcm);
	*a = (struct pbx_greeting_audio){ .pcm = NULL };
}

/* Decode everything into mono floats; *@ret owned by the caller. */
static int decode(SNDFILE *sf, const SF_INFO *info, const char *object, float **ret,
		  size_t *ret_n, pbx_error *err)
{
	size_t cap = (size_t)info->samplerate * PBX_GREETING_MAX_SECONDS + 1, n = 0;
	float *mono = malloc(cap * sizeof(*mono)), *chunk = NULL;
	int ch = info->channels;
	sf_count_t got;

	if (mono)
		chunk = malloc((size_t)4096 * (size_t)ch * sizeof(*chunk));
	if (!mono || !chunk) {
		free(mono);
		free(chunk);
		return pbx_errorf(err, PBX_ERROR, object, NULL, "out of memory");
	}
	while ((got = sf_readf_float(sf, chunk, 4096)) > 0) {
		for (sf_count_t i = 0; i < got; i++) {
			float s = 0;

			if (n == cap) {
				free(mono);
				free(chunk);
				return pbx_errorf(err, PBX_EINVALID, object, "file",
						  "the greeting is longer than %d minutes",
						  PBX_GREETING_MAX_SECONDS / 60);
			}
			for (int c = 0; c < ch; c++)
				s += chunk[i * ch + c];
			mono[n++] = s / (float)ch;
		}
	}
	free(chunk);
	if (sf_error(sf) != SF_ERR_NO_ERROR) {
		free(mono);
		return pbx_errorf(err, PBX_EINVALID, object, "file", "the audio is corrupt: %s",
				  sf_strerror(sf));
	}
	*ret = mono;
	*ret_n = n;
	return 0;
}

int pbx_greeting_convert(const void *data, size_t len, const char *object,
			 struct pbx_greeting_audio *ret, pbx_error *err)
{
	struct mem m = { .p = data, .len = (sf_count_t)len };
	SF_VIRTUAL_IO io = { mem_len, mem_seek, mem_read, mem_write, mem_tell };
	SF_INFO info = { .format = 0 };
	const char *kind = sniff(data, len);
	float *mono = NULL, *out = NULL;
	size_t n = 0;
	SNDFILE *sf;
	int r, major;

	*ret = (struct pbx_greeting_audio){ .pcm = NULL };
	if (len > PBX_GREETING_MAX_BYTES)
		return pbx_errorf(err, PBX_EINVALID, object, "file",
				  "the file has %zu bytes; a greeting may have at most %d (5 MB)",
				  len, PBX_GREETING_MAX_BYTES);
	if (!kind)
		return refuse(err, object, "the file is neither WAV nor MP3 (judged by its content)");
	if (!(sf = sf_open_virtual(&io, SFM_READ, &info, &m)))
		return pbx_errorf(err, PBX_EINVALID, object, "file",
				  "the %s file cannot be read as audio: %s", kind, sf_strerror(NULL));
	major = info.format & SF_FORMAT_TYPEMASK;
	if ((!strcmp(kind, "wav") && major != SF_FORMAT_WAV) ||
	    (!strcmp(kind, "mp3") && major != SF_FORMAT_MPEG)) {
		sf_close(sf);
		return refuse(err, object, "the file's content is not the audio its header claims");
	}
	if (info.channels < 1 || info.channels > 8 || info.samplerate < 1000 ||
	    info.samplerate > MAX_RATE) {
		sf_close(sf);
		return pbx_errorf(err, PBX_EINVALID, object, "file",
				  "%d channels at %d Hz are not a greeting (1 to 8 channels, "
				  "1000 to %d Hz)", info.channels, info.samplerate, MAX_RATE);
	}
	r = decode(sf, &info, object, &mono, &n, err);
	sf_close(sf);
	if (r < 0)
		return r;
	if (n < (size_t)info.samplerate / 10) {
		free(mono);
		return refuse(err, object, "the file holds no audio (less than 0.1 seconds)");
	}
	{
		double ratio = (double)PBX_GREETING_RATE / info.samplerate;
		size_t cap = (size_t)((double)n * ratio) + 64;
		SRC_DATA src = { .data_in = mono, .input_frames = (long)n, .src_ratio = ratio };

		out = malloc(cap * sizeof(*out));
		ret->pcm = malloc(cap * sizeof(*ret->pcm));
		if (!out || !ret->pcm) {
			r = pbx_errorf(err, PBX_ERROR, object, NULL, "out of memory");
			goto cleanup;
		}
		src.data_out = out;
		src.output_frames = (long)cap;
		if (info.samplerate == PBX_GREETING_RATE) {
			memcpy(out, mono, n * sizeof(*out));
			src.output_frames_gen = (long)n;
		} else if ((r = src_simple(&src, SRC_SINC_MEDIUM_QUALITY, 1)) != 0) {
			r = pbx_errorf(err, PBX_ERROR, object, "file", "resampling failed: %s",
				       src_strerror(r));
			goto cleanup;
		}
		src_float_to_short_array(out, ret->pcm, (int)src.output_frames_gen);
		ret->frames = (size_t)src.output_frames_gen;
		ret->format = kind;
	}
	r = 0;
cleanup:
	free(mono);
	free(out);
	if (r < 0)
		pbx_greeting_audio_free(ret);
	return r;
}

/* uid and gid for "user[:group]" (NULL: "asterisk" if it exists); -1 = leave. */
static int owner_ids(const char *owner, uid_t *uid, gid_t *gid, pbx_error *err)
{
	char user[64] = "asterisk", group[64] = "";
	const struct passwd *pw;
	const struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (owner && *owner) {
		const char *colon = strchr(owner, ':');

		snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - owner) : 63, owner);
		if (colon)
			snprintf(group, sizeof(group), "%s", colon + 1);
	}
	pw = getpwnam(user);
	if (!pw) {
		if (owner && *owner)
			return pbx_errorf(err, PBX_EINVALID, "config", "asterisk.voicemail_owner",
					  "user %s does not exist", user);
		return 0;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group[0]) {
		if (!(gr = getgrnam(group)))
			return pbx_errorf(err, PBX_EINVALID, "config", "asterisk.voicemail_owner",
					  "group %s does not exist", group);
		*gid = gr->gr_gid;
	}
	return 0;
}

static int io_error(pbx_error *err, const char *what, const char *path)
{
	int code = errno == EACCES || errno == EPERM || errno == EROFS ? PBX_EPERM : PBX_ERROR;

	return pbx_errorf(err, code, NULL, NULL, "%s %s: %s", what, path, strerror(errno));
}

/* mkdir -p for the box directory (the spool itself must exist). */
static int make_dir(const char *dir, uid_t uid, gid_t gid, pbx_error *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = strchr(path + 1, '/'); ; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(path, 0750) == 0) {
			if (uid != (uid_t)-1 && chown(path, uid, gid) < 0)
				return io_error(err, "cannot give", path);
		} else if (errno != EEXIST) {
			return io_error(err, "cannot create", path);
		}
		if (!p)
			return 0;
		*p = '/';
	}
}

/* Remove the box's other unavail.* files, which Asterisk could play instead. */
static void remove_others(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4200];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "unavail.", 8) && strcmp(e->d_name, PBX_GREETING_FILE)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
}

int pbx_greeting_write(const char *dir, const char *owner, const struct pbx_greeting_audio *a,
		       pbx_error *err)
{
	SF_INFO info = { .samplerate = PBX_GREETING_RATE, .channels = 1,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	char tmp[4200], final[4200], rnd[17];
	unsigned char b[8];
	SNDFILE *sf;
	uid_t uid;
	gid_t gid;
	int fd, r, dfd;

	if ((r = owner_ids(owner, &uid, &gid, err)) < 0 || (r = make_dir(dir, uid, gid, err)) < 0)
		return r;
	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(rnd, sizeof(rnd), b, sizeof(b));
	snprintf(tmp, sizeof(tmp), "%s/.unavail.%s.tmp", dir, rnd);
	snprintf(final, sizeof(final), "%s/" PBX_GREETING_FILE, dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return io_error(err, "cannot create", tmp);
	if (!(sf = sf_open_fd(fd, SFM_WRITE, &info, 0))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot write %s: %s", tmp, sf_strerror(NULL));
		goto fail;
	}
	if (sf_writef_short(sf, a->pcm, (sf_count_t)a->frames) != (sf_count_t)a->frames) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "cannot write %s: %s", tmp, sf_strerror(sf));
		sf_close(sf);
		goto fail;
	}
	sf_close(sf);
	if ((uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) || fchmod(fd, 0640) < 0) {
		r = io_error(err, "cannot give", tmp);
		goto fail;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		r = io_error(err, "cannot write", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, final) < 0) {
		r = io_error(err, "cannot rename to", final);
		goto fail;
	}
	remove_others(dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}
