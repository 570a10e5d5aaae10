-- Turns that one instance at a time takes across the whole deployment (the
-- event sequencer's): the turn's transaction locks its row with
-- FOR UPDATE SKIP LOCKED, and an instance that finds it locked skips the
-- turn. A row lock rather than an advisory lock because on Citus this row
-- lives on one shard, so servers connected to different nodes meet on it;
-- an advisory lock holds only on the node that took it. A turn of the whole
-- deployment belongs to no organization: its organization_id is ''.
CREATE TABLE turns (
    organization_id TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (organization_id, name)
);
INSERT INTO turns (organization_id, name) VALUES ('', 'event-sequencer');
