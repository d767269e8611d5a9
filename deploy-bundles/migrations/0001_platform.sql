-- Patient Journey platform database, contract version 1: the job ledger, documents, and the
-- hash-chained de-identification audit log with its signed checkpoints.
-- Applied by the worker at start (sqlx migrations) and by Vigil's deploy flow.

CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL,                       -- 'deidentify'
    source_uri      text NOT NULL,                       -- s3://bucket/key
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    integer NOT NULL CHECK (max_attempts > 0),
    error_class     text,                                -- set when failed (see the contract)
    error_message   text,
    permanent       boolean NOT NULL DEFAULT false,      -- true when a retry cannot help
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    duration_ms     bigint,
    worker_id       text,
    source_sha256   bytea,
    detector_version text,
    document_id     uuid,
    CHECK (status <> 'failed' OR error_class IS NOT NULL)
);
-- "Recent failures" and failures grouped by class.
CREATE INDEX jobs_failed_recent ON jobs (finished_at DESC) WHERE status = 'failed';
CREATE INDEX jobs_failed_class ON jobs (error_class, finished_at DESC) WHERE status = 'failed';
CREATE INDEX jobs_status_created ON jobs (status, created_at DESC);

CREATE TABLE documents (
    id               uuid PRIMARY KEY,
    source_uri       text NOT NULL,
    source_sha256    bytea NOT NULL CHECK (length(source_sha256) = 32),
    detector_version text NOT NULL,
    media_type       text NOT NULL,
    pages            integer NOT NULL CHECK (pages >= 0),
    characters       bigint NOT NULL CHECK (characters >= 0),
    output_uri       text NOT NULL,
    output_sha256    bytea NOT NULL CHECK (length(output_sha256) = 32),
    job_id           uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Idempotency: one document per source content and detector version.
    UNIQUE (source_sha256, detector_version)
);

-- One hash chain per writer stream (a worker replica), so replicas never contend.
CREATE TABLE audit_streams (
    stream_id   text PRIMARY KEY,
    head_seq    bigint NOT NULL DEFAULT 0,
    head_hash   bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    stream_id        text NOT NULL REFERENCES audit_streams (stream_id),
    seq              bigint NOT NULL CHECK (seq > 0),
    id               uuid NOT NULL UNIQUE,
    at               timestamptz NOT NULL,
    actor            text NOT NULL,
    action           text NOT NULL CHECK (action IN ('deidentify', 'view', 'export', 'reidentify_request')),
    document_id      uuid,
    job_id           uuid,
    detector_version text NOT NULL,
    category_counts  jsonb NOT NULL,                     -- {"name": 3, "date": 2, ...}
    spans            jsonb NOT NULL,                     -- [[start, end, "category"], ...]: offsets only, never PHI text
    input_sha256     bytea,
    output_sha256    bytea,
    prev_hash        bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash             bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (stream_id, seq)
);
CREATE INDEX audit_log_at ON audit_log (at DESC, stream_id, seq);
CREATE INDEX audit_log_document ON audit_log (document_id) WHERE document_id IS NOT NULL;
CREATE INDEX audit_log_job ON audit_log (job_id) WHERE job_id IS NOT NULL;

-- Signed checkpoints of each stream's head (Ed25519 over the canonical checkpoint encoding).
CREATE TABLE audit_checkpoints (
    stream_id   text NOT NULL REFERENCES audit_streams (stream_id),
    seq         bigint NOT NULL,
    head_hash   bytea NOT NULL CHECK (length(head_hash) = 32),
    at          timestamptz NOT NULL,
    key_id      text NOT NULL,
    signature   bytea NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (stream_id, seq)
);

-- Public keys the writers announce. Informational: a verifier pins the public key it got from
-- the deployment (not from this table), so a rewrite of the database cannot swap keys.
CREATE TABLE audit_signing_keys (
    key_id      text PRIMARY KEY,
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    first_seen  timestamptz NOT NULL DEFAULT now()
);

-- Auditors see the audit tables and nothing else. Idempotent: roles are cluster-wide.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pj_auditor') THEN
        CREATE ROLE pj_auditor NOLOGIN;
    END IF;
END
$$;
REVOKE ALL ON jobs, documents FROM pj_auditor;
GRANT SELECT ON audit_streams, audit_log, audit_checkpoints, audit_signing_keys TO pj_auditor;
