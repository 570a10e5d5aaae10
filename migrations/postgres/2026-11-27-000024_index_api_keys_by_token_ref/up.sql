-- Tokens find their key by it (api_keys is a reference table on Citus, so a
-- unique key without organization_id is allowed).
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_by_token_ref ON api_keys (token_ref);
