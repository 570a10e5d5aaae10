-- An Idempotency-Key is scoped to the organization and the mode: the same
-- key may be used in test mode and in live mode. SQLite cannot change a
-- primary key in place: the table is rebuilt.
CREATE TABLE idempotency_keys_by_mode (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    key             TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    status          INTEGER NOT NULL,
    location        TEXT,
    etag            TEXT,
    body            TEXT,
    created_at      TIMESTAMP NOT NULL,
    livemode        BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (organization_id, livemode, key)
);
INSERT INTO idempotency_keys_by_mode SELECT organization_id, key, fingerprint, status, location, etag, body, created_at, livemode FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_mode RENAME TO idempotency_keys;
CREATE INDEX IF NOT EXISTS idempotency_keys_by_created ON idempotency_keys (created_at);
