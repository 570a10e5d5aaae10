-- Every event numbered so far already has its delivery rows (the sequencer
-- wrote them before streams): each stream starts after its feed's last number.
UPDATE webhook_endpoints
SET streamed_through = feeds.last, feed_head = feeds.last
FROM (SELECT organization_id, livemode, MAX(sequence) AS last
      FROM events WHERE sequence IS NOT NULL
      GROUP BY organization_id, livemode) AS feeds
WHERE feeds.organization_id = webhook_endpoints.organization_id
  AND feeds.livemode = webhook_endpoints.livemode;
