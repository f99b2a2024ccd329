/* SPDX-License-Identifier: MIT */
/*
 * lib/core/config.c: YAML sections and keys, types, file:line:column errors, environment
 * overrides.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/config.h"

static struct pbx_config cfg;
static pbx_diag diag;

static void setup(void)
{
	pbx_error err;

	cr_assert(eq(int, pbx_config_defaults(&cfg, &err), 0));
	diag = (pbx_diag)PBX_DIAG_INIT;
}

static void teardown(void)
{
	pbx_config_free(&cfg);
	pbx_diag_free(&diag);
}

TestSuite(config, .init = setup, .fini = teardown);

Test(config, defaults_are_documented_values)
{
	cr_assert(eq(str, cfg.config_dir, "/etc/asterisk/extensions.d/pbxctl"));
	cr_assert(eq(int, cfg.ami_port, 0), "0: 5038, or 5039 with ami.tls");
	cr_assert(eq(int, cfg.ami_timeout_ms, 5000));
	cr_assert(not(cfg.ami_tls));
	cr_assert(eq(ptr, cfg.db_sslmode, NULL), "the conninfo's own sslmode");
	cr_assert(eq(ptr, cfg.rt_ssl_ca, NULL));
	cr_assert(cfg.rt_ssl_verify);
	cr_assert(eq(str, cfg.key_file, "/etc/pbxctl/pbxctl.key"));
}

Test(config, reads_every_section)
{
	const char *text =
		"database:\n  url: \"host=/tmp dbname=x\"\n"
		"realtime:\n  socket: /run/m.sock\n  user: rt\n  password: pw\n  database: ast\n  port: 3307\n"
		"ami:\n  host: 10.0.0.1\n  port: 5039\n  username: u\n  secret: s\n  timeout: 2.5\n  md5: true\n"
		"asterisk:\n  config_dir: /x/d\n  backup_dir: /x/b\n  voicemail_spool: /x/v\n  voicemail_dir: /x/vm\n"
		"secrets:\n  key_file: /x/k\n";

	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", text, &diag), 0));
	cr_assert(eq(str, cfg.database_url, "host=/tmp dbname=x"));
	cr_assert(eq(str, cfg.rt_socket, "/run/m.sock"));
	cr_assert(eq(int, cfg.rt_port, 3307));
	cr_assert(eq(str, cfg.ami_host, "10.0.0.1"));
	cr_assert(eq(int, cfg.ami_timeout_ms, 2500));
	cr_assert(cfg.ami_md5);
	cr_assert(eq(str, cfg.backup_dir, "/x/b"));
	cr_assert(eq(str, cfg.key_file, "/x/k"));
}

Test(config, unknown_key_is_an_error_with_line_and_column)
{
	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", "ami:\n  hostt: x\n", &diag),
		     PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 1));
	cr_assert(eq(str, diag.items[0].file, "t.conf"));
	cr_assert(eq(int, diag.items[0].line, 2));
	cr_assert(eq(int, diag.items[0].column, 3));
	cr_assert(not(eq(ptr, strstr(diag.items[0].message, "ami.hostt: unknown key"), NULL)));
}

Test(config, unknown_section_and_wrong_types_all_reported)
{
	const char *text = "databse:\n  url: x\nami:\n  port: abc\n  md5: maybe\n  timeout: -1\n";

	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", text, &diag), PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 4));
	cr_assert(not(eq(ptr, strstr(diag.items[0].message, "unknown section"), NULL)));
	cr_assert(not(eq(ptr, strstr(diag.items[1].message, "port number"), NULL)));
	cr_assert(eq(int, diag.items[1].line, 4));
	cr_assert(not(eq(ptr, strstr(diag.items[2].message, "true or false"), NULL)));
	cr_assert(not(eq(ptr, strstr(diag.items[3].message, "seconds"), NULL)));
	/* nothing of a bad value was taken */
	cr_assert(eq(int, cfg.ami_port, 0));
}

Test(config, reads_the_tls_keys)
{
	const char *text =
		"database:\n  url: \"host=db.example dbname=x\"\n  sslmode: verify-full\n"
		"  sslrootcert: /etc/pbxctl/pg-ca.pem\n"
		"realtime:\n  host: rt.example\n  ssl_ca: /etc/pbxctl/rt-ca.pem\n  ssl_verify: false\n"
		"ami:\n  host: pbx.example\n  tls: true\n  ca_file: /etc/pbxctl/ami-ca.pem\n";

	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", text, &diag), 0));
	cr_assert(eq(str, cfg.db_sslmode, "verify-full"));
	cr_assert(eq(str, cfg.db_sslrootcert, "/etc/pbxctl/pg-ca.pem"));
	cr_assert(eq(str, cfg.rt_ssl_ca, "/etc/pbxctl/rt-ca.pem"));
	cr_assert(not(cfg.rt_ssl_verify));
	cr_assert(cfg.ami_tls);
	cr_assert(eq(str, cfg.ami_ca_file, "/etc/pbxctl/ami-ca.pem"));
}

Test(config, refuses_an_unknown_sslmode_and_a_non_boolean_tls)
{
	const char *text = "database:\n  sslmode: verify\nami:\n  tls: sometimes\n"
			   "realtime:\n  ssl_verify: 2\n";

	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", text, &diag), PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 3));
	cr_assert(eq(str, diag.items[0].message, "database.sslmode: expected disable, allow, "
		     "prefer, require, verify-ca or verify-full"));
	cr_assert(eq(int, diag.items[0].line, 2));
	cr_assert(eq(str, diag.items[1].message, "ami.tls: expected true or false"));
	cr_assert(eq(str, diag.items[2].message, "realtime.ssl_verify: expected true or false"));
	cr_assert(eq(ptr, cfg.db_sslmode, NULL), "nothing of a bad value was taken");
	cr_assert(not(cfg.ami_tls));
}

Test(config, value_that_is_a_mapping_is_refused)
{
	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", "database:\n  url:\n    a: b\n",
						 &diag), PBX_EINVALID));
	cr_assert(not(eq(ptr, strstr(diag.items[0].message, "single value"), NULL)));
}

Test(config, broken_yaml_reports_location)
{
	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", "database:\n  url: \"x\n", &diag),
		     PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 1));
	cr_assert(gt(int, diag.items[0].line, 0));
}

Test(config, missing_optional_file_is_fine_missing_required_is_not)
{
	cr_assert(eq(int, pbx_config_load_file(&cfg, "/nonexistent/pbxctl.conf", false, &diag), 0));
	cr_assert(eq(int, pbx_config_load_file(&cfg, "/nonexistent/pbxctl.conf", true, &diag),
		     PBX_ENOTFOUND));
}

Test(config, environment_overrides_file)
{
	pbx_error err;

	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", "ami:\n  port: 5039\n", &diag), 0));
	setenv("PBXCTL_AMI_PORT", "6000", 1);
	setenv("PBXCTL_DATABASE_URL", "dbname=fromenv", 1);
	cr_assert(eq(int, pbx_config_apply_env(&cfg, &err), 0));
	unsetenv("PBXCTL_AMI_PORT");
	unsetenv("PBXCTL_DATABASE_URL");
	cr_assert(eq(int, cfg.ami_port, 6000));
	cr_assert(eq(str, cfg.database_url, "dbname=fromenv"));
}

Test(config, bad_environment_value_is_refused)
{
	pbx_error err;

	setenv("PBXCTL_AMI_PORT", "70000", 1);
	cr_assert(eq(int, pbx_config_apply_env(&cfg, &err), PBX_EINVALID));
	unsetenv("PBXCTL_AMI_PORT");
	cr_assert(eq(str, err.field, "PBXCTL_AMI_PORT"));
}

Test(config, backup_retention_defaults_and_values)
{
	cr_assert(eq(int, cfg.backup_keep, 20));
	cr_assert(eq(int, cfg.backup_keep_days, 7));
	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf",
						 "asterisk:\n  backup_keep: 5\n  backup_keep_days: 0\n",
						 &diag), 0));
	cr_assert(eq(int, cfg.backup_keep, 5));
	cr_assert(eq(int, cfg.backup_keep_days, 0));
}

Test(config, backup_retention_out_of_range_is_refused)
{
	const char *text = "asterisk:\n  backup_keep: 0\n  backup_keep_days: -1\n";

	cr_assert(eq(int, pbx_config_load_string(&cfg, "t.conf", text, &diag), PBX_EINVALID));
	cr_assert(eq(sz, diag.n, 2));
	cr_assert(not(eq(ptr, strstr(diag.items[0].message,
				     "asterisk.backup_keep: expected a number of backups from 1 to 100000"),
			 NULL)), "%s", diag.items[0].message);
	cr_assert(eq(int, diag.items[0].line, 2));
	cr_assert(not(eq(ptr, strstr(diag.items[1].message, "days from 0 to 3650"), NULL)));
	cr_assert(eq(int, cfg.backup_keep, 20));
	cr_assert(eq(int, cfg.backup_keep_days, 7));
}
