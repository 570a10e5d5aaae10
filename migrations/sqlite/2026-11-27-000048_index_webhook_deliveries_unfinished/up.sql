-- One customer's unfinished deliveries to one endpoint, in the events'
-- order: a delivery waits while an earlier one is unfinished. Its predicate
-- is written unlike webhook_deliveries_pending's on purpose: a query that
-- says the same cannot use that index, which PostgreSQL, with statistics
-- that lag behind a backlog, otherwise picks and reads whole for each check.
CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (organization_id, endpoint_id, customer_id, sequence)
    WHERE state <> 'delivered' AND state <> 'failed';
