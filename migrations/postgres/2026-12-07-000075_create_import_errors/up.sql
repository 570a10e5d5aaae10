-- The refused rows of an import, by row number, each with the complaints a
-- 422 would have named (JSON): the status shows the first 1,000, the error
-- report streams them all. Written in the batch's transaction.
CREATE TABLE import_errors (
    organization_id TEXT COLLATE "C" NOT NULL,
    import_id       TEXT COLLATE "C" NOT NULL,
    row_number      BIGINT NOT NULL,
    invalid_fields  TEXT NOT NULL,
    PRIMARY KEY (organization_id, import_id, row_number)
);
