-- An Idempotency-Key is scoped to the organization and the mode: the same
-- key may be used in test mode and in live mode.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey, ADD PRIMARY KEY (organization_id, livemode, key);
