DROP INDEX IF EXISTS audit_events_by_actor;
