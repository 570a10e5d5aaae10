-- One index per list order, over live rows only: a backward scan serves the
-- descending order, and id is the tie-break. (IF NOT EXISTS, because databases made
-- before 2026-11-27 have it from migration 000001.)
CREATE INDEX IF NOT EXISTS customers_by_created ON customers (organization_id, created_at, id)
    WHERE deleted_at IS NULL;
