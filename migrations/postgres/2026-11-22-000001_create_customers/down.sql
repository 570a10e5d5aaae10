DROP TABLE customers;
DROP TABLE organizations;
