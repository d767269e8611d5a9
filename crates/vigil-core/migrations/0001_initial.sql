-- Vigil's local store: environments, settings and the hash-chained operator log.

CREATE TABLE environments (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- 'default_chain' | 'profile' | 'emulator'; credentials themselves are never stored
    credentials   TEXT NOT NULL CHECK (credentials IN ('default_chain', 'profile', 'emulator')),
    profile       TEXT,
    region        TEXT NOT NULL,
    endpoint_url  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK ((credentials = 'profile') = (profile IS NOT NULL))
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per mutating action. hash = SHA-256(canonical encoding of the record incl. prev_hash).
CREATE TABLE oplog (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    details    TEXT NOT NULL,
    op_id      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);

-- The chain's head, updated in the same transaction as each append, so a cut tail is noticed.
CREATE TABLE oplog_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO oplog_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
