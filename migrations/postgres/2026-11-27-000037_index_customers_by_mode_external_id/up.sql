-- One live customer per reference in an organization and mode.
CREATE UNIQUE INDEX IF NOT EXISTS customers_by_mode_external_id ON customers (organization_id, livemode, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
