-- 100,000 customers straight into SQLite: organization 1 has 50,000,
-- organizations 2..100 about 505 each. Run after the migrations.
WITH RECURSIVE o(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM o WHERE n < 100)
INSERT INTO organizations (id, name, created_at)
SELECT printf('org_%032x', n), 'Bench ' || n, '2025-01-01 00:00:00' FROM o;

WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000),
rows AS (
    SELECT printf('org_%032x', CASE WHEN i <= 50000 THEN 1 ELSE 2 + i % 99 END) AS org,
           printf('cus_%032x', i) AS id,
           json_extract('["James","Mary","Robert","Patricia","John","Jennifer","Michael","Linda","David","Elizabeth",
                          "William","Barbara","Richard","Susan","Joseph","Jessica","Thomas","Sarah","Charles","Karen"]',
                        '$[' || (i % 20) || ']') AS first,
           -- Surnames are letters only, like real ones, and each row's own:
           -- eight letters from a bijective hash of i (an odd multiplier
           -- modulo 2^32), hex digits mapped onto g..v. (A randomblob()
           -- subquery that does not name i is evaluated once, for every row.)
           CASE WHEN i % 10 = 0 THEN 'Smith'
                ELSE upper(substr(h, 1, 1)) || substr(h, 2) END AS last,
           'user' || i || '@example' || (i % 7) || '.com' AS email,
           printf('+1555%07d', i) AS phone, i,
           strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || (i * 10) || ' seconds') AS at
    FROM (SELECT i, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
                    replace(replace(replace(replace(replace(replace(
                        printf('%08x', (i * 2654435761) % 4294967296),
                    'a', 'q'), 'b', 'r'), 'c', 's'), 'd', 't'), 'e', 'u'), 'f', 'v'),
                    '0', 'g'), '1', 'h'), '2', 'i'), '3', 'j'), '4', 'k'), '5', 'l'), '6', 'm'), '7', 'n'),
                    '8', 'o'), '9', 'p') AS h
          FROM c)
)
INSERT INTO customers (organization_id, id, first_name, last_name, email, phone_number, language,
                       city, country, name_search, email_search, phone_search, revision, created_at, updated_at,
                       external_id, custom_fields)
-- Twenty countries, each with its language (two letters each), for the stats.
SELECT org, id, first, last, email, phone, substr('endefrenesitnlsvplptesfrenjahigaafdeptes', 1 + 2 * (i % 20), 2),
       'Springfield', substr('USDEFRGBESITNLSEPLBRMXCAAUJPINIEZAATPTAR', 1 + 2 * (i % 20), 2),
       lower(first || ' ' || last), email, substr(phone, 2), 1, at, at, 'ext-' || i,
       CASE WHEN i <= 50000 THEN '{"tier":"v' || (i / 10) || '"}' END
FROM rows;

-- Organization 1's custom field "tier" (contract section 10): each value is
-- held by ten customers, as the filter's benchmark row asks.
INSERT INTO custom_fields (organization_id, name, type, max_length, created_at, updated_at)
VALUES (printf('org_%032x', 1), 'tier', 'string', 500, '2025-01-01 00:00:00', '2025-01-01 00:00:00');
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50000)
INSERT INTO custom_field_values (organization_id, field, value, customer_id)
SELECT printf('org_%032x', 1), 'tier', 'v' || (i / 10), printf('cus_%032x', i) FROM c;

-- 10,000 test-mode customers of organization 1 (contract section 11),
-- cus_2000001 onwards, for the rows read with a test key.
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000)
INSERT INTO customers (organization_id, id, first_name, last_name, email, phone_number, language,
                       city, country, name_search, email_search, phone_search, revision, created_at, updated_at,
                       livemode)
SELECT printf('org_%032x', 1), printf('cus_%032x', 2000000 + i), 'Test', 'Mode',
       'test' || i || '@example.com', printf('+1666%07d', i), 'en', 'Springfield', 'US',
       'test mode', 'test' || i || '@example.com', printf('1666%07d', i), 1,
       strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || (i * 10) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || (i * 10) || ' seconds'), 0
FROM c;

-- 1,000,000 events of organization 1, numbered (as the sequencer leaves
-- them), each about the size of a real one.
WITH RECURSIVE e(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM e WHERE i < 1000000)
INSERT INTO events (organization_id, id, sequence, type, customer_id, revision, data, created_at)
SELECT printf('org_%032x', 1), printf('evt_%032x', i), i, 'customer.created',
       printf('cus_%032x', 1 + i % 50000), 1,
       '{"object": {"id": "' || printf('cus_%032x', 1 + i % 50000) || '", "firstName": "James", "lastName": "Smith", '
       || '"email": "user' || i || '@example.com", "phoneNumber": "+15550000000", "language": "en", '
       || '"address": {"city": "Springfield", "country": "US"}, "metadata": null, "revision": 1}}',
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day', '+' || (i / 1000.0) || ' seconds')
FROM e;
-- What a day of service leaves in the tables that start empty, as in the
-- PostgreSQL seed: 100,000 kept Idempotency-Key answers, and a disabled
-- endpoint of organization 2 with 100,000 delivered events and attempts.
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
INSERT INTO idempotency_keys (organization_id, livemode, key, fingerprint, status, location, etag, body, created_at)
SELECT printf('org_%032x', 1 + i % 100), 1, 'seed-' || i, printf('%032x', i), 201,
       printf('/v1/public-api/organizations/org_%032x/customers/cus_%032x', 1 + i % 100, i),
       '"1"', printf('%.400c', 'x'), strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')
FROM c;
INSERT INTO webhook_endpoints (organization_id, id, url, events, description, enabled, secret, created_at, updated_at, livemode)
VALUES (printf('org_%032x', 2), printf('whe_%032x', 1), 'https://example.com/hooks', '*', NULL, 0,
        'whsec_' || printf('%.64c', '0'), strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day'),
        strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day'), 1);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
INSERT INTO webhook_deliveries (organization_id, endpoint_id, event_id, customer_id, sequence, state, attempts,
                                next_attempt_at, locked_until, created_at)
SELECT printf('org_%032x', 2), printf('whe_%032x', 1), printf('evt_%032x', 5000000 + i),
       printf('cus_%032x', 50001 + i % 500), i, 'delivered', 1,
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour'), NULL, strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')
FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
INSERT INTO webhook_attempts (organization_id, endpoint_id, id, event_id, attempt, status, error, duration_ms, outcome, created_at)
SELECT printf('org_%032x', 2), printf('whe_%032x', 1), printf('wha_%032x', i), printf('evt_%032x', 5000000 + i),
       1, 200, NULL, 5, 'delivered', strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')
FROM c;
-- A long audit log (contract section 13): 1,000,000 events of organization
-- 1, the newest last, for the list's first page: ids made as the server
-- makes them (a UUIDv7 of the event's millisecond), or the retention's
-- prune would take them for ancient ones.
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000)
INSERT INTO audit_events (organization_id, id, action, actor_type, actor_id, target_type, target_id,
                          request_id, ip, user_agent, livemode, created_at)
SELECT printf('org_%032x', 1),
       printf('aud_%012x70008%015x', (CAST(strftime('%s', 'now') AS INTEGER) - 2 * 86400) * 1000 + i * 100, i),
       CASE i % 3 WHEN 0 THEN 'customer.created' WHEN 1 THEN 'customer.updated' ELSE 'customer.deleted' END,
       'apiKey', printf('key_%032x', 1 + i % 5), 'customer', printf('cus_%032x', 1 + i % 50000),
       printf('%032x', i), '203.0.113.7', 'bench/1.0', 1, strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day')
FROM c;
-- The stats' counts (store/counts.rs) of the customers written above, as
-- the migration that made the table counts those already stored.
INSERT INTO customer_counts (organization_id, livemode, deleted, created_day, country, language, total)
SELECT organization_id, livemode, deleted_at IS NOT NULL, substr(created_at, 1, 10),
       COALESCE(country, ''), COALESCE(language, ''), count(*)
FROM customers
GROUP BY 1, 2, 3, 4, 5, 6;
ANALYZE;
