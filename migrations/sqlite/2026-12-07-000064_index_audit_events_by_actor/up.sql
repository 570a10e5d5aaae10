-- The audit log filtered by actor, newest first.
CREATE INDEX IF NOT EXISTS audit_events_by_actor ON audit_events (organization_id, actor_id, id);
