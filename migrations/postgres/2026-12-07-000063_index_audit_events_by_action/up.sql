-- The audit log filtered by an action that is not a customer's change,
-- newest first. Customers' changes (most of the log, and most writes) stay
-- out of it: a filter on one of them reads the primary key, where they are
-- dense. The rest are rare and found here.
CREATE INDEX IF NOT EXISTS audit_events_by_action ON audit_events (organization_id, action, id) WHERE target_type <> 'customer';
