/* SPDX-License-Identifier: MIT */
/*
 * SQL files embedded in the binary at build time (scripts/embed-sql.py): the numbered
 * PostgreSQL migrations and the MariaDB realtime schema.
 */
#ifndef PBX_CORE_EMBEDDED_H
#define PBX_CORE_EMBEDDED_H

#include <stddef.h>

struct pbx_embedded_sql {
	const char *name;  /* file name, e.g. "0001_init.sql" */
	const char *sql;
};

extern const struct pbx_embedded_sql pbx_migrations_pg[];
extern const size_t pbx_migrations_pg_count;
extern const struct pbx_embedded_sql pbx_migrations_realtime[];
extern const size_t pbx_migrations_realtime_count;

#endif
