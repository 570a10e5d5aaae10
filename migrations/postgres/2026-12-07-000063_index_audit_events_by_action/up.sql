-- The audit log filtered by action, newest first.
CREATE INDEX IF NOT EXISTS audit_events_by_action ON audit_events (organization_id, action, id);
