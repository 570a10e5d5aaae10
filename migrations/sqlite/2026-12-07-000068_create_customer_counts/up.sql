-- The same table as on PostgreSQL; see migrations/postgres for the reasons.
CREATE TABLE customer_counts (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    livemode        BOOLEAN NOT NULL,
    deleted         BOOLEAN NOT NULL,
    created_day     TEXT NOT NULL,
    country         TEXT NOT NULL,
    language        TEXT NOT NULL,
    total           BIGINT NOT NULL,
    PRIMARY KEY (organization_id, livemode, deleted, created_day, country, language)
);

INSERT INTO customer_counts (organization_id, livemode, deleted, created_day, country, language, total)
SELECT organization_id, livemode, deleted_at IS NOT NULL, substr(created_at, 1, 10),
       COALESCE(country, ''), COALESCE(language, ''), count(*)
FROM customers
GROUP BY 1, 2, 3, 4, 5, 6;
