ALTER TABLE organizations DROP COLUMN disabled_at;
ALTER TABLE organizations DROP COLUMN require_two_step;
