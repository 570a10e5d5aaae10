-- 000007's index of both modes, replaced by 000070 and 000071.
DROP INDEX IF EXISTS customers_search;
