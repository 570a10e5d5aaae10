-- An invite link names its secret, found by its hash.
CREATE UNIQUE INDEX IF NOT EXISTS users_by_invite ON users (invite_hash);
