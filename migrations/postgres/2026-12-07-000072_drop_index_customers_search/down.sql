CREATE INDEX IF NOT EXISTS customers_search ON customers
    USING gin (name_search gin_trgm_ops, email_search gin_trgm_ops, phone_search gin_trgm_ops)
    WHERE deleted_at IS NULL;
