-- A presented key names its id alone. (On Citus this table is a reference
-- table, so a unique key without organization_id is allowed.)
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_by_id ON api_keys (id);
