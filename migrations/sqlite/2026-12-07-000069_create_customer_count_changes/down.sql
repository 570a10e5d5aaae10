DROP TABLE customer_count_changes;
