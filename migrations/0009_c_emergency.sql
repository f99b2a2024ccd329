-- SPDX-License-Identifier: MIT
-- pbxctl schema 0009 c: emergency calls always go out. A tenant may name an emergency trunk
-- (its own or a global one) that carries the emergency numbers (asterisk.emergency_numbers)
-- of callers whose policy does not allow them, and an emergency caller ID that every
-- emergency call presents. Apply refuses a tenant whose users could not reach an emergency
-- number either way. A trunk named here cannot be deleted (the key below).

ALTER TABLE tenants
	ADD COLUMN emergency_trunk_id bigint REFERENCES trunks (id),
	ADD COLUMN emergency_callerid text
		CHECK (emergency_callerid IS NULL OR emergency_callerid ~ '^\+?[0-9]{2,20}$');
CREATE INDEX tenants_emergency_trunk ON tenants (emergency_trunk_id)
	WHERE emergency_trunk_id IS NOT NULL;
