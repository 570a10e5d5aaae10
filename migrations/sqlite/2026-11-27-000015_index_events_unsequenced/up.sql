-- What the sequencer has still to number.
CREATE INDEX events_unsequenced ON events (created_at, id) WHERE sequence IS NULL;
