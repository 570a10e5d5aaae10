-- Keys made before tokens named them by reference get one: a digest of the
-- key's salted secret hash, which no one who knows only the key's id can
-- compute (an immutable function, as Citus requires of updates to a
-- reference table).
UPDATE api_keys SET token_ref = md5('token:' || secret_hash) WHERE token_ref IS NULL;
