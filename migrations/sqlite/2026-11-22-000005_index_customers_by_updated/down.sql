DROP INDEX customers_by_updated;
