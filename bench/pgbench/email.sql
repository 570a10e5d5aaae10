SELECT * FROM customers WHERE organization_id = :org AND deleted_at IS NULL AND email_search = :email
ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0;
