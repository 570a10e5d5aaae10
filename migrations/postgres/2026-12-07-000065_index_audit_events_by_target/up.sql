-- The audit log filtered by target, newest first.
CREATE INDEX IF NOT EXISTS audit_events_by_target ON audit_events (organization_id, target_id, id);
