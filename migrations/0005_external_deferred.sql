-- SPDX-License-Identifier: MIT
-- pbxctl schema 0005: the references to trunks and policies are checked at commit. Deleting
-- a tenant removes its trunks and its policies (with their rules) by cascade in one
-- statement; a reference checked row by row could see a trunk gone while the rule naming it
-- is still waiting for its own cascade. At commit every cascade is done, and a trunk or
-- policy still named by anything is refused as before.

ALTER TABLE policy_rule_trunks DROP CONSTRAINT policy_rule_trunks_trunk_id_fkey,
	ADD CONSTRAINT policy_rule_trunks_trunk_id_fkey FOREIGN KEY (trunk_id)
	REFERENCES trunks (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE tenants DROP CONSTRAINT tenants_default_policy_fk,
	ADD CONSTRAINT tenants_default_policy_fk FOREIGN KEY (default_policy_id)
	REFERENCES policies (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE users DROP CONSTRAINT users_policy_fk,
	ADD CONSTRAINT users_policy_fk FOREIGN KEY (policy_id)
	REFERENCES policies (id) DEFERRABLE INITIALLY DEFERRED;
