-- One event to one endpoint, until it is delivered or has failed for good.
-- A dispatcher claims a due delivery by setting locked_until; an instance
-- that dies with a claim lets it expire, and the delivery is made again.
CREATE TABLE webhook_deliveries (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    endpoint_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    sequence        BIGINT NOT NULL,
    -- pending, delivered or failed
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, endpoint_id, event_id)
);
