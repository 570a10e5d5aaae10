-- Each mode's live customers in creation order (test customers of a large
-- live organization are listed as fast as live ones).
CREATE INDEX IF NOT EXISTS customers_by_mode_created ON customers (organization_id, livemode, created_at, id)
    WHERE deleted_at IS NULL;
