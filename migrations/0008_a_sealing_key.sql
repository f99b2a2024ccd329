-- SPDX-License-Identifier: MIT
-- pbxctl schema 0008a: the public half of the key SIP secrets are sealed to (libsodium
-- sealed boxes). One row at most: every operator reads it to seal the secret of a device or
-- trunk it creates; only the privileged side, which holds the private key file, changes it
-- (`pbxctl secrets publish`, and `pbxctl secrets rotate-key` in the transaction that
-- re-seals every secret). The private key never enters the database.

CREATE TABLE sealing_key (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	key_id text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
	public_key text NOT NULL CHECK (public_key ~ '^pbxctl-pub-v2:[A-Za-z0-9+/]{43}=$'),
	published_by text NOT NULL DEFAULT session_user,
	published_at timestamptz NOT NULL DEFAULT now()
);
