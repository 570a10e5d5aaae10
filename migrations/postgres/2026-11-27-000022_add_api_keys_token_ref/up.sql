-- What a token names its minting key by: random, so that a token handed to
-- a browser does not publish the key's id (half of the key itself).
ALTER TABLE api_keys ADD COLUMN token_ref TEXT;
