-- Test mode (contract section 11): every webhook_endpoint row belongs to one mode; rows
-- made before test mode existed are live.
ALTER TABLE webhook_endpoints ADD COLUMN livemode BOOLEAN NOT NULL DEFAULT TRUE;
