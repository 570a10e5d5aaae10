-- 1,000,000 customers straight into PostgreSQL: organization 1 has 500,000,
-- organizations 2..100 about 5,050 each. Ids are the service's own format,
-- so the API reads them like any other. Run after the migrations.
-- The trigram indexes are built once after the load, not row by row.
DROP INDEX IF EXISTS customers_search_live;
DROP INDEX IF EXISTS customers_search_test;

INSERT INTO organizations (id, name, created_at)
SELECT 'org_' || lpad(to_hex(o), 32, '0'), 'Bench ' || o, timestamp '2025-01-01'
FROM generate_series(1, 100) AS o;

INSERT INTO customers (organization_id, id, first_name, last_name, email, phone_number, language,
                       city, country, name_search, email_search, phone_search, revision, created_at, updated_at,
                       external_id, custom_fields)
SELECT org, id, first, last, email, phone, language, 'Springfield', country,
       lower(first || ' ' || last), email, substr(phone, 2), 1, at, at, 'ext-' || i,
       CASE WHEN i <= 500000 THEN '{"tier":"v' || i / 10 || '"}' END
FROM (
    SELECT 'org_' || lpad(to_hex(CASE WHEN i <= 500000 THEN 1 ELSE 2 + i % 99 END), 32, '0') AS org,
           'cus_' || lpad(to_hex(i), 32, '0') AS id,
           (ARRAY['James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Elizabeth',
                  'William','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen'])[1 + i % 20] AS first,
           -- Surnames are letters only, like real ones (hex digits would share
           -- trigrams with every email and phone number).
           CASE WHEN i % 10 = 0 THEN 'Smith'
                ELSE initcap(translate(substr(md5(i::text), 1, 10), '0123456789', 'ghijklmnop')) END AS last,
           'user' || i || '@example' || (i % 7) || '.com' AS email,
           -- Twenty countries, each with its language, for the stats.
           (ARRAY['US','DE','FR','GB','ES','IT','NL','SE','PL','BR',
                  'MX','CA','AU','JP','IN','IE','ZA','AT','PT','AR'])[1 + i % 20] AS country,
           (ARRAY['en','de','fr','en','es','it','nl','sv','pl','pt',
                  'es','fr','en','ja','hi','ga','af','de','pt','es'])[1 + i % 20] AS language,
           '+1555' || lpad(i::text, 7, '0') AS phone,
           timestamp '2025-01-01' + i * interval '10 seconds' AS at, i
    FROM generate_series(1, 1000000) AS i
) AS rows;

-- Organization 1's custom field "tier" (contract section 10): each value is
-- held by ten customers, as the filter's benchmark row asks.
INSERT INTO custom_fields (organization_id, name, type, max_length, created_at, updated_at)
VALUES ('org_' || lpad(to_hex(1), 32, '0'), 'tier', 'string', 500, timestamp '2025-01-01', timestamp '2025-01-01');
INSERT INTO custom_field_values (organization_id, field, value, customer_id)
SELECT 'org_' || lpad(to_hex(1), 32, '0'), 'tier', 'v' || i / 10, 'cus_' || lpad(to_hex(i), 32, '0')
FROM generate_series(1, 500000) AS i;

-- 100,000 test-mode customers of organization 1 (contract section 11),
-- cus_2000001 onwards, for the rows read with a test key.
INSERT INTO customers (organization_id, id, first_name, last_name, email, phone_number, language,
                       city, country, name_search, email_search, phone_search, revision, created_at, updated_at,
                       livemode)
SELECT 'org_' || lpad(to_hex(1), 32, '0'), 'cus_' || lpad(to_hex(2000000 + i), 32, '0'), 'Test', 'Mode',
       'test' || i || '@example.com', '+1666' || lpad(i::text, 7, '0'), 'en', 'Springfield', 'US',
       'test mode', 'test' || i || '@example.com', '1666' || lpad(i::text, 7, '0'), 1,
       timestamp '2025-01-01' + i * interval '10 seconds', timestamp '2025-01-01' + i * interval '10 seconds', false
FROM generate_series(1, 100000) AS i;

-- 1,000,000 events of organization 1, numbered (as the sequencer leaves
-- them), each about the size of a real one.
INSERT INTO events (organization_id, id, sequence, type, customer_id, revision, data, created_at)
SELECT 'org_' || lpad(to_hex(1), 32, '0'), 'evt_' || lpad(to_hex(i), 32, '0'), i, 'customer.created',
       'cus_' || lpad(to_hex(1 + i % 500000), 32, '0'), 1,
       '{"object": {"id": "cus_' || lpad(to_hex(1 + i % 500000), 32, '0') || '", "firstName": "James", "lastName": "Smith", '
       || '"email": "user' || i || '@example.com", "phoneNumber": "+15550000000", "language": "en", '
       || '"address": {"city": "Springfield", "country": "US"}, "metadata": null, "revision": 1}}',
       now()::timestamp - interval '1 day' + i * interval '1 millisecond'
FROM generate_series(1, 1000000) AS i;

-- What a day of service leaves in the tables that start empty, so that the
-- statistics this seed ends with describe a running system, not empty
-- tables (autovacuum is off on the machines these numbers come from, and a
-- plan made for an empty table is kept until the next ANALYZE): 100,000
-- kept Idempotency-Key answers, and a disabled endpoint of organization 2
-- with 100,000 delivered events and their attempts.
INSERT INTO idempotency_keys (organization_id, livemode, key, fingerprint, status, location, etag, body, created_at)
SELECT 'org_' || lpad(to_hex(1 + i % 100), 32, '0'), true, 'seed-' || i, md5(i::text), 201,
       '/v1/public-api/organizations/org_' || lpad(to_hex(1 + i % 100), 32, '0') || '/customers/cus_' || lpad(to_hex(i), 32, '0'),
       '"1"', repeat('x', 400), now()::timestamp - interval '1 hour'
FROM generate_series(1, 100000) AS i;
INSERT INTO webhook_endpoints (organization_id, id, url, events, description, enabled, secret, created_at, updated_at, livemode)
VALUES ('org_' || lpad(to_hex(2), 32, '0'), 'whe_' || lpad('1', 32, '0'), 'https://example.com/hooks', '*', NULL, false,
        'whsec_' || repeat('0', 64), now()::timestamp - interval '1 day', now()::timestamp - interval '1 day', true);
INSERT INTO webhook_deliveries (organization_id, endpoint_id, event_id, customer_id, sequence, state, attempts,
                                next_attempt_at, locked_until, created_at)
SELECT 'org_' || lpad(to_hex(2), 32, '0'), 'whe_' || lpad('1', 32, '0'), 'evt_' || lpad(to_hex(5000000 + i), 32, '0'),
       'cus_' || lpad(to_hex(500001 + i % 5000), 32, '0'), i, 'delivered', 1,
       now()::timestamp - interval '1 hour', NULL, now()::timestamp - interval '1 hour'
FROM generate_series(1, 100000) AS i;
INSERT INTO webhook_attempts (organization_id, endpoint_id, id, event_id, attempt, status, error, duration_ms, outcome, created_at)
SELECT 'org_' || lpad(to_hex(2), 32, '0'), 'whe_' || lpad('1', 32, '0'), 'wha_' || lpad(to_hex(i), 32, '0'),
       'evt_' || lpad(to_hex(5000000 + i), 32, '0'), 1, 200, NULL, 5, 'delivered', now()::timestamp - interval '1 hour'
FROM generate_series(1, 100000) AS i;
-- A long audit log (contract section 13): 1,000,000 events of organization
-- 1, the newest last, for the list's first page: ids made as the server
-- makes them (a UUIDv7 of the event's millisecond), or the retention's
-- prune would take them for ancient ones.
INSERT INTO audit_events (organization_id, id, action, actor_type, actor_id, target_type, target_id,
                          request_id, ip, user_agent, livemode, created_at)
SELECT 'org_' || lpad(to_hex(1), 32, '0'),
       'aud_' || lpad(to_hex((extract(epoch FROM now() - interval '2 days') * 1000)::bigint + i * 100), 12, '0')
           || '70008' || lpad(to_hex(i), 15, '0'),
       (ARRAY['customer.created', 'customer.updated', 'customer.deleted'])[1 + i % 3], 'apiKey',
       'key_' || lpad(to_hex(1 + i % 5), 32, '0'), 'customer', 'cus_' || lpad(to_hex(1 + i % 500000), 32, '0'),
       md5(i::text), '203.0.113.7', 'bench/1.0', true,
       now()::timestamp - interval '2 days' + i * interval '100 milliseconds'
FROM generate_series(1, 1000000) AS i;

-- The stats' counts (store/counts.rs) of the customers written above, as
-- the migration that made the table counts those already stored.
INSERT INTO customer_counts (organization_id, livemode, deleted, created_day, country, language, total)
SELECT organization_id, livemode, deleted_at IS NOT NULL, to_char(created_at, 'YYYY-MM-DD'),
       COALESCE(country, ''), COALESCE(language, ''), count(*)
FROM customers
GROUP BY 1, 2, 3, 4, 5, 6;

CREATE INDEX customers_search_live ON customers
    USING gin (name_search gin_trgm_ops, email_search gin_trgm_ops, phone_search gin_trgm_ops)
    WHERE deleted_at IS NULL AND livemode;
CREATE INDEX customers_search_test ON customers
    USING gin (name_search gin_trgm_ops, email_search gin_trgm_ops, phone_search gin_trgm_ops)
    WHERE deleted_at IS NULL AND NOT livemode;
VACUUM ANALYZE;
