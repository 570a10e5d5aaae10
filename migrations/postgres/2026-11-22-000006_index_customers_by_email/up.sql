-- The exact-email filter, on the case-folded email.
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (organization_id, email_search)
    WHERE deleted_at IS NULL;
