-- Serves the pruning of events older than the retention.
CREATE INDEX events_by_created ON events (created_at);
