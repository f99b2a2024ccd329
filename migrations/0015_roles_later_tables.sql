-- SPDX-License-Identifier: MIT
-- pbxctl schema 0015: row-level security and group-role privileges for the tables and
-- columns that migrations 0008-0012 added beside 0007's roles, under the same rules: global
-- readers (platform admins, support without a tenant) read everything, an operator of one
-- tenant reads its own tenant's rows, only platform admins (and the database owner) write
-- what the privileged side keeps. Triggers that fill asterisk_ids and apply_changes run as
-- the schema owner and are not affected.

-- The public sealing key: every mapped operator reads it to seal a new secret.
ALTER TABLE sealing_key ENABLE ROW LEVEL SECURITY;
CREATE POLICY sealing_key_read ON sealing_key FOR SELECT
	USING ((SELECT pbx_operator_role()) IS NOT NULL);
CREATE POLICY sealing_key_write ON sealing_key FOR ALL
	USING ((SELECT pbx_rls_write_all())) WITH CHECK ((SELECT pbx_rls_write_all()));
GRANT SELECT ON sealing_key TO pbx_platform_admin, pbx_tenant_admin, pbx_support, pbx_end_user;
GRANT INSERT, UPDATE, DELETE ON sealing_key TO pbx_platform_admin;

-- Apply requests: a tenant admin queues and reads its own tenant's; the worker (privileged)
-- changes their status.
ALTER TABLE apply_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY apply_requests_read ON apply_requests FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant()));
CREATE POLICY apply_requests_insert ON apply_requests FOR INSERT
	WITH CHECK ((SELECT pbx_rls_write_all()) OR tenant_id = (SELECT pbx_rls_write_tenant()));
CREATE POLICY apply_requests_change ON apply_requests FOR UPDATE
	USING ((SELECT pbx_rls_write_all())) WITH CHECK ((SELECT pbx_rls_write_all()));
CREATE POLICY apply_requests_delete ON apply_requests FOR DELETE
	USING ((SELECT pbx_rls_write_all()));
GRANT SELECT, INSERT, UPDATE, DELETE ON apply_requests TO pbx_platform_admin;
GRANT SELECT, INSERT ON apply_requests TO pbx_tenant_admin;
GRANT SELECT ON apply_requests TO pbx_support;

-- Asterisk ids: written only by the triggers of devices and trunks.
ALTER TABLE asterisk_ids ENABLE ROW LEVEL SECURITY;
CREATE POLICY asterisk_ids_read ON asterisk_ids FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant()));
GRANT SELECT ON asterisk_ids TO pbx_platform_admin, pbx_tenant_admin, pbx_support;

-- What apply recorded: change generations (triggers) and the applied state (apply itself).
ALTER TABLE apply_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY apply_changes_read ON apply_changes FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant()));
CREATE POLICY apply_changes_write ON apply_changes FOR ALL
	USING ((SELECT pbx_rls_write_all())) WITH CHECK ((SELECT pbx_rls_write_all()));
ALTER TABLE apply_applied ENABLE ROW LEVEL SECURITY;
CREATE POLICY apply_applied_read ON apply_applied FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant()));
CREATE POLICY apply_applied_write ON apply_applied FOR ALL
	USING ((SELECT pbx_rls_write_all())) WITH CHECK ((SELECT pbx_rls_write_all()));
GRANT SELECT, INSERT, UPDATE, DELETE ON apply_changes, apply_applied TO pbx_platform_admin;
GRANT SELECT ON apply_changes, apply_applied TO pbx_tenant_admin, pbx_support;

-- A tenant admin names its tenant's emergency trunk and caller ID (not its range).
GRANT UPDATE (emergency_trunk_id, emergency_callerid) ON tenants TO pbx_tenant_admin;
