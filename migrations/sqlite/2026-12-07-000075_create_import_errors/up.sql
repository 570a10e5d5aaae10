-- The same table as on PostgreSQL; see migrations/postgres for the reasons.
CREATE TABLE import_errors (
    organization_id TEXT NOT NULL,
    import_id       TEXT NOT NULL,
    row_number      BIGINT NOT NULL,
    invalid_fields  TEXT NOT NULL,
    PRIMARY KEY (organization_id, import_id, row_number)
);
