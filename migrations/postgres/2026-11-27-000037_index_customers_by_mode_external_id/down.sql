DROP INDEX IF EXISTS customers_by_mode_external_id;
