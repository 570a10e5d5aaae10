-- An Idempotency-Key is scoped to the organization and the mode: the same
-- key may be used in test mode and in live mode. (Two statements: Citus
-- runs no ADD CONSTRAINT alongside another subcommand.)
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (organization_id, livemode, key);
