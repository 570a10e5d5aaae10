-- Every attempt to deliver, for the endpoint's deliveries listing.
CREATE TABLE webhook_attempts (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    endpoint_id     TEXT NOT NULL,
    id              TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    status          INTEGER,
    error           TEXT,
    duration_ms     INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, endpoint_id, id)
);
