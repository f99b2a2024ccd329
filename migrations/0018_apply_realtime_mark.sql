-- SPDX-License-Identifier: MIT
-- What lets an apply that changes nothing skip reading every realtime row (bench/README.md,
-- "bench-apply").
--
-- apply_applied.rt_mark: MariaDB's last-modification times of the tables pbxctl writes
-- (information_schema.TABLES.UPDATE_TIME of the ps_* tables and pbxctl_realtime_rows),
-- taken just before the tenant's rows_digest was read, and only when every time was known
-- and earlier than that moment. While MariaDB still reports the same times, no row of
-- those tables changed since, so rows_digest still holds without reading the rows. NULL:
-- no usable mark; the next apply reads the digest.
--
-- apply_applied.files lines may now end in a third field, "<TAB>stat" (device, inode,
-- size, modification and change times of the file as written and hashed): a file whose
-- stat is still that one is not read again by the quick check.
ALTER TABLE apply_applied ADD COLUMN rt_mark text;

-- The AstDB reconcile of self-service state runs in every apply, a quick no-op included,
-- when some user is pending: one look at this index, not a scan of every user.
CREATE INDEX users_astdb_pending ON users (tenant_id) WHERE astdb_pending;
