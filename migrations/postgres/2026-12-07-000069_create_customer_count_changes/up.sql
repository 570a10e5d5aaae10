-- Changes to customer_counts not yet folded into it (src/store/counts.rs):
-- a write that moves a customer from one count to another appends -1 and
-- +1 here in its own transaction, so that no write waits for another's
-- count; the fold deletes what it adds. The id is a UUIDv7. No reference
-- to organizations: the row is gone within seconds, and the check would
-- cost every write a lookup.
CREATE TABLE customer_count_changes (
    organization_id TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    livemode        BOOLEAN NOT NULL,
    deleted         BOOLEAN NOT NULL,
    created_day     TEXT COLLATE "C" NOT NULL,
    country         TEXT COLLATE "C" NOT NULL,
    language        TEXT COLLATE "C" NOT NULL,
    delta           INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
