ALTER TABLE events DROP COLUMN livemode;
