/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the pbxctl.conf reader (lib/core/config.c) with arbitrary YAML text. Invariants:
 * success means no problem was reported and every number is inside its documented range;
 * failure means at least one problem, each a one-line message with a line and column
 * (a hostile file never breaks the error line); nothing leaks (LeakSanitizer).
 */
#include <string.h>

#include "pbx/config.h"
#include "pbx/error.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbx_config cfg;
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_error err;
	char *text;
	int r;

	if (size > 65536)
		return 0;
	text = fuzz_cstr(data, size);
	FUZZ_CHECK(pbx_config_defaults(&cfg, &err) == 0, "defaults");
	r = pbx_config_load_string(&cfg, "fuzz.conf", text, &diag);
	if (r == 0) {
		FUZZ_CHECK(diag.n == 0, "success with %zu problems", diag.n);
		FUZZ_CHECK(cfg.rt_port >= 1 && cfg.rt_port <= 65535, "rt_port %d", cfg.rt_port);
		FUZZ_CHECK(cfg.ami_port >= 0 && cfg.ami_port <= 65535, "ami_port %d", cfg.ami_port);
		FUZZ_CHECK(cfg.ami_timeout_ms > 0 && cfg.ami_timeout_ms <= 3600 * 1000,
			   "ami timeout %d", cfg.ami_timeout_ms);
	} else {
		FUZZ_CHECK(r == PBX_EINVALID, "code %d", r);
		FUZZ_CHECK(diag.n > 0, "failure without a problem");
	}
	for (size_t i = 0; i < diag.n; i++) {
		const pbx_error *e = &diag.items[i];

		FUZZ_CHECK(e->message[0] && fuzz_one_line(e->message), "message '%s'", e->message);
		FUZZ_CHECK(e->line >= 1 && e->column >= 1, "location %d:%d", e->line, e->column);
		FUZZ_CHECK(!strcmp(e->file, "fuzz.conf"), "file '%s'", e->file);
	}
	pbx_diag_free(&diag);
	pbx_config_free(&cfg);
	free(text);
	return 0;
}
