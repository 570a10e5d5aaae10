ALTER TABLE customers DROP COLUMN livemode;
