-- One account per email, compared folded.
CREATE UNIQUE INDEX IF NOT EXISTS users_by_email ON users (email_search);
