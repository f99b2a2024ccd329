-- SPDX-License-Identifier: MIT
-- pbxctl schema 0002: users with extensions, and their SIP devices.

CREATE TABLE users (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	username text NOT NULL CHECK (username ~ '^[a-z][a-z0-9._-]{0,31}$'),
	display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 128),
	email text,
	extension integer NOT NULL,
	status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
	outbound_callerid text,
	voicemail boolean NOT NULL DEFAULT false,
	pin_hash text,
	dnd boolean NOT NULL DEFAULT false,
	forward_to text,
	policy_id bigint,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (tenant_id, username)
);
-- A soft-deleted user gives its extension back; restore checks it is still free.
CREATE UNIQUE INDEX users_extension ON users (tenant_id, extension) WHERE status <> 'deleted';
CREATE INDEX users_tenant_ext ON users (tenant_id, extension);

CREATE TABLE devices (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	label text NOT NULL CHECK (length(label) BETWEEN 1 AND 64),
	sip_username text NOT NULL UNIQUE CHECK (sip_username ~ '^[a-z][a-z0-9-]{1,39}$'),
	secret_sealed text NOT NULL,
	transport text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp', 'tls', 'wss')),
	force_rport boolean NOT NULL DEFAULT true,
	rewrite_contact boolean NOT NULL DEFAULT true,
	rtp_symmetric boolean NOT NULL DEFAULT true,
	direct_media boolean NOT NULL DEFAULT false,
	codecs text[] NOT NULL DEFAULT '{ulaw,alaw}',
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_id, label)
);
CREATE INDEX devices_tenant ON devices (tenant_id);
