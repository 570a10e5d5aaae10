-- The same tables as on PostgreSQL; see migrations/postgres for the reasons.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE customers (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    id              TEXT NOT NULL,
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
    name_search     TEXT,
    email_search    TEXT,
    phone_search    TEXT,
    revision        INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    PRIMARY KEY (organization_id, id)
);
