/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the lib/bulk unit tests; see bulk-test.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bulk-test.h"

int bt_parse(const char *text, pbx_bulk_doc **ret_doc, pbx_diag *diag)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	pbx_error err = PBX_ERROR_INIT;
	int r;

	if (!f)
		abort();
	r = pbx_bulk_parse("t.yaml", f, ret_doc, diag, &err);
	fclose(f);
	return r;
}

const pbx_error *bt_find(const pbx_diag *diag, const char *needle)
{
	for (size_t i = 0; i < diag->n; i++)
		if (strstr(diag->items[i].message, needle))
			return &diag->items[i];
	return NULL;
}

void bt_dump(const pbx_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++)
		fprintf(stderr, "  %s:%d:%d: %s: %s\n", diag->items[i].file, diag->items[i].line,
			diag->items[i].column, diag->items[i].object, diag->items[i].message);
}

long bt_maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

struct endless {
	const char *head, *unit;
	size_t pos, limit, sent;
};

static ssize_t endless_read(void *cookie, char *buf, size_t size)
{
	struct endless *e = cookie;
	size_t n = 0, hl = strlen(e->head), ul = strlen(e->unit);

	while (n < size && (!e->limit || e->sent < e->limit)) {
		char c;

		if (e->pos < hl)
			c = e->head[e->pos];
		else
			c = e->unit[(e->pos - hl) % ul];
		buf[n++] = c;
		e->pos++;
		e->sent++;
	}
	return (ssize_t)n;
}

static int endless_close(void *cookie)
{
	free(cookie);
	return 0;
}

FILE *bt_endless(const char *head, const char *unit, size_t limit)
{
	struct endless *e = calloc(1, sizeof(*e));
	cookie_io_functions_t io = { .read = endless_read, .close = endless_close };

	if (!e)
		abort();
	e->head = head;
	e->unit = unit;
	e->limit = limit;
	return fopencookie(e, "r", io);
}
