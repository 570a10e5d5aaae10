-- An organization's settings (contract section 13): whether its members
-- must use two-step sign-in, and whether an operator disabled it.
ALTER TABLE organizations ADD COLUMN require_two_step BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN disabled_at TIMESTAMP;
