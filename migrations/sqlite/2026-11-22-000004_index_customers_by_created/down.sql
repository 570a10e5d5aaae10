DROP INDEX customers_by_created;
