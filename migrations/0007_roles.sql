-- SPDX-License-Identifier: MIT
-- pbxctl schema 0007: operators and tenant isolation enforced by PostgreSQL itself.
--
-- An operator is a PostgreSQL login role mapped to one of four roles: platform_admin
-- (everything), tenant_admin (one tenant), support (read-only, everywhere or in one tenant)
-- and end_user (its own user; changes only its self-service fields, through the pbx_me_*
-- functions). The mapping is keyed by session_user, which no client can change, never by
-- a setting. Row-level security filters every tenant-owned table; the table privileges come
-- from four group roles (pbx_platform_admin, pbx_tenant_admin, pbx_support, pbx_end_user)
-- that pbx_operator_add grants to each mapped login. A login that is not mapped holds none
-- of them and reads nothing.
--
-- The tables' owner (the role that runs `pbxctl db migrate`, which becomes the first
-- platform_admin) bypasses row-level security: RLS is enabled, not forced. The SECURITY
-- DEFINER functions below run as that owner, so each one checks its caller's scope itself.
-- Every definer function pins search_path, with pg_temp last, so that a caller's temporary
-- table can never stand in for one of ours.
--
-- Policies compare a column with (SELECT f()), an uncorrelated subquery: PostgreSQL runs it
-- once per statement (an InitPlan) and can still use an index on the column; f() called
-- directly would run for every row. The functions are plpgsql so that their own lookup is
-- planned once per session.
--
-- Needs: the migrating role is superuser or has CREATEROLE (it creates the group roles,
-- once per cluster, and grants them to operators later).

CREATE TABLE operators (
	login name PRIMARY KEY,
	role text NOT NULL CHECK (role IN ('platform_admin', 'tenant_admin', 'support', 'end_user')),
	tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
	user_id bigint REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (role <> 'platform_admin' OR (tenant_id IS NULL AND user_id IS NULL)),
	CHECK (role <> 'tenant_admin' OR (tenant_id IS NOT NULL AND user_id IS NULL)),
	CHECK (role <> 'support' OR user_id IS NULL),
	CHECK (role <> 'end_user' OR (tenant_id IS NOT NULL AND user_id IS NOT NULL))
);
CREATE INDEX operators_tenant ON operators (tenant_id) WHERE tenant_id IS NOT NULL;
CREATE INDEX operators_user ON operators (user_id) WHERE user_id IS NOT NULL;

-- The role each audit row was written under, next to its actor. Not part of the hash (rows
-- before this migration have none); the actor, which is, already names the login.
ALTER TABLE audit_log ADD COLUMN actor_role text;

DO $$
DECLARE
	g text;
BEGIN
	FOREACH g IN ARRAY ARRAY['pbx_platform_admin', 'pbx_tenant_admin', 'pbx_support',
				 'pbx_end_user'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', g);
		END IF;
	END LOOP;
END
$$;

-- ---- who is calling -------------------------------------------------------------------

CREATE FUNCTION pbx_operator_role() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT role FROM operators WHERE login = session_user);
END
$$;

CREATE FUNCTION pbx_operator_tenant() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT tenant_id FROM operators WHERE login = session_user);
END
$$;

CREATE FUNCTION pbx_operator_user() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT user_id FROM operators WHERE login = session_user);
END
$$;

-- What the policies compare with. read_all: a platform admin or a support operator without
-- a tenant. write_all: a platform admin. read_tenant: the tenant a tenant admin or scoped
-- support operator reads. write_tenant: the tenant a tenant admin changes. The _slug forms
-- serve the tables that name their tenant by slug (audit_log, apply_jobs).
CREATE FUNCTION pbx_rls_read_all() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN coalesce((SELECT role = 'platform_admin' OR (role = 'support' AND tenant_id IS NULL)
			 FROM operators WHERE login = session_user), false);
END
$$;

CREATE FUNCTION pbx_rls_write_all() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN coalesce((SELECT role = 'platform_admin' FROM operators WHERE login = session_user),
			false);
END
$$;

CREATE FUNCTION pbx_rls_read_tenant() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT tenant_id FROM operators
		WHERE login = session_user AND role IN ('tenant_admin', 'support'));
END
$$;

CREATE FUNCTION pbx_rls_write_tenant() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT tenant_id FROM operators WHERE login = session_user AND role = 'tenant_admin');
END
$$;

CREATE FUNCTION pbx_rls_read_tenant_slug() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT t.slug FROM operators o JOIN tenants t ON t.id = o.tenant_id
		WHERE o.login = session_user AND o.role IN ('tenant_admin', 'support'));
END
$$;

CREATE FUNCTION pbx_rls_write_tenant_slug() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT t.slug FROM operators o JOIN tenants t ON t.id = o.tenant_id
		WHERE o.login = session_user AND o.role = 'tenant_admin');
END
$$;

-- Who the session is, for `pbxctl whoami`: also for a login that is not mapped (no role)
-- and which reads no table. bypass_rls: a superuser, a BYPASSRLS role or the tables' owner.
CREATE FUNCTION pbx_operator_whoami(OUT login name, OUT role text, OUT tenant_id bigint,
				    OUT tenant text, OUT user_id bigint, OUT username text,
				    OUT bypass_rls boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	SELECT session_user, o.role, o.tenant_id, t.slug, o.user_id, u.username
	INTO login, role, tenant_id, tenant, user_id, username
	FROM (SELECT 1) one LEFT JOIN operators o ON o.login = session_user
	LEFT JOIN tenants t ON t.id = o.tenant_id LEFT JOIN users u ON u.id = o.user_id;
	SELECT r.rolsuper OR r.rolbypassrls OR r.rolname = (SELECT tableowner FROM pg_tables
		WHERE tablename = 'users' AND schemaname = 'public')
	INTO bypass_rls FROM pg_roles r WHERE r.rolname = session_user;
END
$$;

-- ---- the audit log under roles ----------------------------------------------------------

-- The chain writer of 0001, now also recording the actor's role. Not callable by operators:
-- they call audit_append, which checks their scope first; the pbx_me_* functions, running
-- as the owner, call it directly.
CREATE FUNCTION audit_write(p_source text, p_tenant text, p_action text, p_entity text,
			    p_entity_id text, p_before jsonb, p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
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
	r.actor_role := pbx_operator_role();
	INSERT INTO audit_log SELECT r.*;
	RETURN r.id;
END
$$;
REVOKE EXECUTE ON FUNCTION audit_write(text, text, text, text, text, jsonb, jsonb) FROM PUBLIC;

-- The chain is global, so appending reads the last row of every tenant: a definer
-- function. A tenant admin appends only rows of its own tenant; support and end users
-- append nothing (their self-service changes are audited by pbx_me_*).
CREATE OR REPLACE FUNCTION audit_append(p_source text, p_tenant text, p_action text,
					p_entity text, p_entity_id text, p_before jsonb,
					p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF NOT pbx_rls_write_all() AND p_tenant IS DISTINCT FROM pbx_rls_write_tenant_slug()
	   AND session_user <> (SELECT tableowner FROM pg_tables
				WHERE tablename = 'audit_log' AND schemaname = 'public') THEN
		RAISE EXCEPTION 'operator % may not write audit rows of tenant %', session_user,
			coalesce(p_tenant, '(none)') USING ERRCODE = '42501';
	END IF;
	RETURN audit_write(p_source, p_tenant, p_action, p_entity, p_entity_id, p_before, p_after);
END
$$;

-- For the bulk import, which chains its rows in C and COPYs them: the last hash of the
-- whole chain, and a block of @n ids. The caller holds audit_append's lock (7242, 1).
CREATE FUNCTION audit_head() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), repeat('0', 64));
END
$$;

CREATE FUNCTION audit_reserve_ids(n bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF n < 1 OR (pbx_operator_role() IS DISTINCT FROM 'platform_admin'
		     AND pbx_operator_role() IS DISTINCT FROM 'tenant_admin'
		     AND session_user <> (SELECT tableowner FROM pg_tables
					  WHERE tablename = 'audit_log' AND schemaname = 'public')) THEN
		RAISE EXCEPTION 'operator % may not write audit rows', session_user
			USING ERRCODE = '42501';
	END IF;
	RETURN setval('audit_log_id_seq', nextval('audit_log_id_seq') + n - 1) - n + 1;
END
$$;

-- ---- row-level security -----------------------------------------------------------------

ALTER TABLE operators ENABLE ROW LEVEL SECURITY;
CREATE POLICY operators_read ON operators FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR login = session_user);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenants_read ON tenants FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR id = (SELECT pbx_operator_tenant()));
CREATE POLICY tenants_insert ON tenants FOR INSERT WITH CHECK ((SELECT pbx_rls_write_all()));
CREATE POLICY tenants_delete ON tenants FOR DELETE USING ((SELECT pbx_rls_write_all()));
-- A tenant admin updates its own row; the column privileges below leave out the range
-- and the status.
CREATE POLICY tenants_update ON tenants FOR UPDATE
	USING ((SELECT pbx_rls_write_all()) OR id = (SELECT pbx_rls_write_tenant()))
	WITH CHECK ((SELECT pbx_rls_write_all()) OR id = (SELECT pbx_rls_write_tenant()));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON users FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant())
	       OR id = (SELECT pbx_operator_user()));
ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY devices_read ON devices FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant())
	       OR user_id = (SELECT pbx_operator_user()));
ALTER TABLE dids ENABLE ROW LEVEL SECURITY;
CREATE POLICY dids_read ON dids FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant()));
ALTER TABLE policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY policies_read ON policies FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant()));
-- Global trunks (no tenant) are readable by every tenant admin and support operator, whose
-- policies may route through them; only a platform admin changes them.
ALTER TABLE trunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY trunks_read ON trunks FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant_id = (SELECT pbx_rls_read_tenant())
	       OR (tenant_id IS NULL AND (SELECT pbx_rls_read_tenant()) IS NOT NULL));

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['users', 'devices', 'dids', 'policies', 'trunks'] LOOP
		EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK ('
			'(SELECT pbx_rls_write_all()) OR tenant_id = (SELECT pbx_rls_write_tenant()))',
			t || '_insert', t);
		EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING ('
			'(SELECT pbx_rls_write_all()) OR tenant_id = (SELECT pbx_rls_write_tenant())) '
			'WITH CHECK ((SELECT pbx_rls_write_all()) '
			'OR tenant_id = (SELECT pbx_rls_write_tenant()))', t || '_update', t);
		EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING ('
			'(SELECT pbx_rls_write_all()) OR tenant_id = (SELECT pbx_rls_write_tenant()))',
			t || '_delete', t);
	END LOOP;
END
$$;

-- Rules and their trunks have no tenant column: they belong to their policy, and a rule
-- may name only trunks its writer can see (its tenant's or global ones). The subqueries on
-- policies and trunks are filtered by those tables' own policies.
ALTER TABLE policy_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY policy_rules_read ON policy_rules FOR SELECT
	USING (EXISTS (SELECT 1 FROM policies p WHERE p.id = policy_id));
CREATE POLICY policy_rules_write ON policy_rules FOR ALL
	USING (EXISTS (SELECT 1 FROM policies p WHERE p.id = policy_id
		       AND ((SELECT pbx_rls_write_all()) OR p.tenant_id = (SELECT pbx_rls_write_tenant()))))
	WITH CHECK (EXISTS (SELECT 1 FROM policies p WHERE p.id = policy_id
		       AND ((SELECT pbx_rls_write_all()) OR p.tenant_id = (SELECT pbx_rls_write_tenant()))));
ALTER TABLE policy_rule_trunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY policy_rule_trunks_read ON policy_rule_trunks FOR SELECT
	USING (EXISTS (SELECT 1 FROM policy_rules r WHERE r.id = rule_id));
CREATE POLICY policy_rule_trunks_write ON policy_rule_trunks FOR ALL
	USING (EXISTS (SELECT 1 FROM policy_rules r JOIN policies p ON p.id = r.policy_id
		       WHERE r.id = rule_id AND ((SELECT pbx_rls_write_all())
						 OR p.tenant_id = (SELECT pbx_rls_write_tenant()))))
	WITH CHECK (EXISTS (SELECT 1 FROM policy_rules r JOIN policies p ON p.id = r.policy_id
			    WHERE r.id = rule_id AND ((SELECT pbx_rls_write_all())
						      OR p.tenant_id = (SELECT pbx_rls_write_tenant())))
		    AND EXISTS (SELECT 1 FROM trunks k WHERE k.id = trunk_id));

-- Audit rows and apply jobs name their tenant by slug; rows of no tenant (global trunks,
-- operators, full applies) are read by global readers only. An operator inserts audit rows
-- (the bulk import COPYs its chained rows) only under its own name and for its own tenant.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant = (SELECT pbx_rls_read_tenant_slug()));
CREATE POLICY audit_log_insert ON audit_log FOR INSERT
	WITH CHECK (actor = session_user
		    AND ((SELECT pbx_rls_write_all()) OR tenant = (SELECT pbx_rls_write_tenant_slug())));
ALTER TABLE apply_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY apply_jobs_read ON apply_jobs FOR SELECT
	USING ((SELECT pbx_rls_read_all()) OR tenant = (SELECT pbx_rls_read_tenant_slug()));
CREATE POLICY apply_jobs_write ON apply_jobs FOR ALL
	USING ((SELECT pbx_rls_write_all()) OR tenant = (SELECT pbx_rls_write_tenant_slug()))
	WITH CHECK ((SELECT pbx_rls_write_all()) OR tenant = (SELECT pbx_rls_write_tenant_slug()));

-- ---- privileges of the group roles ------------------------------------------------------

-- Everyone may see which migrations ran, so that an unmapped login is told it is unmapped
-- (pbxctl whoami) rather than that the schema is missing.
GRANT SELECT ON schema_migrations TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, devices, dids, trunks, policies,
	policy_rules, policy_rule_trunks, apply_jobs TO pbx_platform_admin;
GRANT SELECT, INSERT ON audit_log TO pbx_platform_admin, pbx_tenant_admin;
GRANT SELECT ON operators TO pbx_platform_admin, pbx_tenant_admin, pbx_support, pbx_end_user;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO pbx_platform_admin, pbx_tenant_admin;

GRANT SELECT ON tenants TO pbx_tenant_admin, pbx_support, pbx_end_user;
GRANT UPDATE (display_name, ext_next, default_inbound, default_policy_id, updated_at)
	ON tenants TO pbx_tenant_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, devices, dids, trunks, policies, policy_rules,
	policy_rule_trunks, apply_jobs TO pbx_tenant_admin;
GRANT SELECT ON users, devices, dids, trunks, policies, policy_rules, policy_rule_trunks,
	audit_log, apply_jobs TO pbx_support;
-- An end user reads its own row and devices, but not its PIN hash or sealed secrets.
GRANT SELECT (id, tenant_id, username, display_name, email, extension, status,
	outbound_callerid, voicemail, dnd, forward_to, policy_id, created_at, updated_at)
	ON users TO pbx_end_user;
GRANT SELECT (id, tenant_id, user_id, label, sip_username, transport, force_rport,
	rewrite_contact, rtp_symmetric, direct_media, codecs, enabled, created_at, updated_at)
	ON devices TO pbx_end_user;
-- Sequences of tables that later migrations add.
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO pbx_platform_admin, pbx_tenant_admin;

-- ---- operators: add, change, remove (platform admins only) ------------------------------

CREATE FUNCTION pbx_operator_check_admin() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF NOT pbx_rls_write_all() THEN
		RAISE EXCEPTION 'only a platform_admin manages operators' USING ERRCODE = '42501';
	END IF;
END
$$;

-- The group role of @role, granted to @login after any other one is revoked.
CREATE FUNCTION pbx_operator_grant(p_login name, p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	g text;
BEGIN
	FOREACH g IN ARRAY ARRAY['platform_admin', 'tenant_admin', 'support', 'end_user'] LOOP
		IF g IS DISTINCT FROM p_role AND EXISTS (
			SELECT 1 FROM pg_auth_members m JOIN pg_roles gr ON gr.oid = m.roleid
			JOIN pg_roles lr ON lr.oid = m.member
			WHERE gr.rolname = 'pbx_' || g AND lr.rolname = p_login) THEN
			EXECUTE format('REVOKE %I FROM %I', 'pbx_' || g, p_login);
		END IF;
	END LOOP;
	IF p_role IS NOT NULL THEN
		EXECUTE format('GRANT %I TO %I', 'pbx_' || p_role, p_login);
	END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_operator_grant(name, text) FROM PUBLIC;

-- The audit image of an operator.
CREATE FUNCTION pbx_operator_image(o operators) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT jsonb_build_object('login', o.login, 'role', o.role,
		'tenant', (SELECT slug FROM tenants WHERE id = o.tenant_id),
		'user', (SELECT username FROM users WHERE id = o.user_id))
$$;

-- Checks shared by add and set-role; fills the tenant of an end user from its user.
CREATE FUNCTION pbx_operator_checked(p_login name, p_role text, p_tenant bigint, p_user bigint)
RETURNS operators
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	o operators;
BEGIN
	o.login := p_login;
	o.role := p_role;
	o.tenant_id := p_tenant;
	o.user_id := p_user;
	IF p_role = 'end_user' THEN
		SELECT tenant_id INTO o.tenant_id FROM users WHERE id = p_user AND status <> 'deleted';
		IF NOT FOUND THEN
			RAISE EXCEPTION 'no such user' USING ERRCODE = 'PBX04';
		END IF;
	ELSIF p_tenant IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = p_tenant) THEN
		RAISE EXCEPTION 'no such tenant' USING ERRCODE = 'PBX04';
	END IF;
	-- A superuser or the tables' owner would bypass row-level security: such a login can
	-- only be a platform admin.
	IF p_role <> 'platform_admin' AND EXISTS (
		SELECT 1 FROM pg_roles WHERE rolname = p_login AND (rolsuper OR rolbypassrls
			OR rolname = (SELECT tableowner FROM pg_tables
				      WHERE tablename = 'users' AND schemaname = 'public'))) THEN
		RAISE EXCEPTION 'login bypasses row-level security' USING ERRCODE = 'PBX05';
	END IF;
	RETURN o;
END
$$;

CREATE FUNCTION pbx_operator_add(p_login name, p_role text, p_tenant bigint, p_user bigint,
				 p_create_login boolean) RETURNS SETOF operators
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	o operators;
BEGIN
	PERFORM pbx_operator_check_admin();
	o := pbx_operator_checked(p_login, p_role, p_tenant, p_user);
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login) THEN
		IF NOT p_create_login THEN
			RAISE EXCEPTION 'no such login role' USING ERRCODE = 'PBX06';
		END IF;
		-- No password: the login authenticates by peer or certificate (pg_hba.conf).
		EXECUTE format('CREATE ROLE %I LOGIN', p_login);
	ELSIF p_create_login THEN
		RAISE EXCEPTION 'login role exists' USING ERRCODE = 'PBX07';
	END IF;
	INSERT INTO operators (login, role, tenant_id, user_id)
		VALUES (o.login, o.role, o.tenant_id, o.user_id) RETURNING * INTO o;
	PERFORM pbx_operator_grant(p_login, p_role);
	PERFORM audit_write('sql', (SELECT slug FROM tenants WHERE id = o.tenant_id), 'create',
			    'operator', p_login, NULL, pbx_operator_image(o));
	RETURN NEXT o;
END
$$;

CREATE FUNCTION pbx_operator_set_role(p_login name, p_role text, p_tenant bigint,
				      p_user bigint) RETURNS SETOF operators
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	old operators;
	o operators;
BEGIN
	PERFORM pbx_operator_check_admin();
	-- One change of platform admins at a time, so the last one cannot be lost in a race.
	PERFORM pg_advisory_xact_lock(7242, 3);
	SELECT * INTO old FROM operators WHERE login = p_login FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such operator' USING ERRCODE = 'PBX04';
	END IF;
	o := pbx_operator_checked(p_login, p_role, p_tenant, p_user);
	IF old.role = 'platform_admin' AND p_role <> 'platform_admin'
	   AND (SELECT count(*) FROM operators WHERE role = 'platform_admin') <= 1 THEN
		RAISE EXCEPTION 'last platform admin' USING ERRCODE = 'PBX08';
	END IF;
	UPDATE operators SET role = o.role, tenant_id = o.tenant_id, user_id = o.user_id
		WHERE login = p_login RETURNING * INTO o;
	PERFORM pbx_operator_grant(p_login, p_role);
	IF old IS DISTINCT FROM o THEN
		PERFORM audit_write('sql', (SELECT slug FROM tenants WHERE id = o.tenant_id),
				    'update', 'operator', p_login, pbx_operator_image(old),
				    pbx_operator_image(o));
	END IF;
	RETURN NEXT o;
END
$$;

-- Removes the mapping and the group role; the login role itself stays (it may serve other
-- databases), as does its audit trail.
CREATE FUNCTION pbx_operator_remove(p_login name) RETURNS SETOF operators
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	o operators;
BEGIN
	PERFORM pbx_operator_check_admin();
	PERFORM pg_advisory_xact_lock(7242, 3);
	SELECT * INTO o FROM operators WHERE login = p_login FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such operator' USING ERRCODE = 'PBX04';
	END IF;
	IF o.role = 'platform_admin'
	   AND (SELECT count(*) FROM operators WHERE role = 'platform_admin') <= 1 THEN
		RAISE EXCEPTION 'last platform admin' USING ERRCODE = 'PBX08';
	END IF;
	DELETE FROM operators WHERE login = p_login;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login) THEN
		PERFORM pbx_operator_grant(p_login, NULL);
	END IF;
	PERFORM audit_write('sql', (SELECT slug FROM tenants WHERE id = o.tenant_id), 'delete',
			    'operator', p_login, pbx_operator_image(o), NULL);
	RETURN NEXT o;
END
$$;

REVOKE EXECUTE ON FUNCTION pbx_operator_add(name, text, bigint, bigint, boolean),
	pbx_operator_set_role(name, text, bigint, bigint), pbx_operator_remove(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pbx_operator_add(name, text, bigint, bigint, boolean),
	pbx_operator_set_role(name, text, bigint, bigint), pbx_operator_remove(name)
	TO pbx_platform_admin;

-- ---- self-service of end users ------------------------------------------------------------

-- The user an end user is, locked; refuses every other role.
CREATE FUNCTION pbx_me_user() RETURNS users
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users;
BEGIN
	SELECT * INTO u FROM users WHERE id = pbx_operator_user() AND status <> 'deleted' FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'operator % is not mapped to a user', session_user
			USING ERRCODE = '42501';
	END IF;
	RETURN u;
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_me_user() FROM PUBLIC;

-- The user row a pbx_me_* function returns: never the PIN hash.
CREATE FUNCTION pbx_me_result(p_id bigint) RETURNS users
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users;
BEGIN
	SELECT * INTO u FROM users WHERE id = p_id;
	u.pin_hash := NULL;
	RETURN u;
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_me_result(bigint) FROM PUBLIC;

CREATE FUNCTION pbx_me_set_dnd(p_dnd boolean) RETURNS SETOF users
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users := pbx_me_user();
BEGIN
	IF p_dnd IS NULL THEN
		RAISE EXCEPTION 'dnd must be true or false' USING ERRCODE = '22023';
	END IF;
	IF u.dnd IS DISTINCT FROM p_dnd THEN
		UPDATE users SET dnd = p_dnd, updated_at = now() WHERE id = u.id;
		PERFORM audit_write('self-service', (SELECT slug FROM tenants WHERE id = u.tenant_id),
				    'update', 'user', u.id::text, jsonb_build_object('dnd', u.dnd),
				    jsonb_build_object('dnd', p_dnd));
	END IF;
	RETURN NEXT pbx_me_result(u.id);
END
$$;

-- NULL or '' clears the forward; otherwise +E164 (8 to 15 digits), or an extension of the
-- user's tenant, inside its range and not the user's own (the rules of user update).
CREATE FUNCTION pbx_me_set_forward(p_to text) RETURNS SETOF users
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u users := pbx_me_user();
	t tenants;
	fwd text := nullif(p_to, '');
BEGIN
	SELECT * INTO t FROM tenants WHERE id = u.tenant_id;
	IF fwd IS NOT NULL THEN
		IF fwd ~ '^[1-9][0-9]{1,7}$' THEN
			IF fwd::integer < t.ext_min OR fwd::integer > t.ext_max THEN
				RAISE EXCEPTION 'forward destination % is outside %''s range %-%', fwd,
					t.slug, t.ext_min, t.ext_max USING ERRCODE = '22023';
			END IF;
			IF fwd::integer = u.extension THEN
				RAISE EXCEPTION 'a user cannot forward to its own extension %', fwd
					USING ERRCODE = '22023';
			END IF;
		ELSIF fwd !~ '^\+[1-9][0-9]{7,14}$' THEN
			RAISE EXCEPTION 'forward destination must be an extension of the tenant or +E164'
				USING ERRCODE = '22023';
		END IF;
	END IF;
	IF u.forward_to IS DISTINCT FROM fwd THEN
		UPDATE users SET forward_to = fwd, updated_at = now() WHERE id = u.id;
		PERFORM audit_write('self-service', t.slug, 'update', 'user', u.id::text,
				    jsonb_build_object('forward_to', u.forward_to),
				    jsonb_build_object('forward_to', fwd));
	END IF;
	RETURN NEXT pbx_me_result(u.id);
END
$$;
REVOKE EXECUTE ON FUNCTION pbx_me_set_dnd(boolean), pbx_me_set_forward(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pbx_me_set_dnd(boolean), pbx_me_set_forward(text) TO pbx_end_user;

-- ---- bootstrap ----------------------------------------------------------------------------

-- The role running this migration owns the tables and is the first platform admin.
INSERT INTO operators (login, role) VALUES (session_user, 'platform_admin');
