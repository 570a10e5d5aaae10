-- Custom-field definitions (contract section 10), shared by both modes.
CREATE TABLE custom_fields (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    -- string, integer, number, boolean, date, datetime or enum
    type            TEXT NOT NULL,
    -- string: the longest value
    max_length      INTEGER,
    -- enum: JSON list of the allowed values
    allowed_values  TEXT,
    description     TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, name)
);
