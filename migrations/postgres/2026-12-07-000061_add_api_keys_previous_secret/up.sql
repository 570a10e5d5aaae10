-- A rolled key's previous secret, which keeps working until the grace
-- period it was rolled with ends (contract section 13).
ALTER TABLE api_keys ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE api_keys ADD COLUMN previous_expires_at TIMESTAMP;
