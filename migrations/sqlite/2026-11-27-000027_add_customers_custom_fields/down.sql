ALTER TABLE customers DROP COLUMN custom_fields;
