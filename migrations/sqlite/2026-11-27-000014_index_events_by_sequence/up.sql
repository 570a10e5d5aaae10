-- The feed: an organization's sequenced events in order.
CREATE UNIQUE INDEX events_by_sequence ON events (organization_id, sequence)
    WHERE sequence IS NOT NULL;
