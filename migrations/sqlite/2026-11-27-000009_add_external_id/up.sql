-- The merchant's own reference (contract section 8).
ALTER TABLE customers ADD COLUMN external_id TEXT;
