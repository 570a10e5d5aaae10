-- Test mode (contract section 11): every customer row belongs to one mode; rows
-- made before test mode existed are live.
ALTER TABLE customers ADD COLUMN livemode BOOLEAN NOT NULL DEFAULT TRUE;
