DROP INDEX customers_search_live;
