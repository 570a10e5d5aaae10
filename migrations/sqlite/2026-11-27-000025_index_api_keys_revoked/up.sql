-- Every instance asks twice a second whether a key was revoked since it last
-- looked: the revoked keys only.
CREATE INDEX IF NOT EXISTS api_keys_revoked ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;
