-- SPDX-License-Identifier: MIT
-- pbxctl schema 0003: apply jobs, one row per attempt to apply the desired state to Asterisk.

CREATE TABLE apply_jobs (
	id bigserial PRIMARY KEY,
	marker text NOT NULL UNIQUE CHECK (marker ~ '^[A-Za-z0-9-]{1,64}$'),
	tenant text,
	status text NOT NULL DEFAULT 'PENDING'
		CHECK (status IN ('PENDING', 'RUNNING', 'SUCCESS', 'FAILED', 'ROLLED_BACK')),
	rollback_failed boolean NOT NULL DEFAULT false,
	actor text NOT NULL DEFAULT session_user,
	source text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz,
	error text,
	diff_summary text,
	files text[] NOT NULL DEFAULT '{}',
	backup_dir text,
	reloaded boolean NOT NULL DEFAULT false,
	transitions jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX apply_jobs_status ON apply_jobs (status, id);
CREATE INDEX apply_jobs_tenant ON apply_jobs (tenant, id);
