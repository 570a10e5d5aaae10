DROP INDEX customers_search;
