-- Trigram indexes make substring search (`q`) an index lookup.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Ids are the prefixed strings clients see (`org_…`, `cus_…`); the C collation
-- makes them compare bytewise, which for UUIDv7 is creation order.
CREATE TABLE organizations (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- Keyed by organization first, so that the table can be distributed by
-- organization_id (Citus) with every query routed to one shard. Its indexes
-- come in migrations of their own, one index statement each: Citus replays the
-- DDL of a distributed table on its workers statement by statement.
CREATE TABLE customers (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    id              TEXT COLLATE "C" NOT NULL,
    first_name      TEXT,
    last_name       TEXT,
    email           TEXT,
    phone_number    TEXT,
    language        TEXT,
    address1        TEXT,
    address2        TEXT,
    city            TEXT,
    region          TEXT,
    zip             TEXT,
    country         TEXT,
    metadata        TEXT,
    -- Lowercased (in Rust, for every script alike) copies used by search
    -- and by the exact-email filter.
    name_search     TEXT,
    email_search    TEXT,
    phone_search    TEXT,
    revision        INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    PRIMARY KEY (organization_id, id)
);
