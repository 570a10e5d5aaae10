ALTER TABLE api_keys DROP COLUMN previous_expires_at;
ALTER TABLE api_keys DROP COLUMN previous_secret_hash;
