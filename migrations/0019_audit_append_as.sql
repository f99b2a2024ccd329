-- SPDX-License-Identifier: MIT
-- One writer of the audit chain. 0012's audit_append_as copied the body of 0007's
-- audit_write (lock, previous hash, row, hash, insert), differing only in who the actor
-- is and in leaving actor_role empty. audit_append_as now holds the one body, taking the
-- actor's role as an optional last argument (NULL, as before, for a change made on a
-- phone), and audit_write is a thin wrapper passing the session's login and role. The
-- rows, their hashes and who may call each function stay as they were.

DROP FUNCTION audit_append_as(text, text, text, text, text, text, jsonb, jsonb);

-- The audit row of a change made on a phone: the actor is the user who dialled the
-- feature code (not the database role of the process that relayed it), the source the
-- device. Every other audit row comes here through audit_write. Only pbxctl's own role
-- may call it.
CREATE FUNCTION audit_append_as(p_actor text, p_source text, p_tenant text, p_action text,
				p_entity text, p_entity_id text, p_before jsonb, p_after jsonb,
				p_actor_role text DEFAULT NULL)
	RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
	r audit_log;
	prev text;
BEGIN
	PERFORM pg_advisory_xact_lock(7242, 1);
	SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
	r.id := nextval('audit_log_id_seq');
	r.at := clock_timestamp();
	r.actor := p_actor;
	r.source := p_source;
	r.tenant := p_tenant;
	r.action := p_action;
	r.entity := p_entity;
	r.entity_id := p_entity_id;
	r.before := p_before;
	r.after := p_after;
	r.prev_hash := coalesce(prev, repeat('0', 64));
	r.hash := audit_row_hash(r.prev_hash, r);
	r.actor_role := p_actor_role;
	INSERT INTO audit_log SELECT r.*;
	RETURN r.id;
END
$$;
REVOKE ALL ON FUNCTION audit_append_as(text, text, text, text, text, text, jsonb, jsonb, text)
	FROM PUBLIC;

-- The chain writer for operators (through audit_append) and the pbx_me_* functions: the
-- session's login is the actor, its role is recorded.
CREATE OR REPLACE FUNCTION audit_write(p_source text, p_tenant text, p_action text,
				       p_entity text, p_entity_id text, p_before jsonb,
				       p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
	RETURN audit_append_as(session_user, p_source, p_tenant, p_action, p_entity,
			       p_entity_id, p_before, p_after, pbx_operator_role());
END
$$;
