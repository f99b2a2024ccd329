-- SPDX-License-Identifier: MIT
-- pbxctl schema 0004: external calling. Phone numbers (DIDs) routed to a tenant's
-- destinations, SIP trunks (a tenant's own, or global ones every tenant's policies may use)
-- and outbound policies: ordered rules of a pattern, allow or block, a rewrite and an
-- ordered list of trunks. A tenant has a default policy; a user may override it.

CREATE TABLE dids (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number text NOT NULL UNIQUE CHECK (number ~ '^\+[1-9][0-9]{7,14}$'),
	label text CHECK (label IS NULL OR length(label) BETWEEN 1 AND 64),
	provider text CHECK (provider IS NULL OR length(provider) BETWEEN 1 AND 64),
	destination text,
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dids_tenant ON dids (tenant_id);

-- A trunk's name is unique across tenants and global trunks alike, so that a policy naming
-- a trunk is never ambiguous. tenant_id NULL: a global trunk.
CREATE TABLE trunks (
	id bigserial PRIMARY KEY,
	tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
	name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9-]{0,31}$'),
	host text NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
	port integer NOT NULL DEFAULT 5060 CHECK (port BETWEEN 1 AND 65535),
	transport text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp', 'tls')),
	auth text NOT NULL CHECK (auth IN ('registration', 'ip_auth')),
	username text CHECK (username IS NULL OR length(username) BETWEEN 1 AND 40),
	secret_sealed text,
	match text[] NOT NULL DEFAULT '{}',
	codecs text[] NOT NULL DEFAULT '{ulaw,alaw}',
	callerid_mode text NOT NULL DEFAULT 'pass' CHECK (callerid_mode IN ('pass', 'force')),
	callerid text CHECK (callerid IS NULL OR callerid ~ '^\+?[0-9]{2,20}$'),
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (auth <> 'registration' OR (username IS NOT NULL AND secret_sealed IS NOT NULL)),
	CHECK (auth <> 'ip_auth' OR cardinality(match) >= 1),
	CHECK (callerid_mode <> 'force' OR callerid IS NOT NULL)
);
CREATE INDEX trunks_tenant ON trunks (tenant_id);

CREATE TABLE policies (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{0,31}$'),
	description text CHECK (description IS NULL OR length(description) BETWEEN 1 AND 128),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (tenant_id, name)
);

-- Positions are 1..n without gaps; the constraint is checked per statement, so a whole
-- range of rules can move by one in a single UPDATE.
CREATE TABLE policy_rules (
	id bigserial PRIMARY KEY,
	policy_id bigint NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
	position integer NOT NULL CHECK (position >= 1),
	pattern text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 128),
	action text NOT NULL CHECK (action IN ('allow', 'block')),
	strip integer NOT NULL DEFAULT 0 CHECK (strip BETWEEN 0 AND 20),
	prepend text NOT NULL DEFAULT '' CHECK (prepend ~ '^[0-9*#+]{0,20}$'),
	UNIQUE (policy_id, position) DEFERRABLE INITIALLY IMMEDIATE
);

-- The ordered trunks of a rule. A trunk still named by a rule cannot be deleted.
CREATE TABLE policy_rule_trunks (
	rule_id bigint NOT NULL REFERENCES policy_rules (id) ON DELETE CASCADE,
	position integer NOT NULL CHECK (position >= 1),
	trunk_id bigint NOT NULL REFERENCES trunks (id),
	PRIMARY KEY (rule_id, position),
	UNIQUE (rule_id, trunk_id)
);
CREATE INDEX policy_rule_trunks_trunk ON policy_rule_trunks (trunk_id);

-- The columns 0001 and 0002 reserved now point at policies.
ALTER TABLE tenants ADD CONSTRAINT tenants_default_policy_fk
	FOREIGN KEY (default_policy_id) REFERENCES policies (id);
ALTER TABLE users ADD CONSTRAINT users_policy_fk
	FOREIGN KEY (policy_id) REFERENCES policies (id);
CREATE INDEX users_policy ON users (policy_id) WHERE policy_id IS NOT NULL;
