-- A customer's events, for erasing the personal data they hold (and the
-- feed's customerId filter).
CREATE INDEX events_by_customer ON events (organization_id, customer_id);
