-- Test mode (contract section 11): every event row belongs to one mode; rows
-- made before test mode existed are live.
ALTER TABLE events ADD COLUMN livemode BOOLEAN NOT NULL DEFAULT TRUE;
