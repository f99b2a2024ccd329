/* SPDX-License-Identifier: MIT */
/*
 * A voicemail box's unavailable greeting: a WAV or MP3 file of at most
 * PBX_GREETING_MAX_BYTES, recognised by its content (never by its name), decoded with
 * libsndfile, mixed down to mono, resampled with libsamplerate to the 8 kHz 16-bit WAV that
 * Asterisk plays, and stored atomically as <voicemail_spool>/<slug>/<ext>/unavail.wav with
 * the owner Asterisk needs (config asterisk.voicemail_owner). A file that is too big, too
 * long (over PBX_GREETING_MAX_SECONDS), corrupt or not audio is refused with nothing
 * written. Every change is audited (no audio in the audit row, only its length).
 */
#ifndef PBX_GREETING_H
#define PBX_GREETING_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx/pbx.h"
#include "pbx/schema.h"

#define PBX_GREETING_MAX_BYTES (5 * 1024 * 1024)
#define PBX_GREETING_MAX_SECONDS 300
#define PBX_GREETING_RATE 8000
#define PBX_GREETING_FILE "unavail.wav"

extern const struct pbx_schema pbx_schema_greeting;

/* Audio ready for Asterisk: 8 kHz mono 16-bit samples. */
struct pbx_greeting_audio {
	short *pcm;            /* malloc'd */
	size_t frames;
	const char *format;    /* "wav" or "mp3": what the input was */
};

/*
 * Check and convert @len bytes at @data (an uploaded file). @object names it in errors.
 * PBX_EINVALID, field "file": over PBX_GREETING_MAX_BYTES, neither WAV nor MP3 by its
 * content, unreadable or corrupt audio, no sound at all, over PBX_GREETING_MAX_SECONDS.
 * PBX_ERROR (out of memory). Free @ret with pbx_greeting_audio_free.
 */
int pbx_greeting_convert(const void *data, size_t len, const char *object,
			 struct pbx_greeting_audio *ret, pbx_error *err);
void pbx_greeting_audio_free(struct pbx_greeting_audio *a);

/* Read the file at @path (refusing more than PBX_GREETING_MAX_BYTES before reading) and
 * convert it as pbx_greeting_convert does; field "file" for every bad kind. */
int pbx_greeting_load(const char *path, const char *object, struct pbx_greeting_audio *ret,
		      pbx_error *err);

/*
 * Write @a as @dir/PBX_GREETING_FILE: a temporary file created with O_EXCL in @dir, written,
 * given @owner ("user[:group]", NULL: "asterisk" when that user exists, else unchanged) and
 * mode 0640, fsync'd and renamed; other "unavail.*" files of the box are removed so that
 * Asterisk plays this one. @dir is created (0750) when missing. PBX_ERROR, PBX_EPERM.
 */
int pbx_greeting_write(const char *dir, const char *owner, const struct pbx_greeting_audio *a,
		       pbx_error *err);

/*
 * Upload @path as the greeting of @user of @tenant (who must have voicemail); @ret gets one
 * pbx_schema_greeting row. PBX_EINVALID, PBX_ENOTFOUND, PBX_ECONFLICT (no voicemail),
 * PBX_EPERM (the spool is not writable).
 */
int pbx_greeting_set(pbx_ctx *ctx, const char *tenant, const char *user, const char *path,
		     struct pbx_rows *ret, pbx_error *err);
/* The greeting's state (present, length, size, time). PBX_ENOTFOUND (user). */
int pbx_greeting_show(pbx_ctx *ctx, const char *tenant, const char *user, struct pbx_rows *ret,
		      pbx_error *err);
/* Remove it (Asterisk then plays its standard message). */
int pbx_greeting_delete(pbx_ctx *ctx, const char *tenant, const char *user,
			struct pbx_rows *ret, bool *ret_changed, pbx_error *err);

#endif
