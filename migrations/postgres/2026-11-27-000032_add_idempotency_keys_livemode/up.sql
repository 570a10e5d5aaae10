-- Test mode (contract section 11): every idempotency_key row belongs to one mode; rows
-- made before test mode existed are live.
ALTER TABLE idempotency_keys ADD COLUMN livemode BOOLEAN NOT NULL DEFAULT TRUE;
