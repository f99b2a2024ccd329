-- SPDX-License-Identifier: MIT
-- pbxctl schema 0001: tenants and the hash-chained audit log.

CREATE TABLE tenants (
	id bigserial PRIMARY KEY,
	slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,23}$'),
	display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 128),
	status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
	ext_min integer NOT NULL CHECK (ext_min BETWEEN 10 AND 99999999),
	ext_max integer NOT NULL CHECK (ext_max BETWEEN 10 AND 99999999),
	ext_next integer NOT NULL,
	default_inbound text,
	default_policy_id bigint,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (ext_min < ext_max),
	CHECK (ext_next BETWEEN ext_min AND ext_max + 1)
);

CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor text NOT NULL,
	source text NOT NULL,
	tenant text,
	action text NOT NULL,
	entity text NOT NULL,
	entity_id text,
	before jsonb,
	after jsonb,
	prev_hash text NOT NULL,
	hash text NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, id);
CREATE INDEX audit_log_tenant ON audit_log (tenant, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- The canonical content of a row, the input of its hash: a JSON array, so no field can
-- spill into another, with the time as integer microseconds (independent of TimeZone).
CREATE FUNCTION audit_canonical(a audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(a.id,
		(extract(epoch FROM a.at) * 1000000)::bigint,
		a.actor, a.source, a.tenant, a.action, a.entity, a.entity_id,
		a.before, a.after)::text
$$;

CREATE FUNCTION audit_row_hash(prev text, a audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT encode(sha256(convert_to(prev || audit_canonical(a), 'UTF8')), 'hex')
$$;

-- Appends one row chained to the previous one. The transaction-scoped advisory lock
-- serialises writers from here to commit, so ids and the chain have the same order.
CREATE FUNCTION audit_append(p_source text, p_tenant text, p_action text, p_entity text,
			     p_entity_id text, p_before jsonb, p_after jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	r audit_log;
	prev text;
BEGIN
	PERFORM pg_advisory_xact_lock(7242, 1);
	SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
	r.id := nextval('audit_log_id_seq');
	r.at := clock_timestamp();
	r.actor := session_user;
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

-- Append-only: rows are never updated or deleted through normal use.
CREATE FUNCTION audit_log_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();
