-- The organization a platform operator's console shows (they belong to
-- none; null for members, whose organization is their own), and when the
-- session's mode or that organization last changed (instances that cache
-- sessions see it move).
ALTER TABLE sessions ADD COLUMN viewing TEXT;
ALTER TABLE sessions ADD COLUMN changed_at TIMESTAMP;
