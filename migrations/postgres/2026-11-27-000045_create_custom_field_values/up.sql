-- What the filter customFields.<name>=<value> looks up: one row per
-- customer and defined field it holds a value for, the value in a canonical
-- text of its type (integers in decimal, numbers in their shortest exact
-- form, times in UTC milliseconds), so equal values compare equal as text.
-- The customer's own custom_fields column stays what answers show.
CREATE TABLE custom_field_values (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    field           TEXT COLLATE "C" NOT NULL,
    value           TEXT NOT NULL,
    customer_id     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (organization_id, field, value, customer_id)
);
