-- SPDX-License-Identifier: MIT
-- pbxctl schema 0008b: the apply queue. An operator who may change things but holds no
-- Asterisk or MariaDB credentials (nor the private key) asks for an apply; the privileged
-- `pbxctl apply worker` runs the requests in order, one at a time, woken by
-- NOTIFY pbxctl_apply_queue, and announces each change of a request's status with
-- NOTIFY pbxctl_apply_request (payload: the request id).

CREATE TABLE apply_requests (
	id bigserial PRIMARY KEY,
	tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
	tenant text,            -- the slug applied; NULL: every tenant
	requested_by text NOT NULL DEFAULT session_user,
	source text NOT NULL,
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'done', 'failed')),
	worker text,            -- OS user@host of the worker that took it
	job_id bigint REFERENCES apply_jobs (id) ON DELETE SET NULL,
	repair_of bigint REFERENCES apply_requests (id) ON DELETE SET NULL,
	result jsonb,           -- code, exit status, message, changed, summary, problems
	created_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz,
	CHECK ((tenant IS NULL) = (tenant_id IS NULL))
);
CREATE INDEX apply_requests_queue ON apply_requests (status, id);
CREATE INDEX apply_requests_tenant ON apply_requests (tenant_id, id);

-- The requester's role under the operators contract (issue 13), or NULL while that
-- contract is not installed: PL/pgSQL resolves pbx_operator_role() only when it runs.
CREATE FUNCTION pbx_apply_requester_role() RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF to_regprocedure('pbx_operator_role()') IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN pbx_operator_role();
END $$;

-- The requester's tenant under the same contract (pbx_operator_tenant()), or NULL.
CREATE FUNCTION pbx_apply_requester_tenant() RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF to_regprocedure('pbx_operator_tenant()') IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN (SELECT slug FROM tenants WHERE id = pbx_operator_tenant());
END $$;
