DROP INDEX customers_by_email;
