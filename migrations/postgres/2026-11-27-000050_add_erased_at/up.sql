-- When a customer's personal data was erased (contract section 12).
ALTER TABLE customers ADD COLUMN erased_at TIMESTAMP;
