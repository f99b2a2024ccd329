-- SPDX-License-Identifier: MIT
-- pbxctl schema 0009 b: the source addresses an ip_auth trunk matches. Asterisk identifies a
-- request by its source address (res_pjsip_endpoint_identifier_ip) among every trunk's
-- ranges, so a range is a claim on traffic: a tenant's trunk matching 0.0.0.0/0 took the
-- requests of every phone and let any host call in. The rule, among enabled ip_auth trunks:
--   * a tenant's trunk matches at most a /24 (IPv4) or a /48 (IPv6); a global trunk (made
--     by a platform administrator) at most a /16 or a /32;
--   * ranges of different owners (two tenants, or a tenant and the global trunks) never
--     overlap; one owner's trunks may share addresses (its own ambiguity).
-- The check runs for every write (pbxctl, import, plain SQL) as the schema owner, so rows
-- hidden from the writer still count, under a transaction lock so that two writers cannot
-- both pass. Existing trunks that break the rule are disabled here, the younger of an
-- overlapping pair; enabling one again runs the check.

CREATE FUNCTION trunk_match_limit(p_net inet, p_global boolean) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN family(p_net) = 4 THEN CASE WHEN p_global THEN 16 ELSE 24 END
		    ELSE CASE WHEN p_global THEN 32 ELSE 48 END END
$$;

UPDATE trunks k SET enabled = false, updated_at = now()
	WHERE k.auth = 'ip_auth' AND k.enabled AND EXISTS (
		SELECT 1 FROM unnest(k.match) m
		WHERE masklen(m::inet) < trunk_match_limit(m::inet, k.tenant_id IS NULL));
UPDATE trunks k SET enabled = false, updated_at = now()
	WHERE k.auth = 'ip_auth' AND k.enabled AND EXISTS (
		SELECT 1 FROM trunks o, unnest(o.match) om, unnest(k.match) km
		WHERE o.id < k.id AND o.auth = 'ip_auth' AND o.enabled
		  AND o.tenant_id IS DISTINCT FROM k.tenant_id AND om::inet && km::inet);

CREATE FUNCTION trunks_check_match() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
	m text;
	lim integer;
	hit text;
BEGIN
	IF NEW.auth <> 'ip_auth' OR NOT NEW.enabled THEN
		RETURN NULL;
	END IF;
	FOREACH m IN ARRAY NEW.match LOOP
		lim := trunk_match_limit(m::inet, NEW.tenant_id IS NULL);
		IF masklen(m::inet) < lim THEN
			RAISE EXCEPTION USING ERRCODE = 'check_violation',
				CONSTRAINT = 'trunks_match_width',
				MESSAGE = format('address range %s is wider than /%s', m, lim),
				DETAIL = format('(match)=(%s) (limit)=(%s)', m, lim);
		END IF;
	END LOOP;
	PERFORM pg_advisory_xact_lock(7242, 3);
	SELECT km INTO hit FROM trunks o, unnest(o.match) om, unnest(NEW.match) km
		WHERE o.id <> NEW.id AND o.auth = 'ip_auth' AND o.enabled
		  AND o.tenant_id IS DISTINCT FROM NEW.tenant_id AND om::inet && km::inet
		LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'exclusion_violation',
			CONSTRAINT = 'trunks_match_overlap',
			MESSAGE = format('address range %s overlaps another owner''s trunk', hit),
			DETAIL = format('(match)=(%s)', hit);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER trunks_match AFTER INSERT OR UPDATE OF auth, match, enabled, tenant_id ON trunks
	FOR EACH ROW EXECUTE FUNCTION trunks_check_match();
