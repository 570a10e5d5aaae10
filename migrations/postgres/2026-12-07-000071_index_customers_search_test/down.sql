DROP INDEX customers_search_test;
