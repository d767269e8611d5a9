-- Kubernetes events Vigil captured in the platform's namespace while it watched (EKS keeps
-- them about an hour): one row per event, its count and time updated as it recurs.
CREATE TABLE kube_events (
    environment TEXT NOT NULL,
    uid         TEXT NOT NULL,
    -- RFC 3339: when it last happened
    time        TEXT NOT NULL,
    -- Normal or Warning
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    object      TEXT NOT NULL,
    message     TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (environment, uid)
);
CREATE INDEX kube_events_time ON kube_events (environment, time);
