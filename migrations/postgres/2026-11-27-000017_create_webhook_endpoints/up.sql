-- Where an organization's events are POSTed (contract section 9). The
-- secret signs every delivery, so it is kept as given; it is shown once.
CREATE TABLE webhook_endpoints (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    id              TEXT COLLATE "C" NOT NULL,
    url             TEXT NOT NULL,
    -- Space-separated event types, or *.
    events          TEXT NOT NULL,
    description     TEXT,
    enabled         BOOLEAN NOT NULL,
    secret          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, id)
);
