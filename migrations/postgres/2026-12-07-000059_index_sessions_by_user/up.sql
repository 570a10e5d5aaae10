-- A member's sessions, ended together (password change, disable).
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
