INSERT INTO customers (organization_id, id, first_name, last_name, email, phone_number, language, city, country,
                       name_search, email_search, phone_search, revision, created_at, updated_at)
VALUES (:org, 'cus_' || replace(gen_random_uuid()::text, '-', ''), 'Bench', 'Created', 'bench@example.com', '+15550100',
        'en', 'Springfield', 'US', 'bench created', 'bench@example.com', '15550100', 1, now(), now())
RETURNING *;
