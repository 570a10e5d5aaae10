DROP TABLE custom_field_values;
