-- The updatedTime orders (see customers_by_created).
CREATE INDEX IF NOT EXISTS customers_by_updated ON customers (organization_id, updated_at, id)
    WHERE deleted_at IS NULL;
