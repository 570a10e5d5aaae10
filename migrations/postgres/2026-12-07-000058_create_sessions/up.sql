-- Console sessions, server-side (contract section 13): a sign-out or a
-- disable ends them on every instance at once. The cookie holds a random
-- secret; only its SHA-256 is kept. Under Citus a reference table (a
-- session is found before its organization is known).
CREATE TABLE sessions (
    id            TEXT COLLATE "C" PRIMARY KEY,
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    -- The anti-forgery token every state-changing request carries.
    csrf          TEXT NOT NULL,
    -- False while the console is switched to test mode.
    livemode      BOOLEAN NOT NULL,
    -- True between a right password and the two-step code.
    pending       BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL
);
