-- SPDX-License-Identifier: MIT
-- pbxctl schema 0006: faster creation of users and devices, with the same rows, audit rows
-- and locks as before.
--
-- The audit hash helpers are STABLE, as the functions they call are (jsonb_build_array,
-- convert_to). Declared IMMUTABLE over a body that is not, they could not be inlined: every
-- audit_append() ran them as separate SQL functions, parsing and planning their bodies
-- again for each row. STABLE, they are inlined into audit_append's expression, which is
-- planned once per session. What they compute is unchanged, and so is every hash.

ALTER FUNCTION audit_canonical(audit_log) STABLE;
ALTER FUNCTION audit_row_hash(text, audit_log) STABLE;

-- The plain case of creating a user and of adding a device, each one statement for what took
-- two or three (lock and check, pick the extension, insert), for lib/store/user-query.c and
-- device.c, which name the tenant, read the result and append its audit row in the statement
-- that calls them. The row locks are those of before: the tenant's serialises allocation,
-- the user's holds the device limit and label; every statement after a lock sees what was
-- committed while it waited. Anything not plain (no such tenant or user, a name or an
-- extension taken, the extension out of range, the next free extension not at the pointer,
-- a deleted user, a label taken, the device limit reached) raises SQLSTATE PBX01 and the
-- caller rolls back and takes its general path, which finds the problem again and reports
-- it. Lookups are written as a range with ORDER BY ... LIMIT 1 rather than '=': with '=',
-- a plan made while the tables are nearly empty may take any index that starts with
-- tenant_id and scan the whole tenant ever after; only the index on the looked-up column
-- gives this order.
CREATE FUNCTION user_create_plain(p_tenant_id bigint, p_username text, p_display_name text,
				  p_email text, p_extension integer, p_outbound_callerid text,
				  p_voicemail boolean, p_pin_hash text, p_dnd boolean,
				  p_forward_to text) RETURNS SETOF users
LANGUAGE plpgsql ROWS 1 AS $$
DECLARE
	t tenants;
	ext integer := p_extension;
	taken integer;
BEGIN
	SELECT * INTO t FROM tenants WHERE id = p_tenant_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'PBX01', MESSAGE = 'not a plain user create';
	END IF;
	IF ext IS NULL THEN
		-- The pointer, unless any user, deleted ones too, holds it.
		ext := t.ext_next;
		SELECT extension INTO taken FROM users
		WHERE tenant_id = t.id AND extension >= ext AND extension <= ext
		ORDER BY extension LIMIT 1;
		IF ext > t.ext_max OR taken IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'PBX01', MESSAGE = 'not a plain user create';
		END IF;
		UPDATE tenants SET ext_next = ext + 1 WHERE id = t.id;
	ELSE
		SELECT extension INTO taken FROM users
		WHERE tenant_id = t.id AND extension >= ext AND extension <= ext
		AND status <> 'deleted' ORDER BY extension LIMIT 1;
		IF ext < t.ext_min OR ext > t.ext_max OR taken IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'PBX01', MESSAGE = 'not a plain user create';
		END IF;
	END IF;
	RETURN QUERY INSERT INTO users (tenant_id, username, display_name, email, extension,
					outbound_callerid, voicemail, pin_hash, dnd, forward_to)
		VALUES (t.id, p_username, p_display_name, p_email, ext, p_outbound_callerid,
			p_voicemail, p_pin_hash, p_dnd, p_forward_to)
		ON CONFLICT (tenant_id, username) DO NOTHING RETURNING *;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'PBX01', MESSAGE = 'not a plain user create';
	END IF;
END
$$;

CREATE FUNCTION device_create_plain(p_tenant_id bigint, p_username text, p_label text,
				    p_sip_username text, p_secret_sealed text, p_transport text,
				    p_force_rport boolean, p_rewrite_contact boolean,
				    p_rtp_symmetric boolean, p_direct_media boolean,
				    p_codecs text[], p_max integer) RETURNS SETOF devices
LANGUAGE plpgsql ROWS 1 AS $$
DECLARE
	u users;
BEGIN
	SELECT * INTO u FROM users
	WHERE tenant_id = p_tenant_id AND username >= p_username AND username <= p_username
	ORDER BY username LIMIT 1 FOR UPDATE;
	IF NOT FOUND OR u.status = 'deleted'
	   OR (SELECT count(*) >= p_max OR coalesce(bool_or(label = p_label), false)
	       FROM devices WHERE user_id = u.id) THEN
		RAISE EXCEPTION USING ERRCODE = 'PBX01', MESSAGE = 'not a plain device create';
	END IF;
	RETURN QUERY INSERT INTO devices (user_id, tenant_id, label, sip_username, secret_sealed,
					  transport, force_rport, rewrite_contact, rtp_symmetric,
					  direct_media, codecs)
		VALUES (u.id, u.tenant_id, p_label, p_sip_username, p_secret_sealed, p_transport,
			p_force_rport, p_rewrite_contact, p_rtp_symmetric, p_direct_media, p_codecs)
		ON CONFLICT (sip_username) DO NOTHING RETURNING *;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'PBX01', MESSAGE = 'not a plain device create';
	END IF;
END
$$;
