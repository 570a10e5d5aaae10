-- The audit log (contract section 13): who changed or read what, when and
-- from where. Never updated or deleted but by the retention; holds ids and
-- field names, never a personal value. The id is a UUIDv7 made from the
-- event's time, so the primary key orders an organization's log by time and
-- a time range is a range of ids.
CREATE TABLE audit_events (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    id              TEXT NOT NULL,
    action          TEXT NOT NULL,
    -- apiKey, token, member, operator or cli; the key's or the person's id.
    actor_type      TEXT NOT NULL,
    actor_id        TEXT,
    actor_email     TEXT,
    target_type     TEXT NOT NULL,
    target_id       TEXT,
    -- Names of the fields a change touched (JSON list), never their values.
    fields          TEXT,
    request_id      TEXT,
    ip              TEXT,
    user_agent      TEXT,
    livemode        BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, id)
);
