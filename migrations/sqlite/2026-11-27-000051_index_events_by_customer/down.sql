DROP INDEX events_by_customer;
