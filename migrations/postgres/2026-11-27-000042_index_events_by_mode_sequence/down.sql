DROP INDEX IF EXISTS events_by_mode_sequence;
