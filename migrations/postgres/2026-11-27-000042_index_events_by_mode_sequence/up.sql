-- Each mode of an organization has its own feed.
CREATE UNIQUE INDEX IF NOT EXISTS events_by_mode_sequence ON events (organization_id, livemode, sequence)
    WHERE sequence IS NOT NULL;
