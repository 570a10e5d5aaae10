-- The audit log filtered by a person (a member or an operator), newest
-- first. Keys and tokens act on most events (and most writes), so a filter
-- on one reads the primary key. People's actions are rare and found here.
CREATE INDEX IF NOT EXISTS audit_events_by_actor ON audit_events (organization_id, actor_id, id) WHERE actor_type IN ('member', 'operator');
