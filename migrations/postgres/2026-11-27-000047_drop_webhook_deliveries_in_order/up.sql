-- Replaced by webhook_deliveries_unfinished (next migration), whose
-- predicate the in-order check names without also matching
-- webhook_deliveries_pending.
DROP INDEX webhook_deliveries_in_order;
