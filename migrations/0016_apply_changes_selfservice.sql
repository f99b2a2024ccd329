-- SPDX-License-Identifier: MIT
-- Self-service state (0012) lives in AstDB, not in anything apply generates: an UPDATE of
-- users that changes only dnd, forward_to, vm_pin_verifier_sealed or astdb_pending (the
-- AstDB reconcile inside every apply clears astdb_pending) must not move the tenant's
-- change generation (0010), or no apply after it could ever be the quick no-op.
CREATE FUNCTION users_apply_change_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
	INSERT INTO apply_changes (tenant_id, gen)
		SELECT k, nextval('apply_change_seq')
		FROM (SELECT DISTINCT k FROM (
			SELECT n.tenant_id AS k FROM n JOIN o ON o.id = n.id
			WHERE (to_jsonb(n) - ARRAY['dnd', 'forward_to', 'vm_pin_verifier_sealed',
						   'astdb_pending'])
			      IS DISTINCT FROM
			      (to_jsonb(o) - ARRAY['dnd', 'forward_to', 'vm_pin_verifier_sealed',
						   'astdb_pending'])
			UNION SELECT o.tenant_id FROM n JOIN o ON o.id = n.id
			WHERE n.tenant_id IS DISTINCT FROM o.tenant_id) u) s
		ON CONFLICT (tenant_id) DO UPDATE SET gen = EXCLUDED.gen;
	RETURN NULL;
END $$;

DROP TRIGGER users_apply_upd ON users;
CREATE TRIGGER users_apply_upd AFTER UPDATE ON users REFERENCING NEW TABLE AS n OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION users_apply_change_bump();
