-- SPDX-License-Identifier: MIT
-- What apply needs to tell, without reading every user and device, that nothing changed
-- since the last successful apply (bench/README.md, "bench-apply").
--
-- apply_changes: a change generation per tenant, bumped by statement-level triggers in the
-- same transaction as every write to a table apply generates from. Tenant 0 stands for
-- what all tenants share (DIDs, trunks, policies and their rules): a change there makes
-- the next apply plan every tenant. A table added later that apply reads must get one of
-- these triggers too.
CREATE SEQUENCE apply_change_seq;

CREATE TABLE apply_changes (
	tenant_id bigint PRIMARY KEY,   -- 0: shared by every tenant; no foreign key, so a
	                                -- deleted tenant's last change stays visible
	gen bigint NOT NULL
);

-- apply_applied: per tenant (0: the shared inbound router and global trunk rows), what the
-- last successful apply left deployed: the generation it read, "path<TAB>digest" lines of
-- its generated files, and the digest of its realtime rows as MariaDB holds them.
CREATE TABLE apply_applied (
	tenant_id bigint PRIMARY KEY,
	owner text NOT NULL,            -- tenant slug, or '@global'
	gen bigint NOT NULL,
	setup text NOT NULL,            -- generator version and directories it wrote to
	files text NOT NULL,
	rows_digest text NOT NULL,
	job_id bigint REFERENCES apply_jobs (id) ON DELETE SET NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION apply_change_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
	IF TG_ARGV[0] = 'shared' THEN
		INSERT INTO apply_changes (tenant_id, gen) VALUES (0, nextval('apply_change_seq'))
			ON CONFLICT (tenant_id) DO UPDATE SET gen = EXCLUDED.gen;
		RETURN NULL;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		INSERT INTO apply_changes (tenant_id, gen)
			SELECT k, nextval('apply_change_seq')
			FROM (SELECT DISTINCT (to_jsonb(n) ->> TG_ARGV[0])::bigint AS k FROM n) s
			ON CONFLICT (tenant_id) DO UPDATE SET gen = EXCLUDED.gen;
	END IF;
	IF TG_OP <> 'INSERT' THEN
		INSERT INTO apply_changes (tenant_id, gen)
			SELECT k, nextval('apply_change_seq')
			FROM (SELECT DISTINCT (to_jsonb(o) ->> TG_ARGV[0])::bigint AS k FROM o) s
			ON CONFLICT (tenant_id) DO UPDATE SET gen = EXCLUDED.gen;
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER tenants_apply_ins AFTER INSERT ON tenants REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('id');
CREATE TRIGGER tenants_apply_upd AFTER UPDATE ON tenants REFERENCING NEW TABLE AS n OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('id');
CREATE TRIGGER tenants_apply_del AFTER DELETE ON tenants REFERENCING OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('id');
CREATE TRIGGER users_apply_ins AFTER INSERT ON users REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('tenant_id');
CREATE TRIGGER users_apply_upd AFTER UPDATE ON users REFERENCING NEW TABLE AS n OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('tenant_id');
CREATE TRIGGER users_apply_del AFTER DELETE ON users REFERENCING OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('tenant_id');
CREATE TRIGGER devices_apply_ins AFTER INSERT ON devices REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('tenant_id');
CREATE TRIGGER devices_apply_upd AFTER UPDATE ON devices REFERENCING NEW TABLE AS n OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('tenant_id');
CREATE TRIGGER devices_apply_del AFTER DELETE ON devices REFERENCING OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('tenant_id');
CREATE TRIGGER dids_apply AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dids
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
CREATE TRIGGER trunks_apply AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON trunks
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
CREATE TRIGGER policies_apply AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policies
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
CREATE TRIGGER policy_rules_apply AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_rules
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
CREATE TRIGGER policy_rule_trunks_apply AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_rule_trunks
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
-- TRUNCATE names no rows: it counts as a change of everything.
CREATE TRIGGER tenants_apply_truncate AFTER TRUNCATE ON tenants
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
CREATE TRIGGER users_apply_truncate AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
CREATE TRIGGER devices_apply_truncate AFTER TRUNCATE ON devices
	FOR EACH STATEMENT EXECUTE FUNCTION apply_change_bump('shared');
