-- An import's file, in chunks of 1 MiB (the last one shorter) numbered from
-- 0, written as the upload arrives and deleted when the import ends: any
-- instance can read it, and no file is ever held whole in memory.
CREATE TABLE import_chunks (
    organization_id TEXT COLLATE "C" NOT NULL,
    import_id       TEXT COLLATE "C" NOT NULL,
    seq             INTEGER NOT NULL,
    data            BYTEA NOT NULL,
    PRIMARY KEY (organization_id, import_id, seq)
);
