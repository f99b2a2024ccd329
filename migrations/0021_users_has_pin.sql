-- SPDX-License-Identifier: MIT
-- Support reads everything and changes nothing (0007), but reading users.pin_hash lets a
-- support login brute-force a 4-6 digit voicemail PIN offline and open any mailbox. Support
-- keeps SELECT on every column of users except the PIN hash and the sealed PIN verifier;
-- whether a PIN is set is the generated column has_pin, which every role may read.
ALTER TABLE users ADD COLUMN has_pin boolean GENERATED ALWAYS AS (pin_hash IS NOT NULL) STORED;

REVOKE SELECT ON users FROM pbx_support;
GRANT SELECT (id, tenant_id, username, display_name, email, extension, status,
	outbound_callerid, voicemail, dnd, forward_to, policy_id, created_at, updated_at,
	astdb_pending, has_pin)
	ON users TO pbx_support;
