-- The same table as on PostgreSQL; see migrations/postgres for the reasons.
CREATE TABLE customer_count_changes (
    organization_id TEXT NOT NULL,
    id              TEXT NOT NULL,
    livemode        BOOLEAN NOT NULL,
    deleted         BOOLEAN NOT NULL,
    created_day     TEXT NOT NULL,
    country         TEXT NOT NULL,
    language        TEXT NOT NULL,
    delta           INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
