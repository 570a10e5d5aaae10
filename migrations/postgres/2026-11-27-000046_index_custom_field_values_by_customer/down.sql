DROP INDEX IF EXISTS custom_field_values_by_customer;
