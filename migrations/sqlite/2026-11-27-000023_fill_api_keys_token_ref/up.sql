-- Keys made before tokens named them by reference get one.
UPDATE api_keys SET token_ref = lower(hex(randomblob(16))) WHERE token_ref IS NULL;
