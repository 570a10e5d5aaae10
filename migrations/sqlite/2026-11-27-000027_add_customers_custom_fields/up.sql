-- Custom-field values (contract section 10): an object of defined names to
-- typed values, as JSON text; null when it holds none.
ALTER TABLE customers ADD COLUMN custom_fields TEXT;
