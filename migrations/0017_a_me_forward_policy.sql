-- SPDX-License-Identifier: MIT
-- pbxctl schema 0017 a: an end user's forward to a number obeys its outbound policy.
--
-- pbx_me_set_forward (0007) took any +E164 number: an end user could forward its calls to a
-- premium or international number its policy blocks (toll fraud, since the PBX pays the
-- forwarded leg). Now the rules of the admin's `user update --forward-to` apply on the
-- server, where the end user cannot skip them: an extension of the tenant (inside its range,
-- not the user's own), or a number of 2 to 20 digits, optionally after a +, that the user's
-- outbound policy (its own, else the tenant's default) allows; without a policy no number.
--
-- pbx_policy_allows evaluates a policy as lib/dialplan/policy-rules.c does: the rules in
-- position order, the first whose pattern matches decides; no match blocks. Patterns are
-- POSIX extended regular expressions (regcomp REG_EXTENDED in C): the embedded option (?e)
-- makes PostgreSQL read them as EREs too, and the character set patterns may hold (see
-- pbx_policy_check_pattern) means the same to both.

CREATE FUNCTION pbx_policy_allows(p_policy bigint, p_number text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	a text;
BEGIN
	SELECT r.action INTO a FROM policy_rules r
		WHERE r.policy_id = p_policy AND p_number ~ ('(?e)' || r.pattern)
		ORDER BY r.position LIMIT 1;
	RETURN coalesce(a = 'allow', false);
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_policy_allows(bigint, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pbx_me_set_forward(p_to text) RETURNS SETOF users
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users := pbx_me_user();
	t tenants;
	fwd text := nullif(p_to, '');
	pol policies;
BEGIN
	SELECT * INTO t FROM tenants WHERE id = u.tenant_id;
	IF fwd IS NOT NULL THEN
		IF fwd ~ '^[1-9][0-9]{1,7}$' THEN
			IF fwd::integer < t.ext_min OR fwd::integer > t.ext_max THEN
				RAISE EXCEPTION 'forward destination % is outside %''s range %-%', fwd,
					t.slug, t.ext_min, t.ext_max USING ERRCODE = '22023';
			END IF;
			IF fwd::integer = u.extension THEN
				RAISE EXCEPTION 'a user cannot forward to its own extension %', fwd
					USING ERRCODE = '22023';
			END IF;
		ELSIF fwd !~ '^\+?[0-9]{2,20}$' THEN
			RAISE EXCEPTION 'forward destination "%" must be an extension of the tenant or a number of 2 to 20 digits, optionally after a +',
				left(fwd, 40) USING ERRCODE = '22023';
		ELSE
			SELECT * INTO pol FROM policies
				WHERE id = coalesce(u.policy_id, t.default_policy_id);
			IF NOT FOUND THEN
				RAISE EXCEPTION 'forward destination % is not an extension and no outbound policy applies to %',
					fwd, u.username USING ERRCODE = '22023';
			END IF;
			IF NOT pbx_policy_allows(pol.id, fwd) THEN
				RAISE EXCEPTION 'forward destination % is blocked by outbound policy %',
					fwd, pol.name USING ERRCODE = '22023';
			END IF;
		END IF;
	END IF;
	IF u.forward_to IS DISTINCT FROM fwd THEN
		UPDATE users SET forward_to = fwd, updated_at = now() WHERE id = u.id;
		PERFORM audit_write('self-service', t.slug, 'update', 'user', u.id::text,
				    jsonb_build_object('forward_to', u.forward_to),
				    jsonb_build_object('forward_to', fwd));
	END IF;
	RETURN NEXT pbx_me_result(u.id);
END
$$;
