-- PostgreSQL's fillfactor for webhook_deliveries has no SQLite counterpart;
-- this migration keeps the two lists of migrations alike.
SELECT 1;
