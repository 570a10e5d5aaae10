-- An organization's members, as listed.
CREATE INDEX IF NOT EXISTS users_by_organization ON users (organization_id, created_at);
