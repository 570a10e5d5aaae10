\set i random(1, 500000)
SELECT * FROM customers WHERE organization_id = :org AND deleted_at IS NULL AND id = 'cus_' || lpad(to_hex(:i::int), 32, '0') LIMIT 1;
