-- People who sign in to the console (contract section 13): members of one
-- organization, or platform operators (organization_id null). A person's
-- email is unique across the service, so that signing in by email names one
-- account. Looked up by email before any organization is known: under
-- Citus a reference table, like api_keys.
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT REFERENCES organizations (id),
    email             TEXT NOT NULL,
    -- The email folded for comparison (Unicode lowercase).
    email_search      TEXT NOT NULL,
    -- owner, developer, support, analyst, or operator
    role              TEXT NOT NULL,
    -- argon2id; null until the invite is accepted.
    password_hash     TEXT,
    -- SHA-256 of the invite's secret, and when it stops working; null once used.
    invite_hash       TEXT,
    invite_expires_at TIMESTAMP,
    -- The TOTP secret (base32) once two-step sign-in is enrolled, the last
    -- 30 s step a code was accepted for (a code works once), and the
    -- SHA-256 of each unused recovery code (JSON list).
    totp_secret       TEXT,
    totp_last_step    BIGINT,
    recovery_codes    TEXT,
    joined_at         TIMESTAMP,
    disabled_at       TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
