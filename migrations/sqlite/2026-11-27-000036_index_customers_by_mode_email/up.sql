CREATE INDEX IF NOT EXISTS customers_by_mode_email ON customers (organization_id, livemode, email_search)
    WHERE deleted_at IS NULL;
