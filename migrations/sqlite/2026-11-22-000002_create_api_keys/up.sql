-- API keys: only an argon2id hash of the secret is kept. A presented key
-- names its id, so the lookup is by id alone; under Citus this small table
-- is a reference table.
CREATE TABLE api_keys (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    id              TEXT NOT NULL,
    name            TEXT,
    -- Space-separated scope names.
    scopes          TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    -- Written at most once a minute per key and instance, never per request.
    last_used_at    TIMESTAMP,
    revoked_at      TIMESTAMP,
    PRIMARY KEY (organization_id, id)
);
