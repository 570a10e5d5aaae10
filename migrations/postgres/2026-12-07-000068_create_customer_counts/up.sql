-- The counts that answer the stats (contract section 12) without reading
-- the customers: how many customers a tenant has per deletion state, UTC
-- creation day, country and language ('' for none: a primary key holds no
-- NULL). The fold of customer_count_changes keeps them (src/store/counts.rs);
-- they start from the customers already stored.
CREATE TABLE customer_counts (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    livemode        BOOLEAN NOT NULL,
    deleted         BOOLEAN NOT NULL,
    created_day     TEXT COLLATE "C" NOT NULL,
    country         TEXT COLLATE "C" NOT NULL,
    language        TEXT COLLATE "C" NOT NULL,
    total           BIGINT NOT NULL,
    PRIMARY KEY (organization_id, livemode, deleted, created_day, country, language)
);

INSERT INTO customer_counts (organization_id, livemode, deleted, created_day, country, language, total)
SELECT organization_id, livemode, deleted_at IS NOT NULL, to_char(created_at, 'YYYY-MM-DD'),
       COALESCE(country, ''), COALESCE(language, ''), count(*)
FROM customers
GROUP BY 1, 2, 3, 4, 5, 6;
