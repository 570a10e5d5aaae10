CREATE INDEX IF NOT EXISTS customers_by_mode_updated ON customers (organization_id, livemode, updated_at, id)
    WHERE deleted_at IS NULL;
