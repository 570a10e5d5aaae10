CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (organization_id, endpoint_id, customer_id, sequence)
    WHERE state = 'pending';
