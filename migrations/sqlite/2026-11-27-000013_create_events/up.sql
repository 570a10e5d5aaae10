-- The change feed (contract section 9). An event is inserted in the
-- transaction of the change it describes, with no sequence; the sequencer
-- (a background task, one at a time) then numbers committed events in the
-- order it finds them, so a sequence is never handed out to a change that
-- commits after a later one was shown.
CREATE TABLE events (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    id              TEXT NOT NULL,
    sequence        BIGINT,
    type            TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    -- JSON: {"object": …, "previousAttributes": …}
    data            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, id)
);
