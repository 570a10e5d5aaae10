-- The same table as on PostgreSQL; see migrations/postgres for the reasons.
CREATE TABLE import_chunks (
    organization_id TEXT NOT NULL,
    import_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    data            BLOB NOT NULL,
    PRIMARY KEY (organization_id, import_id, seq)
);
