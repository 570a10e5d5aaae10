BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT * FROM customers WHERE organization_id = :org AND deleted_at IS NULL
AND (name_search LIKE :pattern ESCAPE '\' OR email_search LIKE :pattern ESCAPE '\')
ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0;
COMMIT;
