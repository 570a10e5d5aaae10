DROP INDEX IF EXISTS sessions_by_user;
