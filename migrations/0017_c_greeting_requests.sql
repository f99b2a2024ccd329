-- SPDX-License-Identifier: MIT
-- pbxctl schema 0017 c: an end user's own voicemail greeting (`pbxctl me voicemail greeting`).
--
-- The voicemail spool belongs to Asterisk (config asterisk.voicemail_owner), not to the end
-- user, so, as for the PIN (0017_b), the privileged apply worker does the writing: the end
-- user's pbxctl checks and converts the file itself (the same checks as `user greeting
-- set`: WAV or MP3 by content, at most 5 MB and 5 minutes) and files the result, 8 kHz mono
-- 16-bit little-endian samples, through pbx_me_request_greeting; the worker stores it as the
-- box's unavailable greeting (or removes it), audited with the end user's login as actor,
-- and erases the samples from the row. A user's new request replaces its queued one.

CREATE TABLE greeting_requests (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	requested_by name NOT NULL DEFAULT session_user,
	action text NOT NULL CHECK (action IN ('set', 'delete')),
	pcm bytea CHECK (pcm IS NULL OR (octet_length(pcm) BETWEEN 2 AND 4800000
					 AND octet_length(pcm) % 2 = 0)),
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'done', 'refused', 'superseded', 'failed')),
	reason text,
	created_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	CHECK (status <> 'queued' OR (action = 'set') = (pcm IS NOT NULL)),
	CHECK (status = 'queued' OR pcm IS NULL)
);
CREATE INDEX greeting_requests_queue ON greeting_requests (id) WHERE status = 'queued';
CREATE INDEX greeting_requests_user ON greeting_requests (user_id, created_at);

ALTER TABLE greeting_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY greeting_requests_read ON greeting_requests FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant())
	       OR user_id = (SELECT pbx_operator_user()));
GRANT SELECT (id, tenant_id, user_id, requested_by, action, status, reason, created_at,
	finished_at) ON greeting_requests
	TO pbx_platform_admin, pbx_tenant_admin, pbx_support, pbx_end_user;

CREATE FUNCTION pbx_me_request_greeting(p_action text, p_pcm bytea) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users := pbx_me_user();
	rid bigint;
BEGIN
	IF p_action IS DISTINCT FROM 'set' AND p_action IS DISTINCT FROM 'delete' THEN
		RAISE EXCEPTION 'the greeting action must be set or delete' USING ERRCODE = '22023';
	END IF;
	IF (p_action = 'set') <> (p_pcm IS NOT NULL) OR (p_pcm IS NOT NULL AND
	    (octet_length(p_pcm) NOT BETWEEN 2 AND 4800000 OR octet_length(p_pcm) % 2 <> 0)) THEN
		RAISE EXCEPTION 'a greeting must be 8 kHz 16-bit samples of at most 5 minutes'
			USING ERRCODE = '22023';
	END IF;
	IF NOT u.voicemail THEN
		RAISE EXCEPTION 'user % has no voicemail box, so no greeting', u.username
			USING ERRCODE = '22023';
	END IF;
	UPDATE greeting_requests SET status = 'superseded', pcm = NULL, finished_at = now()
		WHERE user_id = u.id AND status = 'queued';
	INSERT INTO greeting_requests (tenant_id, user_id, action, pcm)
		VALUES (u.tenant_id, u.id, p_action, p_pcm) RETURNING id INTO rid;
	NOTIFY pbxctl_apply_queue;
	RETURN rid;
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_me_request_greeting(text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pbx_me_request_greeting(text, bytea) TO pbx_end_user;
