-- Shipping addresses (contract section 11): the list as JSON text, null
-- when empty.
ALTER TABLE customers ADD COLUMN shipping_addresses TEXT;
