DROP INDEX IF EXISTS api_keys_revoked;
