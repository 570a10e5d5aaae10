ALTER TABLE customers DROP COLUMN shipping_addresses;
