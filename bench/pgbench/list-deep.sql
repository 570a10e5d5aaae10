SELECT id FROM customers WHERE organization_id = :org AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET :offset;
SELECT * FROM customers WHERE organization_id = :org AND deleted_at IS NULL
AND id IN (SELECT 'cus_' || lpad(to_hex(500000 - :offset::int - g), 32, '0') FROM generate_series(0, 20) AS g)
ORDER BY created_at DESC, id DESC;
