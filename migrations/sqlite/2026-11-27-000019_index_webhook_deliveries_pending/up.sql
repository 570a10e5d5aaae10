-- What the dispatcher looks for: pending deliveries by the time they are due.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
