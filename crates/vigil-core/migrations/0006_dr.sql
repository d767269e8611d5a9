-- DR runbook runs: the journal a run is resumed from (written before and after each step) and,
-- once it ends, the evidence a drill report is made of.
CREATE TABLE dr_runs (
    id          TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    runbook     TEXT NOT NULL,
    -- running, awaiting_approval, paused, succeeded, failed
    state       TEXT NOT NULL,
    drill       INTEGER NOT NULL,
    -- the run (JSON: vigil_dto::dr::RunView)
    record      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX dr_runs_environment ON dr_runs (environment, runbook, created_at);
