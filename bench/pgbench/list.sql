SELECT * FROM customers WHERE organization_id = :org AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET :offset;
