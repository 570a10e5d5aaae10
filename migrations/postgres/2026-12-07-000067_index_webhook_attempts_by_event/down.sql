DROP INDEX IF EXISTS webhook_attempts_by_event;
