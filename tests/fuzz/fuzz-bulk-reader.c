/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the YAML import reader (lib/bulk/reader.c under the grammar of parse.c) through
 * pbx_bulk_parse, as `pbxctl import FILE` reads a file. Invariants: a document comes back
 * exactly when no problem was reported; every problem is a one-line message; an
 * out-of-memory or read error is never claimed for a file in memory; nothing leaks.
 */
#include <stdio.h>
#include <string.h>

#include "pbx/bulk.h"
#include "pbx/error.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	pbx_error err = PBX_ERROR_INIT;
	FILE *in;
	int r;

	if (size == 0 || size > 262144)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	r = pbx_bulk_parse("fuzz.yaml", in, &doc, &diag, &err);
	fclose(in);
	if (r == 0) {
		FUZZ_CHECK(doc != NULL, "success without a document");
		FUZZ_CHECK(diag.n == 0, "success with %zu problems", diag.n);
		(void)pbx_bulk_doc_count(doc, "user");
	} else {
		FUZZ_CHECK(doc == NULL, "a document after failure %d", r);
		FUZZ_CHECK(r == PBX_EINVALID, "code %d: %s", r, err.message);
		FUZZ_CHECK(diag.n > 0, "failure without a problem");
	}
	for (size_t i = 0; i < diag.n; i++) {
		const pbx_error *e = &diag.items[i];

		FUZZ_CHECK(e->message[0] && fuzz_one_line(e->message), "message '%s'", e->message);
		FUZZ_CHECK(fuzz_one_line(e->object) && fuzz_one_line(e->field), "object/field");
	}
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
	return 0;
}
