/* SPDX-License-Identifier: MIT */
/*
 * The checks that need no database of one phone number (DID) of an import file
 * (check-routing.c runs them).
 */
#include <stdio.h>

#include "pbx/did.h"
#include "bulk-internal.h"

void bulk_check_did(struct bulk_ex *x, const char *slug)
{
	pbx_error e = PBX_ERROR_INIT;
	char path[160];
	const char *v;

	bulk_ex_where(x, NULL, path, sizeof(path));
	bulk_ex_required(x, "number", "E.164, e.g. +15551230000");
	if ((v = bulk_ex_value(x, "number")) && pbx_did_check_number(path, v, &e) < 0)
		bulk_ex_lib_problem(x, "number", &e);
	bulk_ex_owner(x, slug);
	bulk_ex_text(x, "label", 64);
	bulk_ex_text(x, "provider", 64);
	bulk_ex_empty_is_null(x, "destination");
	if ((v = bulk_ex_value(x, "destination")) && pbx_did_check_destination(path, "destination", v, &e) < 0)
		bulk_ex_lib_problem(x, "destination", &e);
}
