-- Restores of recovery points (Backups): where each stands, so a restore interrupted by a
-- closed Vigil is continued, and how each ended, kept as evidence for the RTO.
CREATE TABLE restores (
    id          TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    -- the new resource's name
    target      TEXT NOT NULL,
    -- restoring, instances, checking, restored, failed
    state       TEXT NOT NULL,
    -- the record (JSON: vigil_dto::backup::RestoreRecord)
    record      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX restores_environment ON restores (environment, created_at);
