-- Publishers whose signed platform bundles this console deploys (Ed25519 public keys, hex).
CREATE TABLE trusted_publishers (
    public_key TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    added_at   TEXT NOT NULL
);

-- The deployment journal: each plan and its apply. The stacks are the source of truth; this
-- says which plan was being applied, so a restarted Vigil re-attaches to it.
CREATE TABLE deployments (
    id          TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    -- planned, applying, succeeded, failed, superseded
    state       TEXT NOT NULL,
    -- the reviewed plan (JSON: vigil_dto::deploy::DeployPlan)
    plan        TEXT NOT NULL,
    -- where the apply stands (JSON: per stack state, the root cause of a failure)
    progress    TEXT NOT NULL DEFAULT '{}',
    -- the bundle directory the plan was made from (to re-read its templates)
    bundle_dir  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX deployments_environment ON deployments (environment, created_at);
