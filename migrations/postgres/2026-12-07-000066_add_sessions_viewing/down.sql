ALTER TABLE sessions DROP COLUMN changed_at;
ALTER TABLE sessions DROP COLUMN viewing;
