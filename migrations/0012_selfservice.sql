-- SPDX-License-Identifier: MIT
-- pbxctl schema 0012: self-service state that calls read from Asterisk's AstDB.
--
-- PostgreSQL stays the record of DND, forward and PIN; AstDB (pbxctl/<slug>/<ext>/dnd,
-- forward, pin) is what a call reads. astdb_pending says that PostgreSQL holds a change
-- AstDB may not have yet: set by every change of the state AstDB mirrors (a trigger, so no
-- writer can forget it; new users start pending), cleared once pbxctl wrote AstDB and read
-- nothing newer. A change that came FROM AstDB (a phone's feature code) runs with the
-- transaction setting pbxctl.astdb_sync = 'on' and leaves the flag alone. Apply rewrites
-- every pending user's keys; where a user is not pending and AstDB differs, the phone
-- made the change and PostgreSQL takes it (after the same validation as the shell).
--
-- vm_pin_verifier_sealed: the mailbox PIN verifier the dialplan checks (salt and
-- SHA1(salt || PIN), see pbxctl-user(1)), sealed with the secrets key like SIP secrets, so
-- that apply can write it again into an AstDB that lost it while PostgreSQL readers without
-- the key learn nothing they could test PINs against. The argon2id hash stays the record.

ALTER TABLE users ADD COLUMN astdb_pending boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN vm_pin_verifier_sealed text;

CREATE FUNCTION users_astdb_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(current_setting('pbxctl.astdb_sync', true), '') <> 'on' THEN
		NEW.astdb_pending := true;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER users_astdb_pending BEFORE UPDATE OF dnd, forward_to, pin_hash,
	vm_pin_verifier_sealed, extension, status, voicemail ON users
	FOR EACH ROW EXECUTE FUNCTION users_astdb_pending();

-- The audit row of a change made on a phone: the actor is the user who dialled the
-- feature code (not the database role of the process that relayed it), the source the
-- device. Same chain and hash as audit_append(); only pbxctl's own role may call it.
CREATE FUNCTION audit_append_as(p_actor text, p_source text, p_tenant text, p_action text,
				p_entity text, p_entity_id text, p_before jsonb, p_after jsonb)
	RETURNS bigint
LANGUAGE plpgsql AS $$
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
	INSERT INTO audit_log SELECT r.*;
	RETURN r.id;
END
$$;
REVOKE ALL ON FUNCTION audit_append_as(text, text, text, text, text, text, jsonb, jsonb)
	FROM PUBLIC;
