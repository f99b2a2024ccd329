/* SPDX-License-Identifier: MIT */
/*
 * The error record every libpbx function fills on failure. Codes are broad classes, each
 * mapped to exactly one exit status by the CLI; the record holds fixed-size buffers so
 * reporting never allocates. Functions return 0 or a negative PBX_E* code.
 */
#ifndef PBX_ERROR_H
#define PBX_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum pbx_code {
	PBX_OK = 0,
	PBX_ERROR = -1,             /* unexpected */
	PBX_EINVALID = -3,          /* invalid input or config, nothing changed */
	PBX_ENOTFOUND = -4,
	PBX_ECONFLICT = -5,
	PBX_EBUSY = -6,             /* lock held */
	PBX_EPERM = -7,
	PBX_EUNAVAILABLE = -8,      /* a backend is unreachable */
	PBX_EROLLEDBACK = -9,       /* apply failed and was rolled back */
	PBX_EROLLBACKFAILED = -10,  /* apply failed and rollback failed too */
	PBX_EPARTIAL = -11,         /* apply done for every tenant but those it skipped */
} pbx_code;

#define PBX_ERR_OBJECT 128
#define PBX_ERR_FIELD 64
#define PBX_ERR_MESSAGE 512
#define PBX_ERR_HINT 256
#define PBX_ERR_DETAIL 1024
#define PBX_ERR_FILE 256

typedef struct pbx_error {
	int code;
	char object[PBX_ERR_OBJECT];   /* "user alice" */
	char field[PBX_ERR_FIELD];     /* "extension" */
	char message[PBX_ERR_MESSAGE]; /* primary, one line */
	char hint[PBX_ERR_HINT];
	char detail[PBX_ERR_DETAIL];   /* backend text, shown with -v */
	char backend[16];              /* "postgresql", "mariadb", "ami" */
	char sqlstate[6];
	char file[PBX_ERR_FILE];       /* YAML and config errors */
	int line, column;
} pbx_error;

#define PBX_ERROR_INIT { .code = 0 }

/*
 * Fill @err (which may be NULL) and return @code, so reporting and returning are one
 * statement. @object and @field may be NULL. Control characters in the formatted text
 * are replaced, so hostile input can never break the one-line message.
 */
int pbx_errorf(pbx_error *err, int code, const char *object, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int pbx_verrorf(pbx_error *err, int code, const char *object, const char *field,
		const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Set the detail (backend text) of an already filled error. */
void pbx_error_set_detail(pbx_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pbx_error_set_hint(pbx_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pbx_error_set_location(pbx_error *err, const char *file, int line, int column);
void pbx_error_clear(pbx_error *err);

/* Stable lower-case name of a code ("invalid", "not_found", ...), for JSON errors. */
const char *pbx_code_name(int code);

/* Replace control characters in @s in place by '?'; returns @s. */
char *pbx_sanitize(char *s);

/*
 * A list of errors, for validation, import and configuration, which report every
 * problem found rather than the first. pbx_diag_add copies @e.
 */
typedef struct pbx_diag {
	pbx_error *items;
	size_t n, cap;
	int worst;   /* the most severe code added, 0 if none */
} pbx_diag;

#define PBX_DIAG_INIT { .items = NULL }

int pbx_diag_add(pbx_diag *d, const pbx_error *e);
int pbx_diag_addf(pbx_diag *d, int code, const char *object, const char *field,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void pbx_diag_free(pbx_diag *d);

/* Programming errors: print file:line and abort. */
#define PBX_BUG(msg) pbx_bug(__FILE__, __LINE__, (msg))
_Noreturn void pbx_bug(const char *file, int line, const char *msg);

#endif
