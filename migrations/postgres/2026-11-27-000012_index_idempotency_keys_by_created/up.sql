-- Serves the pruning of keys older than the window.
CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
