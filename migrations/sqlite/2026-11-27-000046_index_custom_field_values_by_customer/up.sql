-- A customer's values, replaced when its customFields change.
CREATE INDEX IF NOT EXISTS custom_field_values_by_customer ON custom_field_values (organization_id, customer_id);
