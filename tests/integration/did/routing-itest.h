/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the routing integration tests: a context on the private
 * services with a key file, tenants with users and devices, unique trunk names, the
 * warnings the library logs, and one-value SQL queries on PostgreSQL and MariaDB.
 */
#ifndef ROUTING_ITEST_H
#define ROUTING_ITEST_H

#include <stdbool.h>

#include "pbx/pbx.h"

extern struct pbx_config it_cfg;
extern pbx_ctx *it_ctx;

/* testenv_ctx plus a key file in a temporary directory, and a log catcher. */
void it_setup(void);
void it_teardown(void);
/* The key file of the built pbxctl's test configuration, made when missing. */
void it_cli_key(void);

/* A new tenant (range 1000-1999) with a unique slug made from @prefix; static buffer. */
const char *it_tenant(const char *prefix);
/* A user of @tenant with @devices devices, voicemail on. */
void it_user(const char *tenant, const char *username, int devices);
/* A unique trunk name; static buffer, one of four rotating. */
const char *it_name(const char *prefix);
/* A global registration trunk @name and an ip_auth trunk of @tenant. */
void it_trunk_global(const char *name);
void it_trunk_tenant(const char *tenant, const char *name);
/* The match list of the last it_trunk_tenant ("<IPv4>,<IPv6>/64", unique to it). */
extern char it_match[80];

/* Warnings logged since the last call, joined by '\n' (static buffer), then cleared. */
const char *it_warnings(void);

/* First value of a PostgreSQL / MariaDB query with one optional parameter (malloc'd, ""
 * when no row). */
char *it_pg1(const char *sql, const char *param);
char *it_my1(const char *sql, const char *param);
/* Run a PostgreSQL statement behind pbxctl's back. */
void it_pg_exec(const char *sql, const char *param);

#endif
