-- Replaced by events_by_mode_sequence.
DROP INDEX IF EXISTS events_by_sequence;
