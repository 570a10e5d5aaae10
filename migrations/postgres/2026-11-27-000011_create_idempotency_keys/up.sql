-- Answers kept for safe retries (contract section 8): the answer of a
-- request with an Idempotency-Key commits in the same transaction as its
-- write, so a write and its kept answer exist together or not at all.
CREATE TABLE idempotency_keys (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    key             TEXT COLLATE "C" NOT NULL,
    -- SHA-256 of the method, the path and the body parsed as JSON.
    fingerprint     TEXT NOT NULL,
    status          INTEGER NOT NULL,
    location        TEXT,
    etag            TEXT,
    body            TEXT,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, key)
);
