ALTER TABLE customers DROP COLUMN external_id;
