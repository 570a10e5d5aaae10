-- Each endpoint reads its mode's feed as a stream: the events numbered up
-- to streamed_through are handled (delivered, waiting as a delivery row
-- after a failed first attempt, or not subscribed to); the sequencer raises
-- feed_head to the feed's last number while the endpoint is enabled, and
-- the instance that leases the stream (locked_until) sends what is between.
-- No row per delivery unless an attempt fails.
ALTER TABLE webhook_endpoints ADD COLUMN streamed_through BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN feed_head BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN locked_until TIMESTAMP;
