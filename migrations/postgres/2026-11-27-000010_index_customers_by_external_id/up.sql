-- One live customer per reference in an organization (a deleted customer's
-- reference is free again), and it serves the externalId filter.
CREATE UNIQUE INDEX customers_by_external_id ON customers (organization_id, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
