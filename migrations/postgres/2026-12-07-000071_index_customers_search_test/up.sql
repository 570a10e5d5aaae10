-- Substring search (`q`) of test-mode customers (see 000070).
CREATE INDEX IF NOT EXISTS customers_search_test ON customers
    USING gin (name_search gin_trgm_ops, email_search gin_trgm_ops, phone_search gin_trgm_ops)
    WHERE deleted_at IS NULL AND NOT livemode;
