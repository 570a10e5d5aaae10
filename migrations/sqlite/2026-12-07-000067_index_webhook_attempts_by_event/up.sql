-- Every attempt at one event, for the console's timeline of a customer and
-- its deliveries' outcomes.
CREATE INDEX IF NOT EXISTS webhook_attempts_by_event ON webhook_attempts (organization_id, event_id);
