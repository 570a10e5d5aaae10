-- Serves count(*) of an organization's live customers (includeTotal) with an
-- index-only scan of a narrow index: on PostgreSQL, deduplication stores
-- each organization id about once per page, so 1,000,000 customers take
-- about 7 MB here against 152 MB for the sort index.
CREATE INDEX customers_live ON customers (organization_id) WHERE deleted_at IS NULL;
