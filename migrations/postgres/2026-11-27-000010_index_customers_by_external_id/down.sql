DROP INDEX customers_by_external_id;
