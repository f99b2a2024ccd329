-- SPDX-License-Identifier: MIT
-- pbxctl schema 0017 b: an end user changes its own voicemail PIN, proving the current one.
--
-- PostgreSQL keeps only the argon2id hash (users.pin_hash), which an end user's role cannot
-- read (column grants of 0007), and SQL cannot run argon2. So the check runs on the
-- privileged side: `pbxctl me voicemail pin` seals "current\nnew" to the platform's
-- published sealing key (0008a; a libsodium sealed box only the private key opens) and
-- files it here through pbx_me_request_pin_change; the apply worker, which holds the
-- private key, opens it, verifies the current PIN against the hash with argon2id, and
-- either sets the new PIN (hash, sealed dialplan verifier, audit row with the end user's
-- login as actor) or refuses. Either way the sealed text is erased. The end user reads the
-- verdict of its own requests (status, reason), never the sealed text.
--
-- Rate limit: after PBX_PIN_WRONG_MAX (3) refusals for a wrong current PIN within 15
-- minutes, new requests are refused here and queued ones by the worker without verifying.
-- A new request of a user replaces its queued one (status 'superseded'), so a flood of
-- requests never queues more than one guess per user.

CREATE TABLE pin_change_requests (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	requested_by name NOT NULL DEFAULT session_user,
	sealed text CHECK (sealed IS NULL OR length(sealed) <= 512),
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'done', 'refused', 'superseded', 'failed')),
	wrong_pin boolean NOT NULL DEFAULT false,
	reason text,
	created_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	CHECK ((status = 'queued') = (sealed IS NOT NULL))
);
CREATE INDEX pin_change_requests_queue ON pin_change_requests (id) WHERE status = 'queued';
CREATE INDEX pin_change_requests_user ON pin_change_requests (user_id, created_at);

ALTER TABLE pin_change_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY pin_change_requests_read ON pin_change_requests FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant())
	       OR user_id = (SELECT pbx_operator_user()));
-- Nobody but the owner (the worker) writes rows directly; nobody else reads the sealed text.
GRANT SELECT (id, tenant_id, user_id, requested_by, status, wrong_pin, reason, created_at,
	finished_at) ON pin_change_requests
	TO pbx_platform_admin, pbx_tenant_admin, pbx_support, pbx_end_user;

-- Whether @user may try again: fewer than 3 wrong current PINs in the last 15 minutes.
CREATE FUNCTION pbx_pin_change_allowed(p_user bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT count(*) < 3 FROM pin_change_requests
	WHERE user_id = p_user AND wrong_pin AND finished_at > now() - interval '15 minutes'
$$;
REVOKE EXECUTE ON FUNCTION pbx_pin_change_allowed(bigint) FROM PUBLIC;

CREATE FUNCTION pbx_me_request_pin_change(p_sealed text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users := pbx_me_user();
	rid bigint;
BEGIN
	IF p_sealed IS NULL OR p_sealed !~ '^v2:[0-9a-f]{16}:[A-Za-z0-9+/]+={0,2}$'
	   OR length(p_sealed) > 512 THEN
		RAISE EXCEPTION 'the PIN change must be sealed to the published sealing key'
			USING ERRCODE = '22023';
	END IF;
	IF NOT u.voicemail THEN
		RAISE EXCEPTION 'user % has no voicemail, so no PIN', u.username
			USING ERRCODE = '22023';
	END IF;
	IF NOT pbx_pin_change_allowed(u.id) THEN
		RAISE EXCEPTION 'too many wrong current PINs; try again in 15 minutes'
			USING ERRCODE = 'PBX10';
	END IF;
	UPDATE pin_change_requests SET status = 'superseded', sealed = NULL, finished_at = now()
		WHERE user_id = u.id AND status = 'queued';
	INSERT INTO pin_change_requests (tenant_id, user_id, sealed)
		VALUES (u.tenant_id, u.id, p_sealed) RETURNING id INTO rid;
	NOTIFY pbxctl_apply_queue;
	RETURN rid;
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_me_request_pin_change(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pbx_me_request_pin_change(text) TO pbx_end_user;
