DROP INDEX customers_live;
