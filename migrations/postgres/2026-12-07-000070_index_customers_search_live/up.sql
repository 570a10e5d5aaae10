-- Substring search (`q`) of live-mode customers: 000007's trigram index
-- split by mode, so that a test-mode search reads no live entry (a term
-- common in live data cost a test-mode search every live match).
CREATE INDEX IF NOT EXISTS customers_search_live ON customers
    USING gin (name_search gin_trgm_ops, email_search gin_trgm_ops, phone_search gin_trgm_ops)
    WHERE deleted_at IS NULL AND livemode;
