/* SPDX-License-Identifier: MIT */
/*
 * The error record: formatting into fixed buffers, sanitizing hostile text, and the
 * diagnostic list used where every problem must be reported at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/error.h"

char *pbx_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

static void copy_field(char *dst, size_t n, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, n, "%s", src);
	pbx_sanitize(dst);
}

int pbx_verrorf(pbx_error *err, int code, const char *object, const char *field,
		const char *fmt, va_list ap)
{
	if (!err)
		return code;
	pbx_error_clear(err);
	err->code = code;
	copy_field(err->object, sizeof(err->object), object);
	copy_field(err->field, sizeof(err->field), field);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	pbx_sanitize(err->message);
	return code;
}

int pbx_errorf(pbx_error *err, int code, const char *object, const char *field,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pbx_verrorf(err, code, object, field, fmt, ap);
	va_end(ap);
	return code;
}

void pbx_error_set_detail(pbx_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	pbx_sanitize(err->detail);
}

void pbx_error_set_hint(pbx_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	pbx_sanitize(err->hint);
}

void pbx_error_set_location(pbx_error *err, const char *file, int line, int column)
{
	if (!err)
		return;
	copy_field(err->file, sizeof(err->file), file);
	err->line = line;
	err->column = column;
}

void pbx_error_clear(pbx_error *err)
{
	if (!err)
		return;
	*err = (pbx_error)PBX_ERROR_INIT;
}

const char *pbx_code_name(int code)
{
	switch (code) {
	case PBX_OK: return "ok";
	case PBX_EINVALID: return "invalid";
	case PBX_ENOTFOUND: return "not_found";
	case PBX_ECONFLICT: return "conflict";
	case PBX_EBUSY: return "busy";
	case PBX_EPERM: return "permission_denied";
	case PBX_EUNAVAILABLE: return "unavailable";
	case PBX_EROLLEDBACK: return "rolled_back";
	case PBX_EROLLBACKFAILED: return "rollback_failed";
	case PBX_EPARTIAL: return "partial";
	default: return "error";
	}
}

/* Severity for pbx_diag.worst: any failure beats none, unexpected errors beat the rest. */
static int severity(int code)
{
	switch (code) {
	case PBX_OK: return 0;
	case PBX_EINVALID: return 1;
	case PBX_ENOTFOUND: return 2;
	case PBX_ECONFLICT: return 3;
	default: return 4;
	}
}

int pbx_diag_add(pbx_diag *d, const pbx_error *e)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		pbx_error *p = realloc(d->items, cap * sizeof(*p));

		if (!p)
			return PBX_ERROR;
		d->items = p;
		d->cap = cap;
	}
	d->items[d->n++] = *e;
	if (severity(e->code) > severity(d->worst))
		d->worst = e->code;
	return e->code;
}

int pbx_diag_addf(pbx_diag *d, int code, const char *object, const char *field,
		  const char *fmt, ...)
{
	pbx_error e;
	va_list ap;

	va_start(ap, fmt);
	pbx_verrorf(&e, code, object, field, fmt, ap);
	va_end(ap);
	pbx_diag_add(d, &e);
	return code;
}

void pbx_diag_free(pbx_diag *d)
{
	free(d->items);
	*d = (pbx_diag)PBX_DIAG_INIT;
}

_Noreturn void pbx_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "pbxctl: BUG at %s:%d: %s\n", file, line, msg);
	abort();
}
