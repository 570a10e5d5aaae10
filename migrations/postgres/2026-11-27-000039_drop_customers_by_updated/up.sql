-- Replaced by the same index with the mode after the organization.
DROP INDEX IF EXISTS customers_by_updated;
