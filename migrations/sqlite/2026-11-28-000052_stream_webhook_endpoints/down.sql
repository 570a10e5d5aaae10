ALTER TABLE webhook_endpoints DROP COLUMN locked_until;
ALTER TABLE webhook_endpoints DROP COLUMN feed_head;
ALTER TABLE webhook_endpoints DROP COLUMN streamed_through;
