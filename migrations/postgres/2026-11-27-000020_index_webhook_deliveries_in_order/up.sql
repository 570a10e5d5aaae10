-- One customer's deliveries to one endpoint, in the events' order: a
-- delivery waits while an earlier one is pending.
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (organization_id, endpoint_id, customer_id, sequence)
    WHERE state = 'pending';
