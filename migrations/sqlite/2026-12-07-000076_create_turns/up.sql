-- The same table as on PostgreSQL, where the sequencer takes its turn by
-- locking the row; SQLite's single writer already gives one turn at a time.
CREATE TABLE turns (
    organization_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    PRIMARY KEY (organization_id, name)
);
INSERT INTO turns (organization_id, name) VALUES ('', 'event-sequencer');
