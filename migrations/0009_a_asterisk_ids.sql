-- SPDX-License-Identifier: MIT
-- pbxctl schema 0009 a: every Asterisk object id pbxctl generates (the endpoint, AOR and auth
-- id of a device or a trunk) is registered in one table whose primary key makes it unique
-- across all owners, in the transaction that creates the object. Before, a device id was
-- "<slug>-<random>", a tenant trunk's "<slug>-trunk-<name>" and a global trunk's
-- "trunk-<name>": tenant "trunk" with trunk "x" and a global trunk "trunk-x" both had
-- "trunk-trunk-x", and the collision surfaced only at apply, for every tenant. The ids keep
-- their form (a phone's SIP user name is its device id and cannot change); what is new is
-- that a second claim on an id is refused when the object is created or imported, whatever
-- the path (pbxctl, import, the fast create functions of 0006, or plain SQL): triggers fill
-- the table, and a row goes when its device or trunk goes (ON DELETE CASCADE).
--
-- Existing rows that already collide: devices are registered first (a phone cannot be
-- renamed), then trunks oldest first; a trunk whose id was already taken is disabled (a
-- disabled trunk has no realtime rows, so the collision no longer reaches Asterisk) and
-- has no registry row. Enabling it again is refused until its id is free; its owner
-- deletes it and creates it under another name. The migration never fails on such data.

CREATE FUNCTION pbx_trunk_endpoint(p_slug text, p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_slug IS NULL THEN 'trunk-' ELSE p_slug || '-trunk-' END || p_name
$$;

CREATE TABLE asterisk_ids (
	id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{1,39}$'),
	tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
	device_id bigint UNIQUE REFERENCES devices (id) ON DELETE CASCADE,
	trunk_id bigint UNIQUE REFERENCES trunks (id) ON DELETE CASCADE,
	CHECK ((device_id IS NULL) <> (trunk_id IS NULL))
);
CREATE INDEX asterisk_ids_tenant ON asterisk_ids (tenant_id);

INSERT INTO asterisk_ids (id, tenant_id, device_id)
	SELECT d.sip_username, d.tenant_id, d.id FROM devices d ORDER BY d.id
	ON CONFLICT (id) DO NOTHING;
INSERT INTO asterisk_ids (id, tenant_id, trunk_id)
	SELECT pbx_trunk_endpoint(t.slug, k.name), k.tenant_id, k.id
	FROM trunks k LEFT JOIN tenants t ON t.id = k.tenant_id ORDER BY k.id
	ON CONFLICT (id) DO NOTHING;
UPDATE trunks k SET enabled = false, updated_at = now()
	WHERE NOT EXISTS (SELECT 1 FROM asterisk_ids a WHERE a.trunk_id = k.id);

-- The triggers run as the owner of the schema, so that an operator whose row-level security
-- hides other tenants' rows still cannot take their ids: the primary key sees every row.
CREATE FUNCTION asterisk_ids_claim_devices() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO asterisk_ids (id, tenant_id, device_id)
		SELECT n.sip_username, n.tenant_id, n.id FROM new_devices n;
	RETURN NULL;
END $$;
CREATE TRIGGER devices_asterisk_ids AFTER INSERT ON devices
	REFERENCING NEW TABLE AS new_devices
	FOR EACH STATEMENT EXECUTE FUNCTION asterisk_ids_claim_devices();

CREATE FUNCTION asterisk_ids_claim_trunks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO asterisk_ids (id, tenant_id, trunk_id)
		SELECT pbx_trunk_endpoint(t.slug, n.name), n.tenant_id, n.id
		FROM new_trunks n LEFT JOIN tenants t ON t.id = n.tenant_id;
	RETURN NULL;
END $$;
CREATE TRIGGER trunks_asterisk_ids AFTER INSERT ON trunks
	REFERENCING NEW TABLE AS new_trunks
	FOR EACH STATEMENT EXECUTE FUNCTION asterisk_ids_claim_trunks();

-- pbxctl changes neither a device's id nor a trunk's name or owner; plain SQL might. The
-- registry follows, and an enabled trunk without a row (a loser of the migration above)
-- claims its id again, which fails while another object holds it.
CREATE FUNCTION asterisk_ids_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
	had boolean;
BEGIN
	IF TG_TABLE_NAME = 'devices' THEN
		UPDATE asterisk_ids SET id = NEW.sip_username, tenant_id = NEW.tenant_id
			WHERE device_id = NEW.id;
	ELSE
		DELETE FROM asterisk_ids WHERE trunk_id = NEW.id RETURNING true INTO had;
		IF NEW.enabled OR had THEN
			INSERT INTO asterisk_ids (id, tenant_id, trunk_id)
				SELECT pbx_trunk_endpoint(t.slug, NEW.name), NEW.tenant_id, NEW.id
				FROM (SELECT NEW.tenant_id AS id) x LEFT JOIN tenants t ON t.id = x.id;
		END IF;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER devices_asterisk_ids_follow AFTER UPDATE OF sip_username, tenant_id ON devices
	FOR EACH ROW EXECUTE FUNCTION asterisk_ids_follow();
CREATE TRIGGER trunks_asterisk_ids_follow AFTER UPDATE OF name, tenant_id, enabled ON trunks
	FOR EACH ROW WHEN (OLD.name <> NEW.name OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
			   OR (NEW.enabled AND NOT OLD.enabled))
	EXECUTE FUNCTION asterisk_ids_follow();
