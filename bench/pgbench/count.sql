SELECT count(*) FROM customers WHERE organization_id = :org AND deleted_at IS NULL;
