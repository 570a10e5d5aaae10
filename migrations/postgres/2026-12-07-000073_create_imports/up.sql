-- Imports of customers from a file (contract section 15, src/store/imports.rs).
-- An import is 'uploading' while its file arrives (nobody sees it), then
-- 'running' until a background task on any instance, holding the lease
-- (leased_until), has read it to its end. Each batch moves resume_at (the
-- offset after the last committed row) and resume_row in the transaction
-- that writes its rows, so that a resumed import writes no row twice.
-- header: a CSV file's header, as a JSON list. audit: who started it and
-- from where, as JSON, which each row's audit event names.
CREATE TABLE imports (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    id              TEXT COLLATE "C" NOT NULL,
    livemode        BOOLEAN NOT NULL,
    format          TEXT NOT NULL,
    mode            TEXT NOT NULL,
    dry_run         BOOLEAN NOT NULL,
    status          TEXT NOT NULL,
    failure         TEXT,
    header          TEXT,
    audit           TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    rows_total      BIGINT NOT NULL,
    rows_done       BIGINT NOT NULL,
    created         BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    refused         BIGINT NOT NULL,
    resume_at       BIGINT NOT NULL,
    resume_row      BIGINT NOT NULL,
    leased_until    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    PRIMARY KEY (organization_id, id)
);
