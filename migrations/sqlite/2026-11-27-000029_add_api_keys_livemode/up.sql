-- Test mode (contract section 11): every api_key row belongs to one mode; rows
-- made before test mode existed are live.
ALTER TABLE api_keys ADD COLUMN livemode BOOLEAN NOT NULL DEFAULT TRUE;
