DROP INDEX IF EXISTS api_keys_by_token_ref;
